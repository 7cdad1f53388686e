/**
 * The request pipeline's stages, each a small function with one job. The order is fixed in one
 * place, the handlers in core/pipeline/handlers.ts:
 *   authenticate → authorize → resolve route → (limits, cache: later issues) → call targets → respond
 */
import { GatewayError, badRequest, unauthorized, upstreamError } from '../errors.ts'
import type { Principal, ProviderCall } from '../plugins/types.ts'
import type { CompiledRoute, CompiledTarget } from '../runtime/routes.ts'
import type { Exchange } from './exchange.ts'

const ANONYMOUS: Principal = Object.freeze({ userId: 'anonymous', role: 'user', strategy: 'none' })

/** Who is calling: the first strategy that recognises the credential; anonymous when none are configured. */
export async function authenticate(x: Exchange): Promise<Principal> {
  const strategies = x.snapshot.auth
  if (strategies.length === 0) return (x.principal = ANONYMOUS)
  const req = { headers: x.ctx.headers, method: x.ctx.method, path: x.ctx.path }
  for (const { strategy } of strategies) {
    const principal = await strategy.authenticate(req)
    if (principal) return (x.principal = principal)
  }
  throw unauthorized('Missing or unrecognised credentials: send Authorization: Bearer <key>.', 'missing_credentials')
}

/** The route a client's `model` names. */
export function resolveRoute(x: Exchange, model: unknown): CompiledRoute {
  if (typeof model !== 'string' || model.length === 0) throw badRequest('`model` is required: a route name from /v1/models.', 'model', 'missing_model')
  const route = x.snapshot.routes.resolve(model)
  if (!route) {
    throw new GatewayError(`The model '${model}' does not exist or you do not have access to it.`, { status: 404, code: 'model_not_found', param: 'model' })
  }
  return (x.route = route)
}

/**
 * Call the route's targets by its strategy: `single` tries one; `fallback` tries each in order
 * while the failure is retryable. Each attempt gets the route's timeout and the client's abort.
 */
export async function callTargets<T>(x: Exchange, invoke: (target: CompiledTarget, call: ProviderCall) => Promise<T>): Promise<T> {
  const route = x.route!
  const candidates = route.strategy === 'single' ? route.targets.slice(0, 1) : route.targets
  let lastError: GatewayError | undefined
  for (const target of candidates) {
    x.attempts++
    x.provider = target.provider
    x.upstreamModel = target.model
    const signal = route.timeoutMs ? AbortSignal.any([x.signal, AbortSignal.timeout(route.timeoutMs)]) : x.signal
    const call: ProviderCall = {
      signal,
      requestId: x.requestId,
      unsupported(param, message) {
        const text = `${target.provider} does not support '${param}'${message ? `: ${message}` : ''}`
        if (route.strict) throw badRequest(`${text} (route '${route.name}' is strict).`, param, 'unsupported_parameter')
        x.warnings.push(`dropped '${param}': ${text}`)
      },
    }
    try {
      return await invoke(target, call)
    } catch (err) {
      lastError = asUpstreamError(err, signal, x.signal, target.provider)
      if (x.signal.aborted || !lastError.retryable) throw lastError
    }
  }
  throw lastError!
}

/** Whatever a provider threw, as a GatewayError: timeouts are 504, anything unknown 502. */
function asUpstreamError(err: unknown, attemptSignal: AbortSignal, clientSignal: AbortSignal, provider: string): GatewayError {
  if (err instanceof GatewayError) return err
  if (clientSignal.aborted) return new GatewayError('The client closed the connection.', { status: 499, code: 'client_closed_request' })
  if (attemptSignal.aborted) return upstreamError(undefined, '', { kind: 'timeout', provider, cause: err })
  return upstreamError(undefined, (err as Error)?.message ?? String(err), { kind: 'connection', provider, cause: err })
}
