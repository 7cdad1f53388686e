/**
 * stage.routing: the order a route's targets are tried in, as its `strategy:` says (single,
 * fallback, loadbalance, least-latency), and their circuit breakers (`circuit:`), in the `targets`
 * phase: its plans carry the outcomes through which the call step opens and closes the breakers.
 * On in every gateway; the breakers are kept per gateway across reloads and offered to other
 * plugins as `Circuits` (the admin service shows them). A stage of higher priority with a
 * `targets` phase (cost- or region-aware routing) decides instead, keeping the breakers if it
 * plans through `Circuits`; a route's `stages: { routing: false }` tries its targets as listed,
 * without breakers.
 */
import { definePlugin, type RoutingTarget, type Stage, type StageExchange, type TargetPlan } from '../../../plugin-api/index.ts'
import { Circuits } from '../../contracts/circuits.ts'
import { Breakers } from './breakers.ts'
import { CircuitSeries, MODEL_SERIES_MAX } from './series.ts'
import { planFor, type StrategyName } from './strategies.ts'
import { unreachableRoutes } from './reachable.ts'

export default definePlugin<Record<string, never>, Stage>({
  id: 'stage.routing',
  kind: 'stage',
  description: "The order a route's targets are tried in, by the route's strategy, and their circuit breakers.",
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  enabledByDefault: true,
  provides: [Circuits],
  checkConfig: unreachableRoutes,
  setup(ctx) {
    const gauges = {
      state: ctx.metrics.gauge('gateway_circuit_state', `Circuit breaker per target: 0 closed, 1 half-open, 2 open (a glob target's models only while not closed, at most ${MODEL_SERIES_MAX}).`, ['target']),
      globModels: ctx.metrics.gauge('gateway_circuit_glob_models', 'Models of glob targets whose breaker is open or half-open, each counted whether it has a gateway_circuit_state series or not.', ['state']),
      withoutSeries: ctx.metrics.gauge('gateway_circuit_glob_models_without_series', `Models of glob targets not closed beyond the ${MODEL_SERIES_MAX} with a gateway_circuit_state series (GET /api/v1/admin/routes lists them all).`),
    }
    const breakers = ctx.keep('breakers', () => new Breakers(new CircuitSeries(gauges)))
    ctx.provide(Circuits, breakers)
    const latencyOf = (t: RoutingTarget): number | undefined => breakers.latencyMs(t)
    return {
      // Last among stages that order targets: a third party's routing stage goes before it.
      priority: -1000,
      // `native`: a provider's own wire call (a token count) is ordered and broken like the calls it stands beside.
      operations: ['chat', 'embeddings', 'native', 'media'],
      targets<T extends RoutingTarget>(x: StageExchange, targets: readonly T[]): TargetPlan<T> {
        const order = planFor(x.route?.settings.strategy as StrategyName | undefined, targets, Math.random, latencyOf)
        return breakers.plan(x, order.targets, order.fallback)
      },
    }
  },
})
