/**
 * A runtime snapshot: one validated config made live. It holds the plugin instances, the compiled
 * route table, the service router and flags, and never changes. Each request pins the snapshot
 * current when it arrived; a retired snapshot releases its instances after its last request.
 */
import 'reflect-metadata'
import { container as rootContainer, type DependencyContainer } from 'tsyringe'
import Router from '@koa/router'
import type { ConfigLoad } from '../config/index.ts'
import type { GatewayConfig } from '../config/types.ts'
import { pluginSlots, type PluginSlot } from '../config/slots.ts'
import { ConfigError } from '../config/issues.ts'
import type { Logger } from '../logger.ts'
import { InstancePool } from './instances.ts'
import { RouteTable } from './routes.ts'
import { AccessTables } from './access.ts'
import type { GatewayServices } from './services.ts'
import { PriceTable } from '../usage/pricing.ts'
import { GatewayPolicies } from './policies.ts'
import {
  Cache, Limiter, Queue, Store,
  type AuthStrategy, type InstanceByKind, type Lifecycle, type PluginContext, type Provider, type Service, type Token,
} from '../plugins/types.ts'

const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024
/** Generous: a first start of the embedded database on a busy machine takes seconds. */
const SETUP_TIMEOUT_MS = 60_000

/** Capability kinds, each registered in the container under its token for `ctx.get(...)`. */
const CAPABILITY_TOKENS: Partial<Record<keyof InstanceByKind, Token<unknown>>> = {
  store: Store, queue: Queue, limiter: Limiter, cache: Cache,
}

export interface AuthEntry {
  readonly id: string
  readonly strategy: AuthStrategy
}

export class Snapshot {
  readonly version: string
  readonly loadedAt: Date
  readonly source: string
  readonly config: GatewayConfig
  readonly configDir: string
  readonly container: DependencyContainer
  readonly providers: ReadonlyMap<string, Provider>
  readonly routes: RouteTable
  /** Roles and departments, compiled: who may do what, and use which models. */
  readonly access: AccessTables
  readonly auth: readonly AuthEntry[]
  readonly store: InstanceByKind['store'] | undefined
  readonly queue: InstanceByKind['queue'] | undefined
  readonly limiter: InstanceByKind['limiter'] | undefined
  readonly cache: InstanceByKind['cache'] | undefined
  /** Routes of the service plugins, mounted under /api/v1/<name>. */
  readonly serviceRoutes: Router.Middleware
  readonly features: Readonly<Record<string, boolean>>
  readonly bodyLimit: number
  /** Health, metrics and the usage writer: shared by every snapshot of this gateway. */
  readonly services: GatewayServices
  /** Model prices: the shipped catalog with gateway.yaml `pricing:` on top. */
  readonly prices: PriceTable
  /** Optional providers left out because their environment variables are not set. */
  readonly disabledProviders: ReadonlyMap<string, string>
  /** Rate-limit policies, budgets and cache settings, compiled. */
  readonly policies: GatewayPolicies

  readonly #pool: InstancePool
  readonly #keys: readonly string[]
  #inflight = 0
  #retired = false
  #released: Promise<void> | undefined
  #onIdle: (() => void) | undefined

  constructor(parts: {
    load: ConfigLoad
    container: DependencyContainer
    instances: Map<string, { kind: keyof InstanceByKind; id: string; instance: Lifecycle }>
    keys: string[]
    pool: InstancePool
    services: GatewayServices
    logger: Logger
  }) {
    const { load, instances } = parts
    this.version = load.loaded.hash
    this.loadedAt = new Date()
    this.source = load.loaded.source
    this.config = load.loaded.config
    this.configDir = load.configDir
    this.container = parts.container
    this.#pool = parts.pool
    this.#keys = parts.keys

    const ofKind = <K extends keyof InstanceByKind>(kind: K): [string, InstanceByKind[K], string][] =>
      [...instances].filter(([, v]) => v.kind === kind).map(([name, v]) => [name, v.instance as InstanceByKind[K], v.id])

    this.providers = new Map(ofKind('provider').map(([name, p]) => [name, p]))
    this.features = Object.freeze({ ...(this.config.features ?? {}) })
    this.routes = new RouteTable(this.config.routes ?? [], this.providers, parts.services.health, this.features)
    this.services = parts.services
    this.disabledProviders = load.loaded.disabledProviders
    this.prices = new PriceTable(this.config.pricing)
    this.auth = ofKind('auth').map(([, strategy, id]) => ({ id, strategy }))
    this.access = new AccessTables(this.config)
    this.store = ofKind('store')[0]?.[1]
    this.queue = ofKind('queue')[0]?.[1]
    this.limiter = ofKind('limiter')[0]?.[1]
    this.cache = ofKind('cache')[0]?.[1]
    this.policies = new GatewayPolicies({ load, routes: this.routes, hasLimiter: this.limiter !== undefined, cache: this.cache, services: this.services, logger: parts.logger })
    this.bodyLimit = parseBytes(this.config.server?.body_limit) ?? DEFAULT_BODY_LIMIT

    const router = new Router({ prefix: '/api/v1' })
    for (const [name, service] of ofKind('service')) {
      const sub = new Router({ prefix: `/${name}` })
      ;(service as Service).mount?.(sub)
      router.use(sub.routes(), sub.allowedMethods())
    }
    this.serviceRoutes = router.routes()
  }

  /** Backends whose health decides readiness. */
  backends(): [string, Lifecycle][] {
    const list: [string, Lifecycle | undefined][] = [['store', this.store], ['queue', this.queue], ['limiter', this.limiter], ['cache', this.cache]]
    return list.filter((e): e is [string, Lifecycle] => e[1] !== undefined)
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
}

/**
 * Build a snapshot: set up every plugin in slot order, reusing unchanged instances from the pool.
 * Any failure releases what was taken and throws a ConfigError naming the plugin.
 */
export async function buildSnapshot(load: ConfigLoad, pool: InstancePool, services: GatewayServices, logger: Logger): Promise<Snapshot> {
  const container = rootContainer.createChildContainer()
  const instances = new Map<string, { kind: keyof InstanceByKind; id: string; instance: Lifecycle }>()
  const keys: string[] = []
  const capabilityKeys: string[] = []
  try {
    for (const slot of pluginSlots(load.loaded.config)) {
      const registered = load.registry.get(slot.kind, slot.plugin)!
      const { manifest } = registered
      // A plugin is rebuilt when a capability set up before it (one it could use) was: a semantic
      // cache follows its store, a service its store and queue.
      const deps = capabilityKeys.join(',')
      const key = InstancePool.key(manifest.id, slot.name, slot.block, deps)
      let instance = pool.reuse(key)
      if (!instance) {
        instance = await setupPlugin(slot, load, container, logger)
        pool.add(key, manifest.id, instance)
      }
      keys.push(key)
      const capability = CAPABILITY_TOKENS[slot.kind]
      if (capability) {
        container.register(capability.key, { useValue: instance })
        capabilityKeys.push(key)
      }
      instances.set(slot.kind === 'provider' || slot.kind === 'service' ? slot.name : `${slot.kind}:${slot.name}`, { kind: slot.kind, id: manifest.id, instance })
    }
    return new Snapshot({ load, container, instances, keys, pool, services, logger })
  } catch (err) {
    await pool.release(keys)
    throw err
  }
}

async function setupPlugin(slot: PluginSlot, load: ConfigLoad, container: DependencyContainer, logger: Logger): Promise<Lifecycle> {
  const { manifest } = load.registry.get(slot.kind, slot.plugin)!
  const ctx: PluginContext = {
    id: manifest.id,
    name: slot.name,
    logger: logger.child({ plugin: manifest.id, instance: slot.name }),
    container,
    configDir: load.configDir,
    get<T>(capability: Token<T>): T {
      if (!container.isRegistered(capability.key)) throw new Error(`needs ${capability.description}, which gateway.yaml does not configure`)
      return container.resolve<T>(capability.key)
    },
    tryGet<T>(capability: Token<T>): T | undefined {
      return container.isRegistered(capability.key) ? container.resolve<T>(capability.key) : undefined
    },
  }
  let timer: NodeJS.Timeout | undefined
  const setup = Promise.resolve().then(() => manifest.setup(ctx, slot.block))
  try {
    const instance = await Promise.race([
      setup,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // A setup that finishes after we gave up must still release what it took.
          setup.then((late) => (late as Lifecycle | undefined)?.dispose?.(), () => undefined)
          reject(new Error(`setup did not finish within ${SETUP_TIMEOUT_MS} ms`))
        }, SETUP_TIMEOUT_MS)
      }),
    ])
    if (typeof instance !== 'object' || instance === null) throw new Error('setup must return an instance object')
    return instance as Lifecycle
  } catch (err) {
    throw new ConfigError([load.loaded.issue(slot.path, `plugin ${manifest.id} failed to set up: ${(err as Error).message}`)])
  } finally {
    clearTimeout(timer)
  }
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }
export function parseBytes(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number') return value
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*(b|kb|mb|gb)?$/i.exec(value.trim())
  if (!m) return undefined
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()])
}
