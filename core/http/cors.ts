/** `cors:` (@koa/cors) on /v1 and /api/v1, from the snapshot a request is pinned to so a reload changes it; no headers at all without `cors:`. */
import type Koa from 'koa'
import koaCors from '@koa/cors'
import type { CorsConfig } from '../config/types.ts'
import type { Snapshot } from '../runtime/snapshot.ts'

/** What a browser script may read of a response. */
const EXPOSED = ['x-request-id', 'x-gateway-route', 'x-gateway-provider', 'x-gateway-model', 'x-gateway-attempts', 'x-gateway-warning', 'retry-after']

/** Only the public APIs; the console (same origin) and the kernel's /health and /metrics need none. */
const CORS_PATH = /^\/(v1|api\/v1)(\/|$)/

export function corsMiddleware(): Koa.Middleware {
  const bySnapshot = new WeakMap<CorsConfig, Koa.Middleware>()
  return (ctx, next) => {
    const config = (ctx.state.snapshot as Snapshot).config.cors
    if (!config || !CORS_PATH.test(ctx.path)) return next()
    let middleware = bySnapshot.get(config)
    if (!middleware) bySnapshot.set(config, (middleware = build(config)))
    return middleware(ctx, next)
  }
}

function build(config: CorsConfig): Koa.Middleware {
  const anyOrigin = config.origins.includes('*') && !config.credentials
  const allowed = new Set(config.origins)
  return koaCors({
    // An origin not listed gets no Access-Control-Allow-Origin: the browser refuses the answer.
    origin: (ctx) => {
      const origin = ctx.get('origin')
      if (anyOrigin) return '*'
      return allowed.has(origin) ? origin : ''
    },
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    // Not listed: the headers the preflight asks for (the SDKs' own vary by SDK and version), for listed origins only.
    allowHeaders: config.headers,
    exposeHeaders: EXPOSED,
    credentials: config.credentials ?? false,
    maxAge: config.max_age_s ?? 600,
    // Error answers keep their CORS headers, so a browser app can read a 401 or a 429.
    keepHeadersOnError: true,
  })
}
