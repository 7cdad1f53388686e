/** Kernel admin endpoints under /api/v1/admin: what the running config is doing right now. */
import type Koa from 'koa'
import { envelope } from '../http/errors.ts'
import { newExchange } from './exchange.ts'
import { authenticate, requireAdmin } from './stages.ts'

/** GET /api/v1/admin/routes: every route, its targets and their live state (circuit, latency). */
export async function adminRoutes(ctx: Koa.Context): Promise<void> {
  const x = newExchange(ctx)
  await authenticate(x)
  requireAdmin(x)
  const now = Date.now()
  const routes = x.snapshot.routes.all().map((route) => ({
    model: route.name,
    strategy: route.strategy,
    conditional: route.when !== undefined,
    targets: route.targets.map((t) => ({
      provider: t.provider,
      model: t.model ?? null,
      weight: t.weight,
      timeout_ms: t.timeoutMs ?? null,
      retry: { attempts: t.retry.attempts, backoff_ms: t.retry.backoffMs, max_backoff_ms: t.retry.maxBackoffMs },
      circuit: t.health.describe(now),
    })),
  }))
  ctx.body = envelope(routes, x.requestId, 'ok', { config_version: x.snapshot.version })
}
