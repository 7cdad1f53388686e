/**
 * Where plugins plug into gateway.yaml. One table drives validation of each plugin block, the
 * merged JSON Schema, and the order plugins are set up in (capabilities before their users).
 */
import type { PluginKind } from '../plugins/types.ts'
import type { ConfigPath } from './load.ts'
import type { GatewayConfig } from './types.ts'

export interface PluginSlot {
  readonly kind: PluginKind
  /** Path of the block in the config. */
  readonly path: ConfigPath
  /** Instance name: the key under `providers:`/`services:`, else the plugin name. */
  readonly name: string
  /** The plugin's name within its kind (`plugin:`). */
  readonly plugin: string
  /** The block without the kernel-owned `plugin` key: what the plugin's configSchema validates. */
  readonly block: Record<string, unknown>
}

type SlotShape = { kind: PluginKind; at: readonly string[]; shape: 'one' | 'map' | 'list' | 'named-map' }

/** In set-up order. */
export const SLOT_SHAPES: readonly SlotShape[] = [
  { kind: 'telemetry', at: ['telemetry'], shape: 'named-map' },
  { kind: 'store', at: ['store'], shape: 'one' },
  { kind: 'queue', at: ['queue'], shape: 'one' },
  { kind: 'limiter', at: ['limits', 'backend'], shape: 'one' },
  { kind: 'cache', at: ['cache'], shape: 'one' },
  { kind: 'provider', at: ['providers'], shape: 'map' },
  { kind: 'auth', at: ['auth', 'strategies'], shape: 'list' },
  { kind: 'service', at: ['services'], shape: 'named-map' },
]

function without(block: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _omit, ...rest } = block
  return rest
}

export function pluginSlots(config: GatewayConfig): PluginSlot[] {
  const slots: PluginSlot[] = []
  for (const { kind, at, shape } of SLOT_SHAPES) {
    let value: unknown = config
    for (const key of at) value = (value as Record<string, unknown> | undefined)?.[key]
    if (value === undefined || value === null) continue
    if (shape === 'one') {
      const block = value as Record<string, unknown>
      slots.push({ kind, path: at, name: String(block.plugin), plugin: String(block.plugin), block: without(block, 'plugin') })
    } else if (shape === 'list') {
      ;(value as Record<string, unknown>[]).forEach((block, i) => {
        slots.push({ kind, path: [...at, i], name: `${String(block.plugin)}#${i}`, plugin: String(block.plugin), block: without(block, 'plugin') })
      })
    } else {
      for (const [name, raw] of Object.entries(value as Record<string, Record<string, unknown> | null>)) {
        const block = raw ?? {}
        const plugin = shape === 'named-map' ? String(block.plugin ?? name) : String(block.plugin)
        // `optional` is the kernel's too (see core/config/load.ts), not the plugin's.
        slots.push({ kind, path: [...at, name], name, plugin, block: without(without(block, 'plugin'), 'optional') })
      }
    }
  }
  return slots
}
