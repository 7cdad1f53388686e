/** The kernel's own management routes, under /api/v1/admin: what the running config is doing now. */
import { reply, type RouteSpec, type Service } from '../plugins/types.ts'
import type { Snapshot } from '../runtime/snapshot.ts'

/** The admin routes of a snapshot (they read it, so each snapshot has its own). */
export function adminService(snapshot: Snapshot): Service {
  const routes: RouteSpec[] = [{
    method: 'GET',
    path: '/routes',
    summary: 'Every route, its targets and their live state (circuit, latency).',
    permission: 'manage_gateway',
    handle: () => {
      const now = Date.now()
      const data = snapshot.routes.all().map((route) => ({
        model: route.name,
        strategy: route.strategy,
        conditional: route.when !== undefined,
        // `config` for gateway.yaml's routes; a plugin's overlay names itself (`deployed`).
        source: typeof route.info.settings.source === 'string' ? route.info.settings.source : 'config',
        targets: route.targets.map((t) => ({
          provider: t.provider,
          model: t.model ?? null,
          weight: t.weight,
          timeout_ms: t.timeoutMs ?? null,
          retry: { attempts: t.retry.attempts, backoff_ms: t.retry.backoffMs, max_backoff_ms: t.retry.maxBackoffMs },
          circuit: t.health.describe(now),
        })),
      }))
      return reply(data, { meta: { config_version: snapshot.version } })
    },
  }]
  return { routes }
}
