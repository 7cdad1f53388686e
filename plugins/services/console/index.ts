/**
 * service.console: the web console (console/, a React app built to console/dist at install) at
 * `/` on the gateway's own port. Its pages are public: the app itself holds no data, and signs in
 * through /api/v1/auth before it asks the APIs for any.
 *
 * - Hashed assets (/assets/*): a year-long immutable cache; a new build has new names.
 * - index.html, and every client-side route (/chat, /keys...) as the single-page app's fallback:
 *   no-cache (revalidated with its ETag), so a new build is picked up at the next load (build.ts
 *   reads it again when it changes, a first build after a start without one too), with a
 *   content security policy that allows only the gateway's own origin.
 * - Brotli or gzip from the build's precompressed files, when the client accepts them.
 * - /v1 and /api paths are never answered here: an unknown API path stays a 404 in the API's shape.
 * - Behind a reverse proxy that strips a prefix (services.auth.public_url https://host/gateway), the
 *   page's <base href> says /gateway/: the build's URLs are relative, so they all go through it.
 *
 *   services: { console: {} }
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { definePlugin, notFound, raw, type RouteRequest, type RouteSpec, type Service } from '../../../plugin-api/index.ts'
import { Sessions } from '../../contracts/sessions.ts'
import { pickEncoding, type Asset } from './assets.ts'
import { ConsoleBuild } from './build.ts'
import { PAGE_SECURITY_HEADERS } from '../kit/page-headers.ts'

interface ConsoleConfig {
  dir?: string
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dir: { type: 'string', minLength: 1, description: 'The built console (relative to gateway.yaml). Default: the console/dist the install built.' },
  },
}

const BUILT_DIR = fileURLToPath(new URL('../../../console/dist', import.meta.url))

const IMMUTABLE = 'public, max-age=31536000, immutable'

/** Every path but the APIs' and their documentation's (/v1, /api, /docs and below): those stay 404s in their own shape when no route takes them. */
const PAGE_PATH = '/:path((?!(?:v1|api|docs)(?:/|$)).*)'

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>AI Gateway</title>
<body style="font:16px system-ui;max-width:40rem;margin:4rem auto;padding:0 1rem">
<h1>The console is not built</h1><p>The gateway is running; its web console has not been built in this install.
Run <code>npm ci</code> (it builds the console) or <code>npm run build:console</code>, then reload this page.</p>`

function header(headers: RouteRequest['headers'], name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value.join(',') : value
}

function send(asset: Asset, req: Pick<RouteRequest, 'headers'>, extra: Readonly<Record<string, string>>) {
  const headers: Record<string, string> = { etag: asset.etag, vary: 'accept-encoding', ...extra }
  if (header(req.headers, 'if-none-match')?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === asset.etag)) {
    return raw('', asset.contentType, { status: 304, headers })
  }
  const encoding = pickEncoding(header(req.headers, 'accept-encoding'), asset)
  if (encoding) headers['content-encoding'] = encoding
  return raw(encoding === 'br' ? asset.br! : encoding === 'gzip' ? asset.gzip! : asset.body, asset.contentType, { headers })
}

export function consoleService(build: ConsoleBuild): Service {
  const page: RouteSpec<unknown, unknown, { path?: string }> = {
    method: 'GET',
    path: PAGE_PATH,
    summary: 'The web console: its files, and index.html for its client-side routes.',
    permission: null,
    public: true,
    async handle(req) {
      const urlPath = `/${req.params.path ?? ''}`
      const asset = build.file(urlPath)
      if (asset && urlPath !== '/index.html') return send(asset, req, { 'cache-control': asset.hashed ? IMMUTABLE : 'public, max-age=3600', 'x-content-type-options': 'nosniff' })
      // A missing file (an old build's chunk) must not be answered with the page: the browser would run HTML as a script.
      if (urlPath.startsWith('/assets/') || /\.[a-z0-9]+$/i.test(urlPath)) throw notFound(`No file ${urlPath}.`, 'unknown_url')
      if (!(await build.refresh())) return raw(NOT_BUILT, 'text/html; charset=utf-8', { status: 503, headers: { 'cache-control': 'no-store' } })
      return send(build.file('/index.html')!, req, { 'cache-control': 'no-cache', ...PAGE_SECURITY_HEADERS })
    },
  }
  return { pages: [page] }
}

export default definePlugin<ConsoleConfig, Service>({
  id: 'service.console',
  kind: 'service',
  description: 'The web console (a single-page app) at / on the gateway\'s port.',
  configSchema,
  // Sign-in's public_url says where people open the console: its path is the prefix behind a reverse proxy.
  uses: [Sessions],
  async setup(ctx, config) {
    const dir = config.dir ? path.resolve(ctx.configDir, config.dir) : BUILT_DIR
    const basePath = `${ctx.tryGet(Sessions)?.publicUrl?.pathname.replace(/\/+$/, '') ?? ''}/`
    const build = new ConsoleBuild(dir, basePath)
    if (!(await build.refresh())) ctx.logger.warn({ dir }, 'the console is not built: run `npm run build:console` (npm ci does it); / says so until then, and serves it once built')
    else ctx.logger.info({ dir, basePath }, `console ready at ${basePath}`)
    return consoleService(build)
  },
})
