/**
 * The request pipeline's stages, each a small function with one job. The order is fixed in one
 * place, the handlers in core/pipeline/handlers.ts:
 *   authenticate → authorize → resolve route → limits and budgets (limits.ts) → cache (cache.ts)
 *   → call targets (route-call.ts) → respond → account (core/usage/record.ts)
 */
import { GatewayError, badRequest, unauthorized } from '../errors.ts'
import { inSpan } from '../tracing.ts'
import { unsafeModelName } from '../api/model-names.ts'
import type { Principal } from '../plugins/types.ts'
import type { CompiledRoute } from '../runtime/routes.ts'
import { Permission } from '../runtime/access.ts'
import { authorizeModel, requirePermission } from './authorize.ts'
import type { Exchange } from './exchange.ts'

/**
 * With no `auth:` strategies configured the gateway is open: every caller is this anonymous admin
 * (the startup log warns). Configure auth before exposing the gateway.
 */
const ANONYMOUS: Principal = Object.freeze({ userId: 'anonymous', role: 'admin', strategy: 'none' })

/** Who is calling: the first strategy that recognises the credential; anonymous when none are configured. */
export async function authenticate(x: Exchange): Promise<Principal> {
  const strategies = x.snapshot.auth
  if (strategies.length === 0) return (x.principal = ANONYMOUS)
  return inSpan(x.span, 'gateway.authenticate', async () => {
    const req = { headers: x.ctx.headers, method: x.ctx.method, path: x.ctx.path }
    for (const { strategy } of strategies) {
      const principal = await strategy.authenticate(req)
      if (principal) return (x.principal = principal)
    }
    throw unauthorized('Missing or unrecognised credentials: send Authorization: Bearer <key> (or x-api-key).', 'missing_credentials')
  })
}

/** Gateway admin endpoints (/api/v1/admin): the `manage_gateway` permission (admins have it through `*`). */
export function requireAdmin(x: Exchange): void {
  requirePermission(x, Permission.manageGateway)
}

/**
 * The route a client's `model` names (or the caller's department overrides it with): the first
 * whose `when` conditions hold for this request, and one the caller's department and key may use.
 */
export function resolveRoute(x: Exchange, model: unknown, metadata?: Readonly<Record<string, unknown>> | null): CompiledRoute {
  if (typeof model !== 'string' || model.length === 0) throw badRequest('`model` is required: a route name from /v1/models.', 'model', 'missing_model')
  // A glob route passes the name on, and some providers put it in a URL (core/api/model-names.ts).
  const unsafe = unsafeModelName(model)
  if (unsafe) throw badRequest(`This model name cannot be used: ${unsafe}.`, 'model', 'invalid_model')
  const routed = x.snapshot.access.routeFor(x.principal, model)
  const resolved = x.snapshot.routes.resolve(routed, { principal: x.principal, headers: x.ctx.headers, metadata })
  if (!resolved) {
    throw new GatewayError(`The model '${model}' does not exist or you do not have access to it.`, { status: 404, code: 'model_not_found', param: 'model' })
  }
  authorizeModel(x, model, routed, resolved.route)
  x.requestedModel = routed
  if (x.span.isRecording()) x.span.setAttributes({ 'gen_ai.request.model': model, 'gateway.route': resolved.route.name })
  return (x.route = resolved.route)
}

/** Tell the client what happened: which route, provider and model answered, after how many attempts. */
export function setGatewayHeaders(x: Exchange): void {
  const { ctx } = x
  if (x.route) ctx.set('x-gateway-route', x.route.name)
  if (x.provider) ctx.set('x-gateway-provider', x.provider)
  if (x.upstreamModel) ctx.set('x-gateway-model', x.upstreamModel)
  ctx.set('x-gateway-attempts', String(x.attempts))
  if (x.warnings.length) ctx.set('x-gateway-warning', x.warnings.join('; '))
}
