/** Where plugins plug into gateway.yaml. */
import type { PluginKind, PluginManifest } from '../../plugin-api/types.ts'
import type { ConfigPath } from './issues.ts'
import type { GatewayConfig } from './types.ts'

export interface PluginSlot {
  readonly kind: PluginKind
  /** Path of the block in the config. */
  readonly path: ConfigPath
  /** Instance name: the key under `providers:`/`services:`/`stages:`/`surfaces:`, else the plugin name. */
  readonly name: string
  /** The plugin's name within its kind (`plugin:`). */
  readonly plugin: string
  /** The block without the kernel-owned keys: what the plugin's configSchema validates. */
  readonly block: Record<string, unknown>
  /** Kernel-owned keys of stage blocks: the routes (globs) a stage applies to. */
  readonly routes?: readonly string[]
  /** Kernel-owned: a stage's priority over its plugin's own. */
  readonly priority?: number
  /** Built in and not named by the config (its manifest's `enabledByDefault`). */
  readonly implied?: boolean
}

type SlotShape = { kind: PluginKind; at: readonly string[]; shape: 'one' | 'map' | 'list' | 'named-map' }

/** Named in the config; in set-up order when nothing else decides it (see orderSlots). */
export const SLOT_SHAPES: readonly SlotShape[] = [
  { kind: 'telemetry', at: ['telemetry'], shape: 'named-map' },
  { kind: 'store', at: ['store'], shape: 'one' },
  { kind: 'queue', at: ['queue'], shape: 'one' },
  { kind: 'limiter', at: ['limits', 'backend'], shape: 'one' },
  { kind: 'cache', at: ['cache'], shape: 'one' },
  { kind: 'service', at: ['services'], shape: 'named-map' },
  { kind: 'provider', at: ['providers'], shape: 'map' },
  { kind: 'auth', at: ['auth', 'strategies'], shape: 'list' },
  { kind: 'stage', at: ['stages'], shape: 'named-map' },
  { kind: 'surface', at: ['surfaces'], shape: 'named-map' },
]

/** Keys of a block the kernel reads itself (never passed to the plugin). */
const KERNEL_KEYS = ['plugin', 'optional', 'routes', 'priority', 'enabled']

function pluginBlock(block: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(block)) if (!KERNEL_KEYS.includes(key)) out[key] = value
  return out
}

/** The value at `path` in a config (parsed or validated), or undefined. */
export function valueAt(config: unknown, path: ConfigPath): unknown {
  let value: unknown = config
  for (const key of path) value = (value as Record<string | number, unknown> | undefined)?.[key]
  return value
}

/** Where gateway.yaml plugs plugins in, named ones in SLOT_SHAPES order, then the built-ins it has without naming them (`enabledByDefault`). */
export function pluginSlots(config: GatewayConfig, manifests: Iterable<Pick<PluginManifest, 'id' | 'kind' | 'enabledByDefault'>> = []): PluginSlot[] {
  const slots: PluginSlot[] = []
  for (const { kind, at: path, shape } of SLOT_SHAPES) {
    const value = valueAt(config, path)
    if (value === undefined || value === null) continue
    if (shape === 'one') {
      const block = value as Record<string, unknown>
      slots.push({ kind, path, name: String(block.plugin), plugin: String(block.plugin), block: pluginBlock(block) })
    } else if (shape === 'list') {
      ;(value as Record<string, unknown>[]).forEach((block, i) => {
        slots.push({ kind, path: [...path, i], name: `${String(block.plugin)}#${i}`, plugin: String(block.plugin), block: pluginBlock(block) })
      })
    } else {
      for (const [name, raw] of Object.entries(value as Record<string, Record<string, unknown> | null>)) {
        const block = raw ?? {}
        if (block.enabled === false) continue
        const plugin = shape === 'named-map' ? String(block.plugin ?? name) : String(block.plugin)
        slots.push({
          kind, path: [...path, name], name, plugin, block: pluginBlock(block),
          routes: Array.isArray(block.routes) ? (block.routes as string[]) : undefined,
          priority: typeof block.priority === 'number' ? block.priority : undefined,
        })
      }
    }
  }
  for (const manifest of manifests) {
    const implied = manifest.enabledByDefault === true ? {} : manifest.enabledByDefault
    if (!implied || (implied.requires && valueAt(config, implied.requires) === undefined)) continue
    const name = manifest.id.slice(manifest.kind.length + 1)
    // A block the config names wins, and `<kind>s: { <name>: { enabled: false } }` turns it off.
    if (slots.some((s) => s.kind === manifest.kind && s.name === name)) continue
    if ((valueAt(config, [`${manifest.kind}s`, name]) as Record<string, unknown> | undefined)?.enabled === false) continue
    const raw = implied.at ? valueAt(config, implied.at) : undefined
    const block: Record<string, unknown> = typeof raw === 'object' && raw !== null ? { ...raw } : {}
    for (const key of implied.omit ?? []) delete block[key]
    for (const [key, path] of Object.entries(implied.include ?? {})) if (valueAt(config, path) !== undefined) block[key] = valueAt(config, path)
    slots.push({ kind: manifest.kind, path: implied.at ?? [], name, plugin: name, block, implied: true })
  }
  return slots
}
