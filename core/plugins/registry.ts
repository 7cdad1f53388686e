/** The plugin registry: manifests by id, resolved by kind and the name gateway.yaml writes. */
import type { PluginKind, PluginManifest } from './types.ts'

export const PLUGIN_KINDS: readonly PluginKind[] = ['provider', 'surface', 'stage', 'auth', 'limiter', 'cache', 'store', 'queue', 'service', 'telemetry']
const ID = /^([a-z]+)\.([a-z0-9][a-z0-9_-]*)$/

export interface RegisteredPlugin {
  readonly manifest: PluginManifest
  /** Where it came from: `builtin` or the path/package listed under `plugins:`. */
  readonly origin: string
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
    const shape = ID.exec(manifest?.id ?? '')
    if (!shape) throw new Error(`plugin id '${String(manifest?.id)}' must be <kind>.<name> in lower case (from ${origin})`)
    if (!PLUGIN_KINDS.includes(manifest.kind)) throw new Error(`plugin ${manifest.id} has unknown kind '${String(manifest.kind)}'`)
    if (shape[1] !== manifest.kind) throw new Error(`plugin ${manifest.id} declares kind '${manifest.kind}' but its id says '${shape[1]}'`)
    if (typeof manifest.setup !== 'function') throw new Error(`plugin ${manifest.id} has no setup function`)
    if (typeof manifest.configSchema !== 'object' || manifest.configSchema === null) throw new Error(`plugin ${manifest.id} has no configSchema`)
    const existing = this.#byId.get(manifest.id)
    if (existing && existing.manifest !== manifest) {
      throw new Error(`plugin ${manifest.id} from ${origin} clashes with the one from ${existing.origin}`)
    }
    this.#byId.set(manifest.id, { manifest, origin })
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
  enabledByDefault(): PluginManifest[] {
    return this.all().filter((p) => p.manifest.enabledByDefault).map((p) => p.manifest)
  }

  all(): RegisteredPlugin[] {
    return [...this.#byId.values()]
  }
}
