/**
 * Sign-in: through the gateway's OpenID Connect issuer (e.g. Microsoft Entra ID) when one is
 * configured, or with an API key, which the gateway trades for a session cookie (the key itself
 * is not kept in the browser).
 */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { KeyRoundIcon, LogInIcon } from 'lucide-react'
import { useState, type FormEvent } from 'react'
import { ApiError, api, appPath, gatewayUrl } from '@/api/client'
import { ME_KEY } from '@/auth/session'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Button } from '@/components/ui/button'
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '@/components/ui/card'
import { Input } from '@/components/ui/input'
import { Label } from '@/components/ui/label'
import { Skeleton } from '@/components/ui/skeleton'

const CALLBACK_ERRORS: Record<string, string> = {
  login_expired: 'The sign-in took too long or was started in another browser; try again.',
  login_failed: 'The identity provider did not confirm the sign-in; try again.',
  access_denied: 'The identity provider refused the sign-in.',
}

function callbackError(): string | undefined {
  const code = new URLSearchParams(window.location.search).get('error')
  return code ? CALLBACK_ERRORS[code] ?? `Sign-in failed (${code}).` : undefined
}

/** The console page to open after sign-in: the one the person asked for (this page shows at any path until they sign in). */
function returnTo(): string {
  const to = new URLSearchParams(window.location.search).get('return_to')
  if (to && to.startsWith('/') && !to.startsWith('//')) return to
  const here = appPath(window.location.pathname)
  return here === '/sign-in' ? '/' : `${here}${window.location.search}${window.location.hash}`
}

export default function SignInPage() {
  const queryClient = useQueryClient()
  const options = useQuery({ queryKey: ['auth', 'options'], queryFn: async ({ signal }) => (await api('/auth/options', { signal })).data })
  const [key, setKey] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(callbackError)

  async function signInWithKey(event: FormEvent) {
    event.preventDefault()
    setBusy(true)
    setError(undefined)
    try {
      await api('/auth/session', { method: 'POST', headers: { authorization: `Bearer ${key.trim()}` } })
      try {
        await api('/auth/me')
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          throw new Error('The key is valid, but this gateway does not accept console sessions: add `- plugin: session` first under auth.strategies in gateway.yaml.')
        }
        throw err
      }
      setKey('')
      window.history.replaceState(null, '', gatewayUrl(returnTo()))
      await queryClient.invalidateQueries({ queryKey: ME_KEY })
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That key was not accepted: it is unknown, revoked or expired.' : (err as Error).message)
    } finally {
      setBusy(false)
    }
  }

  const oidc = options.data?.oidc
  return (
    <div className="flex min-h-full items-center justify-center bg-gradient-to-b from-primary/5 to-background p-4">
      <Card className="w-full max-w-sm">
        <CardHeader className="items-center pt-8 text-center">
          <img src="favicon.svg" alt="" className="mb-2 size-10" />
          <CardTitle className="text-xl">Sign in to AI Gateway</CardTitle>
          <CardDescription>Chat, keys and usage for your team.</CardDescription>
        </CardHeader>
        <CardContent className="space-y-5 pb-8">
          <ApiErrorAlert error={error} />
          {options.isPending && <Skeleton className="h-10 w-full" />}
          {options.data && !oidc && !options.data.api_key && (
            <Alert><AlertDescription>No way to sign in is enabled on this gateway: ask an admin to configure services.auth.</AlertDescription></Alert>
          )}
          <ApiErrorAlert error={options.error} prefix="Sign-in options could not be loaded: " />
          {oidc && (
            <>
              <Button asChild size="lg" className="w-full">
                <a href={`${gatewayUrl('/api/v1/auth/login')}?return_to=${encodeURIComponent(returnTo())}`}>
                  <LogInIcon /> Sign in with {oidc.label}
                </a>
              </Button>
              {options.data?.api_key && (
                <div className="flex items-center gap-3 text-xs text-muted-foreground">
                  <span className="h-px flex-1 bg-border" /> or with an API key <span className="h-px flex-1 bg-border" />
                </div>
              )}
            </>
          )}
          {options.data?.api_key && (
            <form onSubmit={signInWithKey} className="space-y-3">
              <div className="space-y-2">
                <Label htmlFor="api-key">API key</Label>
                <Input id="api-key" type="password" autoComplete="off" placeholder="gw-…" value={key} onChange={(e) => setKey(e.target.value)} required />
              </div>
              <Button type="submit" variant={oidc ? 'outline' : 'default'} className="w-full" disabled={busy || key.trim() === ''}>
                <KeyRoundIcon /> {busy ? 'Signing in…' : 'Sign in with key'}
              </Button>
            </form>
          )}
        </CardContent>
      </Card>
    </div>
  )
}
