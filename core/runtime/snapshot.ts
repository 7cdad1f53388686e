/** A runtime snapshot: one validated config made live. */
import 'reflect-metadata'
import bytes from 'bytes'
import type { DependencyContainer } from 'tsyringe'
import type { ConfigLoad } from '../config/index.ts'
import type { GatewayConfig } from '../config/types.ts'
import type { Logger } from '../logger.ts'
import type {
  AuthStrategy, InstanceByKind, Lifecycle, Operation, PluginKind, Principal, Provider, PublishedRoute, Service, Stage, Surface, Token,
} from '../../plugin-api/types.ts'
import { Pricing, RouteOverlay, Tokenizer } from '../../plugin-api/types.ts'
import type { RouteConfig } from '../config/types.ts'
import { AccessTables } from './access.ts'
import { NamePatterns } from '../../plugin-api/kit/glob.ts'
import type { GatewayServices } from './services.ts'
import { RouteTable, type CompiledRoute } from './routes.ts'
import type { InstancePool } from './instances.ts'
import type { PluginSlot } from '../config/slots.ts'

/** A plugin instance of a snapshot: the slot it fills, its plugin id and its key in the instance pool. */
export interface BuiltInstance {
  readonly slot: PluginSlot
  readonly id: string
  readonly key: string
  readonly instance: Lifecycle
}

const UNPRICED: Pricing = { cost: () => 0, priced: () => false, maxOutputTokens: () => undefined, contextWindow: () => undefined }
const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024
/** Stages run in this priority when their plugin says nothing. */
const DEFAULT_STAGE_PRIORITY = 500
const DEFAULT_OPERATIONS: readonly Operation[] = ['chat']
/** The kinds whose instances `/ready` asks (`ready()`): the backends requests depend on. */
const BACKEND_KINDS: readonly PluginKind[] = ['store', 'queue', 'limiter', 'cache']

export interface NamedStage {
  readonly name: string
  readonly stage: Stage
}

interface StageEntry extends NamedStage {
  readonly priority: number
  readonly operations: readonly Operation[]
  /** The routes it applies to; undefined: every route. */
  readonly routes: NamePatterns | undefined
}

export class Snapshot {
  readonly version: string
  readonly loadedAt = new Date()
  readonly source: string
  readonly config: GatewayConfig
  readonly container: DependencyContainer
  readonly logger: Logger
  readonly providers: ReadonlyMap<string, Provider>
  readonly routes: RouteTable
  /** Roles and departments, compiled: who may do what, and use which models. */
  readonly access: AccessTables
  readonly auth: readonly { readonly id: string; readonly strategy: AuthStrategy }[]
  readonly store: InstanceByKind['store'] | undefined
  readonly surfaces: readonly { readonly name: string; readonly surface: Surface }[]
  readonly services: readonly { readonly name: string; readonly service: Service }[]
  readonly features: Readonly<Record<string, boolean>>
  readonly bodyLimit: number
  /** Metrics and plugins' kept state: shared by every snapshot of this gateway. */
  readonly shared: GatewayServices
  /** Model prices (service.pricing); every call costs 0 without it. */
  readonly prices: Pricing
  /** Optional providers left out because their environment variables are not set. */
  readonly disabledProviders: ReadonlyMap<string, string>
  /** Counts tokens a provider did not report (service.tokenizer); undefined when none is set up. */
  readonly tokenizer: Tokenizer | undefined

  readonly #stages: readonly StageEntry[]
  readonly #backends: readonly (readonly [PluginKind, Lifecycle])[]
  readonly #stagesByRoute = new Map<string, readonly NamedStage[]>()
  readonly #requestStages = new Map<Operation, readonly NamedStage[]>()
  readonly #pool: InstancePool
  readonly #keys: readonly string[]
  #inflight = 0
  #retired = false
  #released: Promise<void> | undefined
  #onIdle: (() => void) | undefined

  constructor(parts: {
    load: ConfigLoad
    container: DependencyContainer
    instances: readonly BuiltInstance[]
    pool: InstancePool
    shared: GatewayServices
    logger: Logger
  }) {
    const { load, instances } = parts
    this.version = load.loaded.hash
    this.source = load.loaded.source
    this.config = load.loaded.config
    this.container = parts.container
    this.logger = parts.logger
    this.#pool = parts.pool
    this.#keys = instances.map((i) => i.key)

    const ofKind = <K extends keyof InstanceByKind>(kind: K): (BuiltInstance & { instance: InstanceByKind[K] })[] =>
      instances.filter((i) => i.slot.kind === kind) as (BuiltInstance & { instance: InstanceByKind[K] })[]

    this.shared = parts.shared
    this.providers = new Map(ofKind('provider').map((i) => [i.slot.name, i.instance]))
    this.features = Object.freeze({ ...(this.config.features ?? {}) })
    // Routes plugins add (deployed models) come after the config's, read now: a rebuild picks up their changes.
    const capability = <T>(t: Token<T>): T | undefined => tryResolve(parts.container, t)
    const overlay = capability(RouteOverlay)?.routes() ?? []
    const overlaid = overlay.filter((r) => !(this.config.routes ?? []).some((c) => c.model === r.model)) as unknown as RouteConfig[]
    this.routes = new RouteTable([...(this.config.routes ?? []), ...overlaid], this.providers, this.features)
    this.disabledProviders = load.loaded.disabledProviders
    this.prices = capability(Pricing) ?? UNPRICED
    this.auth = ofKind('auth').map((i) => ({ id: i.id, strategy: i.instance }))
    this.access = new AccessTables(this.config)
    this.store = ofKind('store')[0]?.instance
    this.#backends = instances.filter((i) => BACKEND_KINDS.includes(i.slot.kind)).map((i) => [i.slot.kind, i.instance])
    this.surfaces = ofKind('surface').map((i) => ({ name: i.slot.name, surface: i.instance }))
    this.services = ofKind('service').map((i) => ({ name: i.slot.name, service: i.instance }))
    this.bodyLimit = bytes.parse(this.config.server?.body_limit ?? DEFAULT_BODY_LIMIT) ?? DEFAULT_BODY_LIMIT
    this.tokenizer = capability(Tokenizer)
    this.#stages = ofKind('stage')
      .map((i) => ({
        name: i.slot.name,
        stage: i.instance,
        priority: i.slot.priority ?? i.instance.priority ?? DEFAULT_STAGE_PRIORITY,
        operations: i.instance.operations ?? DEFAULT_OPERATIONS,
        routes: i.slot.routes ? new NamePatterns(i.slot.routes) : undefined,
      }))
      .sort((a, b) => b.priority - a.priority)
  }

  /** The stages for `operation` on `route` (none: those for every route), highest priority first, less those the route turns off. */
  stagesFor(route: CompiledRoute | undefined, operation: Operation): readonly NamedStage[] {
    const key = `${route?.index ?? -1}:${operation}`
    let list = this.#stagesByRoute.get(key)
    if (!list) {
      const off = route?.stagesOff
      list = this.#stages.filter((s) =>
        s.operations.includes(operation)
        && (route ? s.routes === undefined || s.routes.matches(route.name) : s.routes === undefined)
        && !off?.has(s.name))
      this.#stagesByRoute.set(key, list)
    }
    return list
  }

  /** The stages with a `request` hook that apply to every route: they run before routing. */
  requestStages(operation: Operation): readonly NamedStage[] {
    let list = this.#requestStages.get(operation)
    if (!list) this.#requestStages.set(operation, (list = this.stagesFor(undefined, operation).filter((s) => s.stage.request !== undefined)))
    return list
  }

  /** Of the route names a caller could ask for, those its department and key allow (for /v1/models). */
  visibleModels(principal: Principal | undefined, headers: Readonly<Record<string, string | string[] | undefined>>): string[] {
    const names = this.routes.names(principal)
    if (!this.access.enforced) return names
    const facts = { principal, headers, metadata: undefined }
    return names.filter((name) => !this.access.modelDenial(principal, name, this.routes.resolve(name, facts)?.route.name ?? name))
  }

  /** Backends whose health decides readiness, by kind. */
  backends(): readonly (readonly [string, Lifecycle])[] {
    return this.#backends
  }

  /** A request starts on this snapshot. */
  enter(): void {
    this.#inflight++
  }

  /** A request that started on this snapshot has ended. */
  leave(): void {
    if (--this.#inflight === 0 && this.#retired) this.#onIdle?.()
  }

  get inflight(): number {
    return this.#inflight
  }

  /** No new requests will pin this snapshot; release its instances once in-flight ones end. */
  retire(): Promise<void> {
    if (this.#released) return this.#released
    this.#retired = true
    const idle = this.#inflight === 0 ? Promise.resolve() : new Promise<void>((resolve) => { this.#onIdle = resolve })
    // The container is not disposed: an instance carried over to a newer snapshot may still use it.
    this.#released = idle.then(() => this.#pool.release(this.#keys))
    return this.#released
  }

  /** The routes this snapshot serves, as the router mounts them (core/http/routes.ts). */
  publishedRoutes(): PublishedRoute[] {
    const surfaces = this.surfaces.flatMap(({ name, surface }) => surface.endpoints.map((route) => ({ path: route.path, area: 'surface' as const, owner: name, route })))
    const services = this.services.flatMap(({ name, service }) => (service.routes ?? []).map((route) => ({
      path: `/api/v1/${name}${route.path === '/' ? '' : route.path}`, area: 'service' as const, owner: name, route,
    })))
    return [...surfaces, ...services]
  }
}

/** A capability from `container` or the gateway's (its parent), or undefined when nothing provides it. */
export function tryResolve<T>(container: DependencyContainer, capability: Token<T>): T | undefined {
  return container.isRegistered(capability.key, true) ? container.resolve<T>(capability.key) : undefined
}
