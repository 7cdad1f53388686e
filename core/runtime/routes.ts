/** The route table, compiled once per snapshot: names, aliases and globs, `when` conditions, targets with their provider. */
import type { Matchable, RetryConfig, RetryOn, RouteConfig, TargetConfig, WhenConfig } from '../config/types.ts'
import { compileGlob, isGlob, type Glob } from '../../plugin-api/kit/glob.ts'
import { namesUser } from '../../plugin-api/kit/user-names.ts'
import type { GatewayError } from '../../plugin-api/errors.ts'
import { createHash } from 'node:crypto'
import type { Principal, Provider, RouteInfo } from '../../plugin-api/types.ts'

export interface CompiledRetry {
  /** Retries of the same target after the first try. */
  readonly attempts: number
  readonly backoffMs: number
  readonly maxBackoffMs: number
  /** Whether this failure is one the config says to retry. */
  readonly on: (error: GatewayError) => boolean
}

export interface CompiledTarget {
  /** The provider instance name (key under `providers:`). */
  readonly provider: string
  readonly instance: Provider
  /** The upstream model; undefined means "the model the client asked for". */
  readonly model: string | undefined
  readonly weight: number
  readonly timeoutMs: number | undefined
  readonly firstTokenTimeoutMs: number | undefined
  readonly retry: CompiledRetry
  /** Default request parameters, applied where the client did not set them. */
  readonly params: Readonly<Record<string, unknown>> | undefined
  readonly headers: Readonly<Record<string, string>> | undefined
  /** Its block as written, for stages (stage.routing reads `circuit:`). */
  readonly settings: Readonly<Record<string, unknown>>
}

export interface CompiledRoute {
  readonly name: string
  readonly index: number
  readonly targets: readonly CompiledTarget[]
  readonly strict: boolean
  /** Undefined when the route has no conditions. */
  readonly when: ((facts: RouteFacts) => boolean) | undefined
  /** Whether `when` looks only at who is calling (so /v1/models can list the route). */
  readonly whenIsAboutCaller: boolean
  /** What stages see of it. */
  readonly info: RouteInfo
  /** Stages this route turns off (`stages: { name: false }`). */
  readonly stagesOff: ReadonlySet<string>
}

/** What `when` conditions look at. */
export interface RouteFacts {
  readonly principal: Principal | undefined
  /** Lower-case request header names. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly metadata: Readonly<Record<string, unknown>> | null | undefined
}

export interface ResolvedRoute {
  readonly route: CompiledRoute
  /** The name the client asked for (a glob route passes it through). */
  readonly requested: string
}

const DEFAULT_RETRY_ON: readonly RetryOn[] = ['429', '5xx', 'timeout', 'connection']
const CANDIDATE_CACHE_LIMIT = 1024

export class RouteTable {
  readonly #routes: CompiledRoute[] = []
  /** Exact names and aliases → routes in config order. */
  readonly #exact = new Map<string, CompiledRoute[]>()
  readonly #globs: { pattern: Glob; route: CompiledRoute }[] = []
  /** Name → candidate routes, for names matched by globs (bounded). */
  readonly #candidates = new Map<string, CompiledRoute[]>()
  readonly #listed: { name: string; route: CompiledRoute }[] = []
  /** Routes not served because none of their providers is configured (optional providers left out). */
  readonly unavailable: string[] = []
  readonly #unavailable: { route: string; providers: string[]; matches: (model: string) => boolean }[] = []

  constructor(routes: readonly RouteConfig[], providers: ReadonlyMap<string, Provider>, features: Readonly<Record<string, boolean>>) {
    routes.forEach((config, index) => {
      // A route behind a feature flag that is off does not exist in this snapshot.
      if (config.when?.feature !== undefined && features[config.when.feature] !== true) return
      const route = compileRoute(config, index, providers)
      // Every target's provider was left out (optional, unset key): the route is not served.
      if (route.targets.length === 0) {
        this.unavailable.push(config.model)
        const names = [config.model, ...(config.aliases ?? [])]
        this.#unavailable.push({ route: config.model, providers: [...new Set(config.targets.map((t) => t.provider))], matches: (model) => names.some((n) => (isGlob(n) ? compileGlob(n).test(model) : n === model)) })
        return
      }
      this.#routes.push(route)
      for (const name of [config.model, ...(config.aliases ?? [])]) {
        if (isGlob(name)) {
          this.#globs.push({ pattern: compileGlob(name), route })
        } else {
          const list = this.#exact.get(name) ?? []
          list.push(route)
          this.#exact.set(name, list)
          this.#listed.push({ name, route })
        }
      }
    })
  }

  /** The unserved route (its providers left out) that would have answered `model`, if one would. */
  unavailableFor(model: string): { route: string; providers: readonly string[] } | undefined {
    return this.#unavailable.find((u) => u.matches(model))
  }

  /** The first route for `model` whose conditions hold, or undefined. */
  resolve(model: string, facts: RouteFacts): ResolvedRoute | undefined {
    for (const route of this.#candidatesFor(model)) if (!route.when || route.when(facts)) return { route, requested: model }
    return undefined
  }

  /** Names a caller may ask for (exact names and aliases whose caller conditions hold), in config order. */
  names(principal?: Principal): string[] {
    const facts: RouteFacts = { principal, headers: {}, metadata: undefined }
    return [...new Set(this.#listed.filter(({ route }) => !route.when || (route.whenIsAboutCaller && route.when(facts))).map((l) => l.name))]
  }

  /** Routes a glob names, once each: names() cannot list what they answer (GatewayCalls.globRoutes). */
  globRoutes(): RouteInfo[] { return [...new Set(this.#globs.map((g) => g.route.info))] }

  all(): readonly CompiledRoute[] {
    return this.#routes
  }

  #candidatesFor(model: string): CompiledRoute[] {
    const cached = this.#candidates.get(model)
    if (cached) return cached
    const exact = this.#exact.get(model)
    if (this.#globs.length === 0) return exact ?? []
    const matched = this.#globs.filter((g) => g.pattern.test(model)).map((g) => g.route)
    const list = [...(exact ?? []), ...matched].sort((a, b) => a.index - b.index)
    if (this.#candidates.size >= CANDIDATE_CACHE_LIMIT) this.#candidates.clear()
    this.#candidates.set(model, list)
    return list
  }
}

function compileRoute(config: RouteConfig, index: number, providers: ReadonlyMap<string, Provider>): CompiledRoute {
  // Targets on a provider that was left out (optional, its key unset) are skipped.
  const targets = config.targets.filter((t) => providers.has(t.provider)).map((t) => compileTarget(t, config, providers))
  const signature = createHash('sha256').update(JSON.stringify(config.targets.map((t) => [t.provider, t.model ?? null, t.params ?? null]))).digest('base64url').slice(0, 16)
  return {
    name: config.model,
    index,
    targets,
    strict: config.strict ?? false,
    when: config.when ? compileWhen(config.when) : undefined,
    whenIsAboutCaller: !config.when?.headers && !config.when?.metadata,
    info: Object.freeze({
      name: config.model,
      targets: targets.map((t) => ({ provider: t.provider, model: t.model, embeddings: typeof t.instance.embed === 'function' })),
      signature,
      settings: config as unknown as Readonly<Record<string, unknown>>,
    }),
    stagesOff: new Set(Object.entries(config.stages ?? {}).filter(([, v]) => v === false).map(([k]) => k)),
  }
}

function compileTarget(t: TargetConfig, route: RouteConfig, providers: ReadonlyMap<string, Provider>): CompiledTarget {
  const instance = providers.get(t.provider)
  if (!instance) throw new Error(`route ${route.model}: no provider '${t.provider}'`)
  return {
    provider: t.provider,
    instance,
    model: t.model,
    weight: t.weight ?? 1,
    timeoutMs: t.timeout_ms ?? route.timeout_ms,
    firstTokenTimeoutMs: t.first_token_timeout_ms ?? route.first_token_timeout_ms,
    retry: compileRetry(t.retry ?? route.retry),
    params: t.params,
    headers: t.headers,
    settings: t as unknown as Readonly<Record<string, unknown>>,
  }
}

function compileRetry(config: RetryConfig | undefined): CompiledRetry {
  const on = new Set((config?.on ?? DEFAULT_RETRY_ON).map(String))
  return {
    attempts: config?.attempts ?? 0,
    backoffMs: config?.backoff_ms ?? 200,
    maxBackoffMs: config?.max_backoff_ms ?? 5000,
    on: (error) => {
      if (error.code === 'upstream_timeout') return on.has('timeout')
      if (error.code === 'upstream_unreachable') return on.has('connection')
      const status = error.upstreamStatus ?? error.status
      if (on.has(String(status))) return true
      if (status === 429) return on.has('429')
      return status >= 500 && on.has('5xx')
    },
  }
}

function compileWhen(when: WhenConfig): (facts: RouteFacts) => boolean {
  const checks: ((facts: RouteFacts) => boolean)[] = []
  if (when.departments) {
    const set = new Set(when.departments)
    checks.push((f) => f.principal?.department !== undefined && set.has(f.principal.department))
  }
  if (when.roles) {
    const set = new Set(when.roles)
    checks.push((f) => f.principal !== undefined && set.has(f.principal.role))
  }
  if (when.users) {
    const set = new Set(when.users)
    checks.push((f) => namesUser(set, f.principal))
  }
  for (const [name, allowed] of Object.entries(when.headers ?? {})) {
    const key = name.toLowerCase()
    const set = valueSet(allowed)
    checks.push((f) => {
      const value = f.headers[key]
      return typeof value === 'string' ? set.has(value) : Array.isArray(value) && value.some((v) => set.has(v))
    })
  }
  for (const [name, allowed] of Object.entries(when.metadata ?? {})) {
    const set = valueSet(allowed)
    checks.push((f) => {
      const value = f.metadata?.[name]
      return typeof value === 'string' && set.has(value)
    })
  }
  // `feature` was settled when the table was built.
  return (facts) => checks.every((check) => check(facts))
}

const valueSet = (m: Matchable): Set<string> => new Set(Array.isArray(m) ? m : [m])

