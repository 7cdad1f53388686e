/** The reload controller owns the current snapshot: a reload builds the next one beside it and swaps only a whole one; a failed config leaves the old serving. */
import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import chokidar, { type FSWatcher } from 'chokidar'
import { ConfigError, loadConfig, type ConfigLoad, type ConfigSource, type ConfigIssue } from '../config/index.ts'
import { dottedPath } from '../config/issues.ts'
import { valueAt } from '../config/slots.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import { GatewayControl } from '../../plugin-api/types.ts'
import type { GatewayConfig } from '../config/types.ts'
import type { Logger } from '../logger.ts'
import { InstancePool } from './instances.ts'
import 'reflect-metadata'
import { container as rootContainer } from 'tsyringe'
import { GatewayMetrics } from '../metrics.ts'
import { Gauge, type Registry } from 'prom-client'
import type { GatewayServices } from './services.ts'
import type { Snapshot } from './snapshot.ts'
import { buildSnapshot } from './build.ts'
import { within } from '../../plugin-api/kit/deadline.ts'

export interface ReloadFailure {
  readonly at: Date
  readonly message: string
  readonly issues: readonly ConfigIssue[]
}

export type ReloadOutcome = { status: 'reloaded'; version: string } | { status: 'unchanged'; version: string } | { status: 'failed'; error: ReloadFailure }

export interface ReloadControllerOptions {
  source: ConfigSource
  builtins: PluginRegistry
  logger: Logger
  env?: NodeJS.ProcessEnv
  /** Debounce for file events, ms. */
  debounceMs?: number
  /** How often the file's digest is checked in case a file event was missed, ms. */
  pollMs?: number
  /** Whether this process runs queued jobs (default true). */
  runsJobs?: boolean
  /** The other workers' reload (`--workers`), for the admin service's. */
  reloadPeers?: (reason: string) => void
}

/** Settings read once at start; a change to them is reported, not applied. */
const RESTART_ONLY = ['port', 'host'] as const
const DEFAULT_SHUTDOWN_MS = 10_000
/** Each shutdown step gets at least this long, even when in-flight requests used the whole budget. */
const MIN_SHUTDOWN_STEP_MS = 1000

/** The blocks plugins read once at start (their `enabledByDefault.readOnce`, e.g. `usage:`), as JSON by dotted path: a change to one is reported, not applied. */
function readOnceBlocks(load: ConfigLoad): Map<string, string> {
  const blocks = new Map<string, string>()
  for (const { enabledByDefault: slot } of load.registry.enabledByDefault()) {
    if (typeof slot === 'object' && slot.readOnce && slot.at) blocks.set(dottedPath(slot.at), JSON.stringify(valueAt(load.loaded.config, slot.at) ?? {}))
  }
  return blocks
}

export class ReloadController {
  readonly #options: ReloadControllerOptions
  readonly #logger: Logger
  readonly #pool: InstancePool
  /** Metrics and what plugins keep (target health among it) outlive snapshots: a reload forgets nothing. */
  readonly shared: GatewayServices
  #current: Snapshot | undefined
  #lastError: ReloadFailure | null = null
  #restartRequired: string[] = []
  #watcher: FSWatcher | undefined
  #debounce: NodeJS.Timeout | undefined
  /** Reloads run one at a time; a request for one while another runs is folded into a single rerun. */
  #running: Promise<ReloadOutcome> | undefined
  #rerun: Promise<ReloadOutcome> | undefined
  #fileDigest: string | undefined
  /** The server settings the process started with (the listen address cannot change live). */
  #startedWith: NonNullable<GatewayConfig['server']> = {}
  /** The blocks plugins read once, as the process started with them (see readOnceBlocks). */
  #startedBlocks = new Map<string, string>()
  /** Digest of the last file content that failed, and when to try it again: a refused config waits for the file to change; one whose plugin failed to set up is retried, backing off from 1 s to a minute. */
  #failedDigest: string | undefined
  #retryAt = 0
  #failuresInRow = 0
  #poll: NodeJS.Timeout | undefined
  #reloads = { ok: 0, failed: 0 }
  readonly #snapshotListeners: ((snapshot: Snapshot) => void)[] = []
  readonly #serving: () => void

  constructor(options: ReloadControllerOptions) {
    this.#options = options
    this.#logger = options.logger
    this.#pool = new InstancePool(options.logger)
    const metrics = new GatewayMetrics()
    let serving!: () => void
    this.#serving = () => serving()
    this.shared = { serving: new Promise<void>((resolve) => { serving = resolve }), metrics, container: rootContainer.createChildContainer(), kept: new Map(), runsJobs: options.runsJobs ?? true, provider: (name) => this.#current?.providers.get(name), rebuild: (reason) => this.reload(reason, true, true).then(() => undefined, () => undefined), features: () => this.#current?.features }
    this.shared.container.register(GatewayControl.key, { useValue: this.#control() })
    this.#configGauges(metrics.registry)
  }

  /** Read at scrape time, for an alert and a rollout check: whether the last reload took, and which config version serves (across replicas). */
  #configGauges(registry: Registry): void {
    const controller = this
    new Gauge({ name: 'gateway_config_last_reload_successful', help: '1 if the config file as last read is serving; 0 while a refused reload leaves the previous config serving.', registers: [registry], collect() { this.set(controller.#lastError ? 0 : 1) } })
    new Gauge({ name: 'gateway_config_info', help: 'The config version serving (its hash, as /health shows), value 1.', labelNames: ['version'], registers: [registry], collect() { this.reset(); if (controller.#current) this.set({ version: controller.#current.version }, 1) } })
  }

  /** Load the initial config; throws (ConfigError) if it is not usable. */
  async start(): Promise<Snapshot> {
    const load = await loadConfig(this.#options.source, this.#options.builtins, this.#options.env)
    try {
      this.#current = await buildSnapshot(load, this.#pool, this.shared, this.#logger, () => this.current)
    } catch (err) {
      // What a plugin took at start (a usage journal left by the last run) goes to the next process.
      await this.#disposeKept(() => 0)
      throw err
    }
    this.#serving()
    this.#startedBlocks = readOnceBlocks(load)
    this.#startedWith = { ...this.#current.config.server }
    this.#fileDigest = await this.#digest()
    this.#logger.info({ version: this.#current.version, source: this.#current.source }, 'config loaded')
    return this.#current
  }

  #control(): GatewayControl {
    return {
      routes: () => ({ version: this.current.version, routes: this.current.routes.all() }),
      reload: async (reason) => {
        this.#options.reloadPeers?.(reason)
        const outcome = await this.reload(reason)
        return outcome.status === 'failed' ? { status: 'failed', message: outcome.error.message, issues: outcome.error.issues } : outcome
      },
    }
  }

  /** Call `listener` with each snapshot as it becomes current: the current one now, then each reload's. */
  onSnapshot(listener: (snapshot: Snapshot) => void): void {
    this.#snapshotListeners.push(listener)
    if (this.#current) listener(this.#current)
  }

  get current(): Snapshot {
    if (!this.#current) throw new Error('ReloadController.start() has not completed')
    return this.#current
  }

  get lastError(): ReloadFailure | null {
    return this.#lastError
  }

  get restartRequired(): readonly string[] {
    return this.#restartRequired
  }

  get reloadCounts(): { ok: number; failed: number } {
    return { ...this.#reloads }
  }

  /** Reload now. Concurrent calls share one pending rerun, so the last file state always wins. */
  reload(reason: string, force = true, rebuild = false): Promise<ReloadOutcome> {
    if (!this.#running) {
      this.#running = this.#reload(reason, force, rebuild).finally(() => { this.#running = undefined })
      return this.#running
    }
    this.#rerun ??= this.#running.then(() => {
      this.#rerun = undefined
      return this.reload(reason, force, rebuild)
    })
    return this.#rerun
  }

  /** `rebuild`: a new snapshot even when the config did not change (a plugin's route overlay did). */
  async #reload(reason: string, force: boolean, rebuild: boolean): Promise<ReloadOutcome> {
    const old = this.current
    let digest: string | undefined
    try {
      digest = await this.#digest()
      if (!force && digest !== undefined && (digest === this.#fileDigest || (digest === this.#failedDigest && Date.now() < this.#retryAt))) {
        // Back to the file being served (a bad edit undone): nothing is wrong any more, which the log says after its refusal.
        if (digest === this.#fileDigest && this.#lastError) this.#logger.info({ reason, version: old.version }, 'config file back to the config serving: the last reload error is cleared')
        if (digest === this.#fileDigest) this.#lastError = null
        return { status: 'unchanged', version: old.version }
      }
      const load = await loadConfig(this.#options.source, this.#options.builtins, this.#options.env)
      const same = load.loaded.hash === old.version
      if (same) this.#fileDigest = digest
      if (same && !this.#lastError && !rebuild) return { status: 'unchanged', version: old.version }
      const next = await buildSnapshot(load, this.#pool, this.shared, this.#logger, () => this.current)
      this.#fileDigest = digest
      this.#current = next
      for (const listener of this.#snapshotListeners) listener(next)
      this.#lastError = null
      this.#failuresInRow = 0
      this.#restartRequired = RESTART_ONLY.filter((k) => next.config.server?.[k] !== this.#startedWith[k]).map((k) => `server.${k}`)
      for (const [at, block] of readOnceBlocks(load)) if (this.#startedBlocks.get(at) !== block) this.#restartRequired.push(at)
      if (this.#restartRequired.length) this.#logger.warn({ settings: this.#restartRequired }, 'config changes that need a restart to take effect')
      this.#reloads.ok++
      this.shared.metrics.reloads.inc({ result: 'ok' })
      this.#logger.info({ reason, version: next.version, previous: old.version }, 'config reloaded')
      void old.retire()
      return { status: 'reloaded', version: next.version }
    } catch (err) {
      const issues = err instanceof ConfigError ? err.issues : []
      this.#lastError = { at: new Date(), message: (err as Error).message, issues }
      this.#failedDigest = digest
      const retryInMs = err instanceof ConfigError && !err.passing ? undefined : Math.min(60_000, 1000 * 2 ** this.#failuresInRow++)
      this.#retryAt = retryInMs === undefined ? Infinity : Date.now() + retryInMs
      this.#reloads.failed++
      this.shared.metrics.reloads.inc({ result: 'failed' })
      this.#logger.error({ reason, error: this.#lastError.message, retry_in_s: retryInMs && retryInMs / 1000 }, 'config reload rejected; the previous config keeps serving')
      return { status: 'failed', error: this.#lastError }
    }
  }

  /** sha256 of the file as it is now: file events that do not change it are ignored. A file that cannot be read is '', a state refused once (not at every poll) until the file is back. */
  async #digest(): Promise<string | undefined> {
    if (!('file' in this.#options.source)) return undefined
    try {
      return createHash('sha256').update(await readFile(this.#options.source.file)).digest('hex')
    } catch {
      return ''
    }
  }

  /** Watch the config file's folder: rename-on-save and a ConfigMap's `..data` symlink swap replace the file rather than write it. */
  async watch(): Promise<void> {
    if (!('file' in this.#options.source) || this.#watcher) return
    const file = path.resolve(this.#options.source.file)
    // atomic: false — every event counts; we compare file digests ourselves, so editor temp files cost nothing.
    this.#watcher = chokidar.watch(path.dirname(file), { ignoreInitial: true, depth: 0, followSymlinks: false, atomic: false })
    const debounce = this.#options.debounceMs ?? 100
    const onEvent = (): void => {
      clearTimeout(this.#debounce)
      this.#debounce = setTimeout(() => void this.reload('file change', false), debounce)
    }
    this.#watcher.on('all', onEvent)
    this.#watcher.on('error', (err) => this.#logger.error({ err: (err as Error).message }, 'config watcher error'))
    // Until its first scan is done the watcher reports nothing: a change made right after start would wait for the poll below.
    await new Promise<void>((resolve) => this.#watcher!.once('ready', () => resolve()))
    // A safety net for file events the OS drops under load: compare the file's digest now and then.
    this.#poll = setInterval(() => void this.reload('poll', false), this.#options.pollMs ?? 1000).unref()
  }

  /** Stop watching, flush what plugins kept, retire the snapshot: each step within what is left of `timeoutMs` (at least MIN_SHUTDOWN_STEP_MS). */
  async close(timeoutMs = DEFAULT_SHUTDOWN_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const left = (): number => Math.max(MIN_SHUTDOWN_STEP_MS, deadline - Date.now())
    clearTimeout(this.#debounce)
    clearInterval(this.#poll)
    await this.#watcher?.close()
    this.#watcher = undefined
    if (this.#running && await within(this.#running.catch(() => undefined), left()) === 'timeout') {
      this.#logger.warn('shutdown: a config reload still running was abandoned')
    }
    // What plugins kept across reloads goes first (a usage writer's last events, written while the store is still open; what it cannot write in time is journaled), then the instances.
    await this.#disposeKept(left)
    if (this.#current && await within(this.#current.retire(), left()) === 'timeout') {
      this.#logger.warn({ inflight: this.#current.inflight }, 'shutdown: plugins did not close in time (a backend that does not answer?); exiting without waiting')
    }
  }

  /** Release what plugins kept across reloads, each within what `left()` says is left of the shutdown. */
  async #disposeKept(left: () => number): Promise<void> {
    for (const kept of this.shared.kept.values()) {
      const dispose = (kept as { dispose?: (timeoutMs: number) => unknown }).dispose
      if (dispose) await within(Promise.resolve(dispose.call(kept, left())), left())
    }
    this.shared.kept.clear()
  }
}
