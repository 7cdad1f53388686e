/** The plugin registry: manifests by id, resolved by kind and the name gateway.yaml writes. */
import { Store, token, type PluginKind, type PluginManifest, type Token } from '../../plugin-api/types.ts'

/** The capability each backend kind provides by being configured (Queue, Limiter and Cache are their families' contracts, plugins/contracts). */
const KIND_PROVIDES: Partial<Record<PluginKind, Token<unknown>>> = { store: Store, queue: token('Queue'), limiter: token('Limiter'), cache: token('Cache') }

/** The plugins (by id) that provide `capability` when configured, whether or not a config uses them yet. */
export function providersOf(registry: PluginRegistry, capability: Token<unknown>): string[] {
  return registry.all().filter(({ summary }) => KIND_PROVIDES[summary.kind]?.key === capability.key || summary.provides?.some((t) => t.key === capability.key)).map(({ summary }) => summary.id)
}

/** The capability a plugin of `kind` is, by being configured (a store is the Store). */
export const kindCapability = (kind: PluginKind): Token<unknown> | undefined => KIND_PROVIDES[kind]

/** The capabilities a configured plugin provides: its kind's, and what its manifest lists. */
export function capabilitiesOf(kind: PluginKind, manifest: PluginManifest): Token<unknown>[] {
  const own = KIND_PROVIDES[kind]
  return [...(own ? [own] : []), ...(manifest.provides ?? [])]
}

const PLUGIN_KINDS: readonly PluginKind[] = ['provider', 'surface', 'stage', 'auth', 'limiter', 'cache', 'store', 'queue', 'service', 'telemetry']
const ID = /^([a-z]+)\.([a-z0-9][a-z0-9_-]*)$/

/** What is known of a plugin before its code is imported: enough to validate its block and write the editor schema. */
export type PluginSummary = Pick<PluginManifest, 'id' | 'kind' | 'description' | 'configSchema' | 'enabledByDefault' | 'provides'>

/** A registered plugin: its summary always, its manifest (the code) once loaded. */
export class RegisteredPlugin {
  #manifest: PluginManifest | undefined
  #loading: Promise<PluginManifest> | undefined
  readonly #load: (() => Promise<PluginManifest>) | undefined

  constructor(
    readonly summary: PluginSummary,
    /** Where it came from: `builtin` or the path/package listed under `plugins:`. */
    readonly origin: string,
    code: PluginManifest | (() => Promise<PluginManifest>),
  ) {
    if (typeof code === 'function') this.#load = code
    else this.#manifest = code
  }

  /** The plugin's code. A built-in's is imported by `PluginRegistry.load`, which loading a config does for every plugin it uses. */
  get manifest(): PluginManifest {
    if (!this.#manifest) throw new Error(`plugin ${this.summary.id} is not loaded (PluginRegistry.load imports it)`)
    return this.#manifest
  }

  /** Whether its code is imported (always, but for a build's built-ins a config has not used yet). */
  get loaded(): boolean {
    return this.#manifest !== undefined
  }

  async load(): Promise<PluginManifest> {
    this.#loading ??= this.#manifest ? Promise.resolve(this.#manifest) : this.#load!().then((manifest) => (this.#manifest = manifest))
    return this.#loading
  }
}

export class PluginRegistry {
  readonly #byId: Map<string, RegisteredPlugin>

  constructor(parent?: PluginRegistry) {
    this.#byId = new Map(parent ? parent.#byId : [])
  }

  /** A registry with everything this one has, for adding a config's third-party plugins to. */
  extend(): PluginRegistry {
    return new PluginRegistry(this)
  }

  register(manifest: PluginManifest, origin: string): void {
    checkSummary(manifest, origin)
    if (typeof manifest.setup !== 'function') throw new Error(`plugin ${manifest.id} has no setup function`)
    const existing = this.#byId.get(manifest.id)
    if (existing && existing.summary !== manifest) {
      throw new Error(`plugin ${manifest.id} from ${origin} clashes with ${existing.origin === 'builtin' ? 'the built-in plugin of that id' : `the one from ${existing.origin}`}: give it another name (its id after the dot, which gateway.yaml writes)`)
    }
    this.#byId.set(manifest.id, new RegisteredPlugin(manifest, origin, manifest))
  }

  /** A plugin known by its summary, its code imported by `load` only when a config uses it (the built-ins of a build). */
  registerLazy(summary: PluginSummary, origin: string, load: () => Promise<PluginManifest>): void {
    checkSummary(summary, origin)
    if (this.#byId.has(summary.id)) throw new Error(`plugin ${summary.id} from ${origin} clashes with the one from ${this.#byId.get(summary.id)!.origin}`)
    this.#byId.set(summary.id, new RegisteredPlugin(summary, origin, async () => {
      const manifest = await load()
      if (manifest.id !== summary.id || typeof manifest.setup !== 'function') throw new Error(`plugin ${summary.id} (${origin}) did not load as itself`)
      return manifest
    }))
  }

  /** Import the code of these plugins (unknown ones are left to the config's validation to report). */
  async load(plugins: Iterable<{ kind: PluginKind; plugin: string }>): Promise<void> {
    const wanted = new Set<RegisteredPlugin>()
    for (const { kind, plugin } of plugins) {
      const found = this.get(kind, plugin)
      if (found) wanted.add(found)
    }
    await Promise.all([...wanted].map((p) => p.load()))
  }

  get(kind: PluginKind, name: string): RegisteredPlugin | undefined {
    return this.#byId.get(`${kind}.${name}`)
  }

  /** Plugin names of one kind, for error messages and the merged schema. */
  names(kind: PluginKind): string[] {
    const prefix = `${kind}.`
    return [...this.#byId.keys()].filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length)).sort()
  }

  /** The plugins every gateway has unless its config turns them off. */
  enabledByDefault(): PluginSummary[] {
    return this.all().filter((p) => p.summary.enabledByDefault).map(({ summary: { id, kind, description, configSchema, enabledByDefault } }) => ({ id, kind, description, configSchema, enabledByDefault }))
  }

  all(): RegisteredPlugin[] {
    return [...this.#byId.values()]
  }
}

function checkSummary(summary: PluginSummary, origin: string): void {
  const shape = ID.exec(summary?.id ?? '')
  if (!shape) throw new Error(`plugin id '${String(summary?.id)}' must be <kind>.<name> in lower case (from ${origin})`)
  if (!PLUGIN_KINDS.includes(summary.kind)) throw new Error(`plugin ${summary.id} has unknown kind '${String(summary.kind)}'`)
  if (shape[1] !== summary.kind) throw new Error(`plugin ${summary.id} declares kind '${summary.kind}' but its id says '${shape[1]}'`)
  if (typeof summary.configSchema !== 'object' || summary.configSchema === null) throw new Error(`plugin ${summary.id} has no configSchema`)
}
