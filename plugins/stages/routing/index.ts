/**
 * stage.routing: the order a route's targets are tried in, as its `strategy:` says (single,
 * fallback, loadbalance, least-latency), in the `targets` phase. On in every gateway; a stage of
 * higher priority with a `targets` phase (cost- or region-aware routing) decides instead, and a
 * route's `stages: { routing: false }` tries its targets as listed.
 */
import { definePlugin, type RoutingTarget, type Stage, type StageExchange, type TargetPlan } from '../../../core/plugins/api.ts'
import { planFor, type StrategyName } from './strategies.ts'

export default definePlugin<Record<string, never>, Stage>({
  id: 'stage.routing',
  kind: 'stage',
  description: "The order a route's targets are tried in, by the route's strategy.",
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  enabledByDefault: true,
  setup() {
    return {
      // Last among stages that order targets: a third party's routing stage goes before it.
      priority: -1000,
      operations: ['chat', 'embeddings'],
      targets<T extends RoutingTarget>(x: StageExchange, targets: readonly T[]): TargetPlan<T> {
        return planFor(x.route?.settings.strategy as StrategyName | undefined, targets)
      },
    }
  },
})
