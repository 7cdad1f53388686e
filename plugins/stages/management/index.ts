/**
 * stage.management: what every service's management API answer (`/api/v1/*`) shares, in the
 * `http` phase (around every route, so one place for all services, built-in or third-party):
 *  - a database error no repository mapped becomes the client's answer, not a 500: the store
 *    unreachable is 503 `store_unavailable` with a retry-after, text PostgreSQL cannot keep (a NUL
 *    character) is 400 `invalid_text` (the store kit's `storeFailure` says which); the same on the
 *    API surfaces' stored objects (`/v1/files`, `/v1/conversations`, `/v1/fine_tuning/jobs/{id}`...);
 *  - an outage is said in one warn line a minute, with how many answers it cost, instead of a
 *    stack per request;
 *  - each answer is counted in `gateway_management_requests_total{service,route,method,status}`
 *    (route templates, never raw paths), so operators can alert on management 5xx: the model
 *    requests' `gateway_requests_total` counts `/v1` exchanges only.
 * On in every gateway; takes no config.
 */
import { definePlugin, GatewayError, toGatewayError, type HttpMiddleware, type Stage, ThrottledLog } from '../../../plugin-api/index.ts'
import { storeFailure } from '../../store/kit/sql.ts'

/** The management API, in any case (the router matches paths case-insensitively). */
const MANAGEMENT_PATH = /^\/api\/v1(?:\/|$)/i

/** At most one "store unreachable" line this often, however many requests fail. */
export const OUTAGE_WARN_INTERVAL_MS = 60_000

export default definePlugin<Record<string, never>, Stage>({
  id: 'stage.management',
  kind: 'stage',
  description: 'The management API (/api/v1): store outages answered 503 store_unavailable (one warn line a minute), NUL text 400 (on the API surfaces\' stored objects too), every answer counted by service, route and status.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  enabledByDefault: true,
  setup(ctx) {
    const answers = ctx.metrics.counter('gateway_management_requests_total', 'Management API (/api/v1) answers by service, route template, method and status.', ['service', 'route', 'method', 'status'])
    // Kept across reloads: a reload during an outage does not say it again.
    const outage = ctx.keep('store-outage-log', () => new ThrottledLog(OUTAGE_WARN_INTERVAL_MS))
    /** A database error no repository mapped, as the client's answer; anything else as it came. */
    const storeError = (err: unknown): never => {
      const mapped = err instanceof GatewayError ? undefined : storeFailure(err)
      if (mapped?.code !== 'store_unavailable') throw mapped ?? err
      outage.note('store', (answers) => ctx.logger.warn({ err: (err as Error).message, answers, next_line_in_s: OUTAGE_WARN_INTERVAL_MS / 1000 },
        'the store is unreachable: requests that need it are answered 503 store_unavailable (this line repeats at most once a minute while it lasts)'))
      // Said above, once a minute: the kernel writes the answer but no line of its own for each one.
      throw new GatewayError(mapped.message, { status: mapped.status, code: mapped.code, retryable: mapped.retryable, headers: mapped.headers, cause: err, logged: true })
    }
    const managed: HttpMiddleware = async (c, next) => {
      let status = 500
      try {
        await next().catch(storeError)
        status = c.status
      } catch (err) {
        status = toGatewayError(err).status
        throw err
      } finally {
        const route = routeTemplate(c)
        answers.inc({ service: route.split('/')[3] ?? '', route, method: c.method, status })
      }
    }
    // Every /v1 request passes here: a model request's errors are answered inside its route, so this catches only a surface's stored objects'.
    const http: HttpMiddleware = (c, next) => (MANAGEMENT_PATH.test(c.path) ? managed(c, next) : next().catch(storeError))
    return {
      // Outermost of the http hooks: what another one answers itself (a CORS preflight) is counted too.
      priority: 2000,
      http,
    }
  },
})

/** The route that answered, as mounted (`/api/v1/keys/:id`: the kernel's `ctx.state.route`), or '' when none did (an unknown path: its raw text would make a series per path). */
function routeTemplate(c: Parameters<HttpMiddleware>[0]): string {
  return typeof c.state.route === 'string' ? c.state.route : ''
}
