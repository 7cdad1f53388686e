/**
 * service.admin: the gateway's management routes under /api/v1/admin: every model route with its
 * targets' live state, and a reload. It reads the running gateway through the kernel's
 * GatewayControl capability, so it answers for the current config after every reload, and the
 * targets' circuits through stage.routing's Circuits (null when that stage is off). A reload is
 * recorded in the audit trail (service.audit), when the gateway keeps one.
 */
import { GatewayControl, GatewayError, definePlugin, isGlob, reply, type JsonSchema, type Service } from '../../../plugin-api/index.ts'
import { EMPTY_BODY_SCHEMA, listOf, nullable, recordSchema } from '../kit/schema.ts'
import { Circuits } from '../../contracts/circuits.ts'
import { AuditLog } from '../../contracts/capabilities.ts'
import { auditTo } from '../../contracts/audit.ts'

// What the routes answer (the envelope's `data`), for the OpenAPI document and the console's types.
const COUNT: JsonSchema = { type: 'integer', minimum: 0 }
const CIRCUIT_FIELDS: Record<string, JsonSchema> = {
  state: { enum: ['closed', 'open', 'half-open'] }, recent_failures: COUNT,
  retry_in_ms: { ...COUNT, description: 'Until an open circuit lets a probe through.' }, latency_ms: { type: ['number', 'null'], description: 'Moving average.' },
}
const CIRCUIT_SCHEMA = recordSchema(CIRCUIT_FIELDS)
const OPEN_MODELS_SCHEMA = {
  ...listOf(recordSchema({ model: { type: 'string' }, ...CIRCUIT_FIELDS })),
  description: 'A glob route\'s target without a model of its own keeps a breaker per model it sends (its `circuit` gives only its latency): those open or half-open, by model name. Null for other targets.',
}
const ROUTE_SCHEMA = recordSchema({
  model: { type: 'string' }, strategy: { type: 'string' }, conditional: { type: 'boolean', description: 'The route has a `when:`.' },
  source: { type: 'string', description: '`config` for gateway.yaml\'s routes; a plugin\'s overlay names itself (`deployed`).' },
  targets: listOf(recordSchema({
    provider: { type: 'string' }, model: { type: ['string', 'null'] }, weight: { type: 'number' }, timeout_ms: { type: ['integer', 'null'] },
    retry: recordSchema({ attempts: COUNT, backoff_ms: COUNT, max_backoff_ms: COUNT }), circuit: nullable(CIRCUIT_SCHEMA), open_models: nullable(OPEN_MODELS_SCHEMA),
  })),
})
const RELOADED_SCHEMA = recordSchema({ status: { enum: ['reloaded', 'unchanged'] }, version: { type: 'string' } })

/** Whether a route's target keeps a breaker per model it sends (stage.routing's breakers.ts): one of a glob route with no model of its own. */
const perModel = (route: string, model: string | undefined): boolean => model === undefined && isGlob(route)

export default definePlugin<Record<string, never>, Service>({
  id: 'service.admin',
  kind: 'service',
  description: 'Management routes under /api/v1/admin: the model routes with their targets\' live state, and a config reload.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  enabledByDefault: true,
  uses: [GatewayControl, Circuits, AuditLog],
  setup(ctx) {
    const control = ctx.get(GatewayControl)
    const circuits = ctx.tryGet(Circuits)
    const audit = auditTo(ctx.tryGet(AuditLog), ctx.logger)
    return {
      routes: [{
        method: 'GET',
        path: '/routes',
        summary: 'Every route, its targets and their live state (circuit, latency).',
        permission: 'manage_gateway',
        response: listOf(ROUTE_SCHEMA),
        handle: () => {
          const now = Date.now()
          const { version, routes } = control.routes()
          const data = routes.map((route) => ({
            model: route.info.name,
            // stage.routing's default when the route names none.
            strategy: route.info.settings.strategy ?? (route.targets.length > 1 ? 'fallback' : 'single'),
            conditional: route.when !== undefined,
            // `config` for gateway.yaml's routes; a plugin's overlay names itself (`deployed`).
            source: typeof route.info.settings.source === 'string' ? route.info.settings.source : 'config',
            targets: route.targets.map((t) => ({
              provider: t.provider,
              model: t.model ?? null,
              weight: t.weight,
              timeout_ms: t.timeoutMs ?? null,
              retry: { attempts: t.retry.attempts, backoff_ms: t.retry.backoffMs, max_backoff_ms: t.retry.maxBackoffMs },
              circuit: circuits?.describe(t.provider, t.model, now) ?? null,
              open_models: perModel(route.info.name, t.model) ? circuits?.openModels(t.provider, now) ?? null : null,
            })),
          }))
          return reply(data, { meta: { config_version: version } })
        },
      }, {
        method: 'POST',
        path: '/reload',
        summary: 'Reload the config now, as SIGHUP does (every worker, with --workers); 422 with the issues when the new config is refused.',
        permission: 'manage_gateway',
        body: EMPTY_BODY_SCHEMA,
        response: RELOADED_SCHEMA,
        handle: async (req) => {
          const outcome = await control.reload('admin API')
          // Who reloaded, and what came of it (a refused config too: someone tried).
          await audit(req, {
            action: 'config.reload', target: { type: 'config', id: 'gateway.yaml' },
            details: outcome.status === 'failed' ? { status: outcome.status, message: outcome.message } : { status: outcome.status, version: outcome.version },
          })
          if (outcome.status === 'failed') {
            throw new GatewayError(`The config was not reloaded: ${outcome.message}`, { status: 422, code: 'config_invalid', details: outcome.issues })
          }
          return reply(outcome, { meta: { config_version: outcome.version } })
        },
      }],
    }
  },
})
