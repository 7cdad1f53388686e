/** The kernel's own management routes, under /api/v1/admin: what the running config is doing now. */
import { GatewayError } from '../errors.ts'
import { reply, type RouteSpec, type Service } from '../plugins/types.ts'
import type { Snapshot } from '../runtime/snapshot.ts'

/** What the admin API may do to the gateway beyond reading a snapshot. */
export interface AdminActions {
  /** Reload the config now (every worker's, with --workers): the outcome of this process's reload. */
  reload(): Promise<{ status: 'reloaded' | 'unchanged'; version: string } | { status: 'failed'; message: string; issues: readonly unknown[] }>
}

/** The admin routes of a snapshot (they read it, so each snapshot has its own). */
export function adminService(snapshot: Snapshot, actions: AdminActions): Service {
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
  }, {
    method: 'POST',
    path: '/reload',
    summary: 'Reload the config now, as SIGHUP does (every worker, with --workers); 422 with the issues when the new config is refused.',
    permission: 'manage_gateway',
    handle: async () => {
      const outcome = await actions.reload()
      if (outcome.status === 'failed') {
        throw new GatewayError(`The config was not reloaded: ${outcome.message}`, { status: 422, code: 'config_invalid', details: outcome.issues })
      }
      return reply(outcome, { meta: { config_version: outcome.version } })
    },
  }]
  return { routes }
}
