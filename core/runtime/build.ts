/** Building a snapshot: plugins set up in dependency order (after what they `use`), unchanged instances reused, capabilities registered in a child container. */
import type { DependencyContainer } from 'tsyringe'
import type { ConfigLoad } from '../config/index.ts'
import { ConfigError } from '../config/issues.ts'
import { pluginSlots, type PluginSlot } from '../config/slots.ts'
import { withDefaults } from '../config/validate.ts'
import type { Logger } from '../logger.ts'
import { capabilitiesOf, kindCapability } from '../plugins/registry.ts'
import { type Lifecycle, type PluginContext, type PluginManifest, type Provider, type Token } from '../../plugin-api/types.ts'
import { backgroundCalls } from '../pipeline/calls.ts'
import { InstancePool } from './instances.ts'
import { withDeadline } from '../../plugin-api/kit/deadline.ts'
import { checkInstanceShape } from '../../plugin-api/instance-shape.ts'
import type { GatewayServices } from './services.ts'
import { Snapshot, tryResolve, type BuiltInstance } from './snapshot.ts'

/** Generous: a first start of the embedded database on a busy machine takes seconds. */
const SETUP_TIMEOUT_MS = 60_000

interface PlannedSlot {
  readonly slot: PluginSlot
  readonly manifest: PluginManifest
  readonly provides: readonly symbol[]
  readonly uses: readonly symbol[]
}

/** `current`: the snapshot serving when a plugin's background work calls the pipeline (PluginContext.callsAs). */
export async function buildSnapshot(load: ConfigLoad, pool: InstancePool, shared: GatewayServices, logger: Logger, current: () => Snapshot): Promise<Snapshot> {
  const container = shared.container.createChildContainer()
  const built: BuiltInstance[] = []
  const keyByCapability = new Map<symbol, string>()
  try {
    for (const planned of orderSlots(load)) {
      const { slot, manifest } = planned
      // A plugin is rebuilt when one whose capability it uses was: a semantic cache follows its store.
      const deps = planned.uses.map((u) => keyByCapability.get(u) ?? '').join(',')
      const key = InstancePool.key(manifest, slot.name, slot.block, deps)
      let instance = pool.reuse(key)
      const provided = new Map<symbol, unknown>()
      if (instance) {
        for (const [token, value] of pool.provided(key)) provided.set(token, value)
      } else {
        instance = await setupPlugin(planned, load, container, shared, logger, provided, built, current)
        pool.add(key, manifest.id, instance, provided)
      }
      const own = kindCapability(slot.kind)
      if (own) provided.set(own.key, instance)
      for (const [token, value] of provided) {
        container.register(token, { useValue: value })
        keyByCapability.set(token, key)
      }
      built.push({ slot, id: manifest.id, key, instance })
    }
    const snapshot = new Snapshot({ load, container, instances: built, pool, shared, logger })
    checkInstances(snapshot, built, load)
    return snapshot
  } catch (err) {
    await pool.release(built.map((b) => b.key))
    throw err
  }
}

/** Each instance's own check of the compiled config (Caddy's Validate). */
function checkInstances(snapshot: Snapshot, built: readonly BuiltInstance[], load: ConfigLoad): void {
  const routes = { resolve: (model: string) => snapshot.routes.resolve(model, { principal: undefined, headers: {}, metadata: undefined })?.route.info }
  const issues = []
  for (const { instance, slot, id } of built) {
    try {
      checkInstanceShape(slot.kind, instance)
      instance.check?.(routes)
    } catch (err) {
      const at = (err as { path?: unknown }).path
      if (Array.isArray(at)) issues.push(load.loaded.issue([...slot.path, ...(at as (string | number)[])], (err as Error).message))
      else issues.push(load.loaded.issue(slot.path, `plugin ${id}: ${(err as Error).message}`))
    }
  }
  if (issues.length) throw new ConfigError(issues)
}

/** The slots in set-up order: kind order (SLOT_SHAPES), except that a slot goes after every slot providing a capability it uses. */
function orderSlots(load: ConfigLoad): PlannedSlot[] {
  const pending: PlannedSlot[] = pluginSlots(load.loaded.config, load.registry.enabledByDefault()).map((found) => {
    const { manifest } = load.registry.get(found.kind, found.plugin)!
    // A built-in the config does not name gets its schema's defaults here (a named block has them already).
    const slot = found.implied ? { ...found, block: withDefaults(manifest, found.block) } : found
    return {
      slot,
      manifest,
      provides: capabilitiesOf(slot.kind, manifest).map((t) => t.key),
      uses: [...(manifest.uses ?? []), ...(manifest.needs ?? [])].map((t) => t.key),
    }
  })
  const ordered: PlannedSlot[] = []
  while (pending.length) {
    const next = pending.findIndex((p) => p.uses.every((u) => !pending.some((q) => q !== p && q.provides.includes(u))))
    if (next < 0) {
      const names = pending.map((p) => p.manifest.id).join(', ')
      throw new ConfigError([load.loaded.issue([], `plugins use each other's capabilities in a cycle: ${names}`)])
    }
    ordered.push(pending.splice(next, 1)[0])
  }
  return ordered
}

async function setupPlugin(
  planned: PlannedSlot, load: ConfigLoad, container: DependencyContainer, shared: GatewayServices, logger: Logger, provided: Map<symbol, unknown>, built: readonly BuiltInstance[],
  current: () => Snapshot,
): Promise<Lifecycle> {
  const { slot, manifest } = planned
  const ownFeatures = Object.freeze({ ...(load.loaded.config.features ?? {}) })
  let settled = false
  const ctx: PluginContext = {
    id: manifest.id,
    name: slot.name,
    logger: logger.child({ plugin: manifest.id, instance: slot.name }),
    configDir: load.configDir,
    // The flags of the config being built during setup; after it, the current config's (an instance carried over by a reload that only flipped a flag still sees the flip).
    get features() {
      return (settled ? shared.features() : undefined) ?? ownFeatures
    },
    metrics: shared.metrics,
    runsJobs: shared.runsJobs,
    // The current snapshot's, or (at the first start, before there is one) this build's.
    provider: (name) => shared.provider(name) ?? (built.find((b) => b.slot.kind === 'provider' && b.slot.name === name)?.instance as Provider | undefined),
    rebuild: shared.rebuild,
    callsAs: (principal) => backgroundCalls(current, principal, shared.serving), serving: shared.serving,
    routes: () => current().publishedRoutes(),
    get<T>(capability: Token<T>): T {
      // Recursive: the kernel's own capabilities (GatewayControl) are in the gateway's container.
      if (!container.isRegistered(capability.key, true)) throw new Error(planned.uses.includes(capability.key) ? `needs ${capability.description}, which gateway.yaml does not configure` : `asks for ${capability.description} without listing it in its manifest's \`uses\` (or \`needs\`): what a plugin lists is set up before it`)
      return container.resolve<T>(capability.key)
    },
    tryGet: (capability) => tryResolve(container, capability),
    provide<T>(capability: Token<T>, value: T): void {
      if (!planned.provides.includes(capability.key)) throw new Error(`provides ${capability.description} without listing it in its manifest's \`provides\``)
      provided.set(capability.key, value)
    },
    keep<T extends object>(key: string, create: () => T): T {
      const id = `${manifest.id}:${slot.name}:${key}`
      let value = shared.kept.get(id) as T | undefined
      if (!value) shared.kept.set(id, (value = create()))
      return value
    },
  }
  let late = false
  const setup = Promise.resolve().then(() => manifest.setup(ctx, slot.block))
  // A setup that finishes after we gave up must still release what it took.
  void setup.then((instance) => late && (instance as Lifecycle | undefined)?.dispose?.(), () => undefined)
  try {
    const instance = await withDeadline(setup, SETUP_TIMEOUT_MS, `setup did not finish within ${SETUP_TIMEOUT_MS} ms`).catch((err: unknown) => {
      late = true
      throw err
    })
    if (typeof instance !== 'object' || instance === null) throw new Error('setup must return an instance object')
    settled = true
    return instance as Lifecycle
  } catch (err) {
    throw new ConfigError([load.loaded.issue(slot.path, `plugin ${manifest.id} failed to set up: ${(err as Error).message}`)], true)
  }
}
