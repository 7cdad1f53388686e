/** Start and stop a gateway: load the config, build the first snapshot, listen, watch for changes. */
import type http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from './http/app.ts'
import { startProbes } from './http/probes.ts'
import { createGatewayServer, serverSettings } from './http/server.ts'
import { errorWriterFor } from './http/errors.ts'
import { createLogger, logLevelControl, type Logger } from './logger.ts'
import { builtinRegistry } from './plugins/loader.ts'
import { ReloadController } from './runtime/controller.ts'
import type { ConfigSource } from './config/index.ts'
import type { ClusterPeers } from './runtime/cluster.ts'
import type { Snapshot } from './runtime/snapshot.ts'
import { within } from '../plugin-api/kit/deadline.ts'

export type { ClusterPeers, WorkerConfigState } from './runtime/cluster.ts'

export interface GatewayOptions {
  source: ConfigSource
  /** Overrides server.port (CLI --port, PORT). 0 picks a free port. */
  port?: number
  host?: string
  env?: NodeJS.ProcessEnv
  logger?: Logger
  /** A log level that overrides gateway.yaml's logging.level (the CLI passes LOG_LEVEL). */
  logLevel?: string
  /** Watch the config file for changes (default true for file sources). */
  watch?: boolean
  debounceMs?: number
  /** How often the config file's digest is checked in case a file event was missed (ms). */
  pollMs?: number
  /** Whether this process runs queued jobs (default true; `gateway start --no-jobs` serves HTTP only). */
  runsJobs?: boolean
  /** One of several worker processes (`--workers N`): how to reach the others (the CLI's primary relays). */
  cluster?: ClusterPeers
}

export interface RunningGateway {
  readonly url: string
  readonly port: number
  readonly controller: ReloadController
  readonly server: http.Server
  readonly logger: Logger
  /** Stop accepting, finish in-flight requests, write the last usage events, dispose plugins, all within server.shutdown_timeout_ms. */
  close(): Promise<void>
}

const DEFAULT_SHUTDOWN_MS = 10_000

/** The config loaded and its first snapshot built, by a controller that reloads it (a gateway's or a worker's). */
async function startController(options: Omit<GatewayOptions, 'port' | 'host'>): Promise<{ logger: Logger; controller: ReloadController; snapshot: Snapshot }> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info')
  const { source, env, debounceMs, pollMs, runsJobs, cluster } = options
  const reloadPeers = cluster && ((reason: string) => cluster.reloadAll(reason))
  const controller = new ReloadController({ source, builtins: await builtinRegistry(), logger, env, debounceMs, pollMs, runsJobs, reloadPeers })
  return { logger, controller, snapshot: await controller.start() }
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { logger, controller, snapshot } = await startController(options)
  const open = snapshot.auth.length === 0
  if (snapshot.config.store === undefined) logger.info('no store configured: virtual keys, users and usage are not kept (add store: to keep them)')
  if (open) logger.warn('no auth strategies configured: every caller is the anonymous admin (set auth: to require keys)')

  const app = createApp(controller, logger, options.cluster)
  if (options.cluster) {
    const cluster = options.cluster
    const report = (): void => cluster.report({ pid: process.pid, version: controller.current.version, loaded_at: controller.current.loadedAt.toISOString(), last_error: controller.lastError?.message ?? null })
    report()
    controller.onSnapshot(report)
  }
  const gatewayServer = createGatewayServer(app.callback(), serverSettings(snapshot.config.server), logger, (path) => errorWriterFor(path, controller.current.surfaces))
  const { server } = gatewayServer
  // Server timeouts, the header limit and the log level follow the config on every reload.
  const applyLogLevel = logLevelControl(logger, options.logLevel)
  controller.onSnapshot((current) => {
    gatewayServer.apply(serverSettings(current.config.server))
    applyLogLevel(current.config.logging?.level)
  })
  const port = options.port ?? snapshot.config.server?.port ?? 8080
  // Without auth every caller is an admin: the loopback only, unless a host is chosen. Else Node's default: `::` (IPv6 and IPv4: IPv6-only clusters too), or 0.0.0.0 without IPv6.
  const host = options.host ?? snapshot.config.server?.host ?? (open ? '127.0.0.1' : undefined)
  if (open && host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') {
    logger.warn({ host }, 'listening beyond the loopback without auth: anyone who can reach this address is an admin')
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const { port: bound, address } = server.address() as AddressInfo
  if (options.watch ?? 'file' in options.source) await controller.watch()
  const shownHost = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address
  logger.info({ port: bound, host: address, version: snapshot.version }, 'gateway listening')

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const limit = controller.current.config.server?.shutdown_timeout_ms ?? DEFAULT_SHUTDOWN_MS
      const stopBy = Date.now() + limit
      // Responses in flight tell their keep-alive clients that the connection closes (so none sends another request on a socket about to go), and each connection closes as its response ends.
      const closed = gatewayServer.drain()
      if (await within(closed, limit) === 'timeout') {
        logger.warn({ inflight: controller.current.inflight }, 'shutdown timeout: closing remaining connections')
        server.closeAllConnections()
        await closed
      }
      // What is left of the budget: a store that does not answer must not hold the process.
      await controller.close(stopBy - Date.now())
      logger.info('gateway stopped')
      logger.flush()
    })()
    return closing
  }
  return { url: `http://${shownHost}:${bound}`, port: bound, controller, server, logger, close }
}

export interface RunningWorker {
  readonly controller: ReloadController
  readonly logger: Logger
  /** Where its probes (/metrics, /health, /ready) answer, when started with `metricsPort`. */
  readonly metricsUrl?: string
  /** Stop consuming (handlers in flight get the queue's grace period), dispose plugins. */
  close(): Promise<void>
}

/** `gateway worker`: the same config and plugins, no HTTP server (optionally a metrics port). */
export async function startWorker(options: Omit<GatewayOptions, 'port' | 'host' | 'runsJobs' | 'cluster'> & { metricsPort?: number; metricsHost?: string }): Promise<RunningWorker> {
  const { logger, controller, snapshot } = await startController({ ...options, runsJobs: true })
  if (options.watch ?? 'file' in options.source) await controller.watch()
  const probes = options.metricsPort === undefined ? undefined : await startProbes(controller, options.metricsPort, options.metricsHost)
  logger.info({ version: snapshot.version, probes: probes?.url }, 'worker running')
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= Promise.resolve(probes?.close()).then(() => controller.close(controller.current.config.server?.shutdown_timeout_ms ?? DEFAULT_SHUTDOWN_MS)).then(() => {
      logger.info('worker stopped')
      logger.flush()
    })
    return closing
  }
  return { controller, logger, close, ...(probes ? { metricsUrl: probes.url } : {}) }
}
