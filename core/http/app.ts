/** The Koa app: request id, snapshot pinning, error mapping, access log, the kernel's routes, and the pinned snapshot's stages' `http` phase, surfaces and services. */
import Koa from 'koa'
import Router from '@koa/router'
import { accessLog, type Logger } from '../logger.ts'
import type { ReloadController } from '../runtime/controller.ts'
import type { Snapshot } from '../runtime/snapshot.ts'
import { GatewayError, notFound } from '../../plugin-api/errors.ts'
import { withDeadline } from '../../plugin-api/kit/deadline.ts'
import { randomUuid } from '../../plugin-api/kit/ids.ts'
import { respondWithError } from './errors.ts'
import { snapshotRouter } from './routes.ts'
import type { Exchange } from '../pipeline/exchange.ts'
import type { ClusterPeers } from '../runtime/cluster.ts'

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/
/** The paths of the kernel's probes, as their router matches them (any case, one trailing slash). */
const PROBE_PATH = /^\/(?:health|ready|metrics)\/?$/i

export function createApp(controller: ReloadController, logger: Logger, cluster?: ClusterPeers): Koa {
  const app = new Koa()
  const access = accessLog(logger)
  app.proxy = true
  app.silent = true
  // Each snapshot's routes are built once: the first one's now, a reloaded one's on its first request.
  const routers = new WeakMap<Snapshot, Router.Middleware>([[controller.current, snapshotRouter(controller.current)]])

  app.use(async (ctx, next) => {
    // Node's request and response directly: koa's ctx.get / ctx.set go through getters and make three arrays per header.
    const incoming = ctx.req.headers['x-request-id']
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUuid()
    ctx.state.requestId = requestId
    ctx.res.setHeader('x-request-id', requestId)
    const snapshot = controller.current
    snapshot.enter()
    ctx.state.snapshot = snapshot
    const started = performance.now()
    // 'close' fires once the response is finished or the connection dropped: streams included.
    ctx.res.once('close', () => {
      snapshot.leave()
      const status = ctx.res.writableFinished ? ctx.res.statusCode : 499
      const line = { reqId: requestId, method: ctx.method, path: ctx.path, status, ms: Math.round(performance.now() - started), error: (ctx.state.streamError as { code?: string } | undefined)?.code }
      access(withExchange(line, ctx.state.exchange as Exchange | undefined))
    })
    try {
      await next()
      if (ctx.respond !== false && ctx.body == null) {
        if (ctx.status === 404) throw notFound(`No route for ${ctx.method} ${ctx.path}.`, 'unknown_url')
        if (ctx.status === 405) throw new GatewayError(`${ctx.method} is not allowed on ${ctx.path}; use ${ctx.response.get('allow')}.`, { status: 405, code: 'method_not_allowed', type: 'invalid_request_error' })
        if (ctx.status === 501) throw new GatewayError(`${ctx.method} is not implemented.`, { status: 501, code: 'not_implemented' })
      }
    } catch (err) {
      const error = respondWithError(ctx, err)
      if (error.status >= 500 && error.code === 'internal_error') logger.error({ reqId: requestId, err }, 'unhandled error')
      else if (error.status >= 500 && !error.logged) {
        // The cause goes in `error`: a second `msg` key would replace the line's own in JSON pipelines.
        logger.warn(withExchange({ reqId: requestId, status: error.status, code: error.code, error: error.message }, ctx.state.exchange as Exchange | undefined), 'upstream error')
      }
    }
  })

  // Only a probe's path goes through the probes' router: a router's dispatch costs every other request ~20 µs (bench/RESULTS.md).
  const probes = probeRoutes(controller, cluster)
  app.use((ctx, next) => (PROBE_PATH.test(ctx.path) ? probes(ctx as never, next) : next()))
  app.use((ctx, next) => {
    const snapshot = ctx.state.snapshot as Snapshot
    let routes = routers.get(snapshot)
    if (!routes) routers.set(snapshot, (routes = snapshotRouter(snapshot)))
    return routes(ctx as never, next)
  })
  return app
}

/** The kernel's own routes, a worker's probes too: /health, /ready (of the pinned snapshot, else the current), /metrics. */
export function probeRoutes(controller: ReloadController, cluster?: ClusterPeers): Router.Middleware {
  const kernel = new Router()
  kernel.get('/health', (ctx) => { ctx.body = { ...health(controller), ...(cluster ? { workers: cluster.workers() } : {}) } })
  kernel.get('/ready', async (ctx) => {
    const { ready, backends } = await readiness((ctx.state.snapshot as Snapshot | undefined) ?? controller.current)
    ctx.status = ready ? 200 : 503
    ctx.body = { status: ready ? 'ready' : 'not_ready', backends }
  })
  kernel.get('/metrics', async (ctx) => {
    const { registry } = controller.shared.metrics
    ctx.type = registry.contentType
    ctx.body = await registry.metrics()
  })
  return kernel.routes()
}

/** `fields` and what a model request became, for its log lines: a field not reached stays undefined, which pino leaves out (added in place: spreads cost the access line ~1 µs). */
function withExchange(fields: Record<string, unknown>, x: Exchange | undefined): Record<string, unknown> {
  if (!x) return fields
  fields.route = x.compiledRoute?.name
  fields.model = x.requestedModel || undefined
  fields.provider = x.provider
  fields.upstream_model = x.upstreamModel
  fields.attempts = x.attempts
  fields.cache = x.cacheHit ? 'hit' : undefined
  fields.prompt_tokens = x.usage?.prompt_tokens
  fields.completion_tokens = x.usage?.completion_tokens
  return fields
}

function health(controller: ReloadController): Record<string, unknown> {
  const snapshot = controller.current
  const lastError = controller.lastError
  return {
    status: lastError ? 'degraded' : 'ok',
    pid: process.pid,
    config: {
      version: snapshot.version,
      loaded_at: snapshot.loadedAt.toISOString(),
      source: snapshot.source,
      last_error: lastError ? { at: lastError.at.toISOString(), message: lastError.message, issues: lastError.issues } : null,
      restart_required: controller.restartRequired,
      providers_disabled: Object.fromEntries(snapshot.disabledProviders),
      routes_unavailable: snapshot.routes.unavailable,
      reloads: controller.reloadCounts,
    },
  }
}

const READY_TIMEOUT_MS = 2000

async function readiness(snapshot: Snapshot): Promise<{ ready: boolean; backends: Record<string, string> }> {
  const backends: Record<string, string> = {}
  await Promise.all(snapshot.backends().map(async ([name, instance]) => {
    try {
      await withDeadline(Promise.resolve(instance.ready?.()), READY_TIMEOUT_MS, 'no answer within 2 s')
      backends[name] = 'ok'
    } catch (err) {
      backends[name] = `down: ${(err as Error).message}`
    }
  }))
  return { ready: Object.values(backends).every((s) => s === 'ok'), backends }
}
