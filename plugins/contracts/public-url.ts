/**
 * Where clients reach the gateway, for the absolute URLs it hands out (a message batch's `results_url`, sign-in's
 * redirects): service.auth's `public_url` when configured (its path the prefix a reverse proxy strips), else what the
 * request says (behind a proxy: X-Forwarded-Proto and X-Forwarded-Host, else Host).
 */
type Headers = Readonly<Record<string, string | string[] | undefined>>

const header = (headers: Headers, name: string): string | undefined => {
  const value = headers[name]
  return typeof value === 'string' ? value : undefined
}

/** The gateway's base URL, without a trailing slash: `https://host/gateway`, or `http://127.0.0.1:8080`. */
export function publicBase(publicUrl: string | URL | undefined, headers: Headers): string {
  if (publicUrl) return String(publicUrl).replace(/\/+$/, '')
  const proto = header(headers, 'x-forwarded-proto')?.split(',')[0]?.trim() === 'https' ? 'https' : 'http'
  return `${proto}://${header(headers, 'x-forwarded-host') ?? header(headers, 'host') ?? 'localhost'}`
}
