/** Where plugins plug into gateway.yaml. */
import type { PluginKind } from '../plugins/types.ts'
import type { ConfigPath } from './load.ts'
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
  /** Built in and not named by the config (see IMPLIED_SLOTS). */
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

interface ImpliedSlot {
  readonly kind: PluginKind
  readonly name: string
  /** Where its block is (validated against its schema there), or undefined for an empty block. */
  readonly at?: readonly string[]
  /** Keys of that block that belong to another slot (`limits.backend` is the limiter's). */
  readonly omit?: readonly string[]
  /** More of the config the plugin needs, added to its block. */
  readonly extra?: (config: GatewayConfig) => Record<string, unknown>
  readonly when: (config: GatewayConfig) => boolean
}

/** Built-in plugins a config wants without naming them. Named blocks of the same kind and name win. */
export const IMPLIED_SLOTS: readonly ImpliedSlot[] = [
  { kind: 'service', name: 'tokenizer', when: () => true },
  { kind: 'service', name: 'pricing', at: ['pricing'], when: () => true },
  { kind: 'service', name: 'identity', when: (c) => c.store !== undefined },
  { kind: 'stage', name: 'usage', at: ['usage'], when: (c) => c.store !== undefined },
  { kind: 'stage', name: 'limits', at: ['limits'], omit: ['backend'], extra: departmentLimits, when: () => true },
  { kind: 'stage', name: 'cache', at: ['cache'], omit: ['plugin'], when: () => true },
  { kind: 'stage', name: 'cors', at: ['cors'], when: (c) => c.cors !== undefined },
]

/** The departments' limits and budgets, which the limits stage enforces, and the limiter's name (for its metric). */
function departmentLimits(config: GatewayConfig): Record<string, unknown> {
  const departments: Record<string, unknown> = {}
  for (const [name, dept] of Object.entries(config.departments ?? {})) {
    if (dept.limits || dept.budget) departments[name] = { limits: dept.limits, budget: dept.budget }
  }
  const limiter = config.limits?.backend?.plugin
  return { ...(Object.keys(departments).length ? { departments } : {}), ...(limiter ? { limiter } : {}) }
}

/** Keys of a block the kernel reads itself (never passed to the plugin). */
const KERNEL_KEYS = ['plugin', 'optional', 'routes', 'priority', 'enabled']

function pluginBlock(block: Record<string, unknown>, omit: readonly string[] = KERNEL_KEYS): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(block)) if (!omit.includes(key)) out[key] = value
  return out
}

function at(config: GatewayConfig, path: readonly string[]): unknown {
  let value: unknown = config
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key]
  return value
}

/** A plugin every gateway has unless the config turns it off (its manifest's `enabledByDefault`). */
export interface DefaultPlugin {
  readonly kind: PluginKind
  readonly name: string
}

export function pluginSlots(config: GatewayConfig, defaults: readonly DefaultPlugin[] = []): PluginSlot[] {
  const slots: PluginSlot[] = []
  for (const { kind, at: path, shape } of SLOT_SHAPES) {
    const value = at(config, path)
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
  for (const implied of [...IMPLIED_SLOTS, ...defaults.map((d) => ({ ...d, when: () => true }) as ImpliedSlot)]) {
    if (!implied.when(config)) continue
    if (slots.some((s) => s.kind === implied.kind && s.name === implied.name)) continue
    // `surfaces: { <name>: { enabled: false } }` turns an implied one off.
    const named = at(config, [`${implied.kind}s`, implied.name]) as Record<string, unknown> | undefined
    if (named?.enabled === false) continue
    const raw = implied.at ? at(config, implied.at) : undefined
    const block = { ...(typeof raw === 'object' && raw !== null ? pluginBlock(raw as Record<string, unknown>, implied.omit ?? []) : {}), ...implied.extra?.(config) }
    slots.push({ kind: implied.kind, path: implied.at ?? [], name: implied.name, plugin: implied.name, block, implied: true })
  }
  return slots
}
