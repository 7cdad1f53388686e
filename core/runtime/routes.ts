/**
 * The route table, compiled once per snapshot: each route's targets resolved to their provider
 * instances, so a request does a single map lookup.
 */
import type { RouteConfig } from '../config/types.ts'
import type { Provider } from '../plugins/types.ts'

export interface CompiledTarget {
  /** The provider instance name (key under `providers:`). */
  readonly provider: string
  readonly instance: Provider
  /** The upstream model; undefined means "the model the client asked for". */
  readonly model: string | undefined
  readonly weight: number
}

export interface CompiledRoute {
  readonly name: string
  readonly strategy: 'single' | 'fallback'
  readonly targets: readonly CompiledTarget[]
  readonly timeoutMs: number | undefined
  readonly strict: boolean
}

export class RouteTable {
  readonly #byName = new Map<string, CompiledRoute>()

  constructor(routes: readonly RouteConfig[], providers: ReadonlyMap<string, Provider>) {
    for (const route of routes) {
      const targets = route.targets.map((t) => {
        const instance = providers.get(t.provider)
        if (!instance) throw new Error(`route ${route.model}: no provider '${t.provider}'`)
        return { provider: t.provider, instance, model: t.model, weight: t.weight ?? 1 }
      })
      this.#byName.set(route.model, {
        name: route.model,
        strategy: route.strategy ?? (targets.length > 1 ? 'fallback' : 'single'),
        targets,
        timeoutMs: route.timeout_ms,
        strict: route.strict ?? false,
      })
    }
  }

  resolve(model: string): CompiledRoute | undefined {
    return this.#byName.get(model)
  }

  /** Every route name, in config order. */
  names(): string[] {
    return [...this.#byName.keys()]
  }
}
