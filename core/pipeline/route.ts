/** The `route` step: the first route for the client's `model` (after department overrides) whose `when` holds and that the caller may use; then its stages. */
import { GatewayError, badRequest } from '../../plugin-api/errors.ts'
import type { ModelDenial } from '../runtime/access.ts'
import { unsafeModelName } from '../../plugin-api/kit/model-names.ts'
import type { Exchange } from './exchange.ts'

export function resolveRoute(x: Exchange): void {
  const model = (x.request as { model?: unknown }).model
  if (typeof model !== 'string' || model.length === 0) throw badRequest('`model` is required: a route name from /v1/models.', 'model', 'missing_model')
  // A glob route passes the name on, and some providers put it in a URL (plugin-api/kit/model-names.ts).
  const unsafe = unsafeModelName(model)
  if (unsafe) throw badRequest(`This model name cannot be used: ${unsafe}.`, 'model', 'invalid_model')
  const { access, routes } = x.snapshot
  const routed = access.routeFor(x.principal, model)
  const resolved = routes.resolve(routed, { principal: x.principal, headers: x.headers, metadata: x.metadata ?? (x.request as { metadata?: Exchange['metadata'] }).metadata })
  if (!resolved) throw routes.unavailableFor(routed) ? notConfigured(x, model, routes.unavailableFor(routed)!) : new GatewayError(`The model '${model}' does not exist or you do not have access to it.`, { status: 404, code: 'model_not_found', param: 'model' })
  const denial = access.modelDenial(x.principal, model, resolved.route.name, routed)
  if (denial) throw modelForbidden(model, denial)
  x.compiledRoute = resolved.route
  x.requestedModel = routed
  x.stages = x.snapshot.stagesFor(resolved.route, x.operation)
  x.routed?.(x)
  if (x.span.isRecording()) x.span.setAttributes({ 'gen_ai.request.model': model, 'gateway.route': resolved.route.name })
}

/** The route exists, but every provider it names was left out (optional, its key unset): say which and why. */
function notConfigured(x: Exchange, model: string, unavailable: { route: string; providers: readonly string[] }): GatewayError {
  const reasons = unavailable.providers.map((p) => `${p} (${x.snapshot.disabledProviders.get(p) ?? 'not configured'})`)
  return new GatewayError(
    `The model '${model}' is served by route '${unavailable.route}', but its provider is not configured on this gateway: ${reasons.join(', ')}. Set the variable and restart the gateway (a reload keeps the environment it started with).`,
    { status: 404, code: 'provider_not_configured', param: 'model' },
  )
}

function modelForbidden(model: string, denial: ModelDenial): GatewayError {
  const param = 'model'
  switch (denial.reason) {
    case 'key':
      return new GatewayError(`This API key may not use the model '${model}'; GET /v1/models lists the models it may use.`, { status: 403, code: 'model_not_allowed', param })
    case 'department':
      return new GatewayError(`Your department (${denial.department}) may not use the model '${model}'; GET /v1/models lists the models you may use.`, { status: 403, code: 'model_not_allowed', param })
    case 'unknown_department':
      return new GatewayError(`Your department (${denial.department}) is not configured on this gateway, so it may use no model; ask an admin.`, { status: 403, code: 'department_not_configured', param })
  }
}
