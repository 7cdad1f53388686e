/** Plugin instances, shared between snapshots: one whose plugin, block and dependencies did not change is carried over, not rebuilt. */
import { createHash } from 'node:crypto'
import type { Logger } from '../logger.ts'
import type { Lifecycle, PluginManifest } from '../../plugin-api/types.ts'
import { canonicalJson } from '../../plugin-api/kit/canonical.ts'

interface Entry {
  readonly instance: Lifecycle
  /** The capabilities it provided at setup, registered again when it is carried over. */
  readonly provided: ReadonlyMap<symbol, unknown>
  refs: number
  readonly id: string
}

/** Manifests' serials, in the order they were first keyed. */
const serials = new WeakMap<PluginManifest, number>()
let serialCount = 0

export class InstancePool {
  readonly #entries = new Map<string, Entry>()
  readonly #logger: Logger

  constructor(logger: Logger) {
    this.#logger = logger
  }

  /** `manifest`'s serial is in it: a listed plugin re-imported after an edit is a new manifest, whose instances are new. */
  static key(manifest: PluginManifest, name: string, block: unknown, deps: string): string {
    const digest = createHash('sha256').update(canonicalJson(block)).update('\0').update(deps).digest('hex').slice(0, 16)
    return `${manifest.id}|${name}|${digest}|${serials.get(manifest) ?? serials.set(manifest, ++serialCount).get(manifest)}`
  }

  /** Take a reference to the live instance under `key`, if there is one. */
  reuse(key: string): Lifecycle | undefined {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    entry.refs++
    return entry.instance
  }

  add(key: string, id: string, instance: Lifecycle, provided: ReadonlyMap<symbol, unknown> = new Map()): void {
    this.#entries.set(key, { instance, provided: new Map(provided), refs: 1, id })
  }

  /** What the instance under `key` provided when it was set up. */
  provided(key: string): ReadonlyMap<symbol, unknown> {
    return this.#entries.get(key)?.provided ?? new Map()
  }

  /** Drop one reference to each key; unheld instances are disposed in reverse set-up order, so a plugin finishes before what it uses goes. */
  async release(keys: Iterable<string>): Promise<void> {
    for (const key of [...keys].reverse()) {
      const entry = this.#entries.get(key)
      if (!entry || --entry.refs > 0) continue
      this.#entries.delete(key)
      await this.#dispose(entry)
    }
  }

  async #dispose(entry: Entry): Promise<void> {
    try {
      await entry.instance.dispose?.()
    } catch (err) {
      this.#logger.error({ plugin: entry.id, err: (err as Error).message }, 'plugin dispose failed')
    }
  }
}
