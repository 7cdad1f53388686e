/**
 * Start and stop a gateway: load the config, build the first snapshot, listen, watch for
 * changes. Used by the CLI and by tests (which run gateways in-process).
 */
import type http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from './http/app.ts'
import { createGatewayServer, serverSettings } from './http/server.ts'
import { errorWriterFor } from './http/errors.ts'
import { createLogger, LogLevelControl, type Logger } from './logger.ts'
import { builtinRegistry } from './plugins/loader.ts'
import { ReloadController } from './runtime/controller.ts'
import type { ConfigSource } from './config/index.ts'

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
}

export interface RunningGateway {
  readonly url: string
  readonly port: number
  readonly controller: ReloadController
  readonly server: http.Server
  readonly logger: Logger
  /**
   * Stop accepting, let in-flight requests finish, write the last usage events, dispose plugins:
   * all within server.shutdown_timeout_ms (each later step gets at least a second). Usage the
   * store did not take by then is journaled.
   */
  close(): Promise<void>
}

const DEFAULT_SHUTDOWN_MS = 10_000

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info')
  const controller = new ReloadController({
    source: options.source,
    builtins: await builtinRegistry(),
    logger,
    env: options.env,
    debounceMs: options.debounceMs,
    pollMs: options.pollMs,
    runsJobs: options.runsJobs,
  })
  const snapshot = await controller.start()
  if (snapshot.auth.length === 0) logger.warn('no auth strategies configured: every request is served as the anonymous user')

  const app = createApp(controller, logger)
  const gatewayServer = createGatewayServer(app.callback(), serverSettings(snapshot.config.server), logger, (path) => errorWriterFor(path, controller.current.surfaces))
  const { server } = gatewayServer
  // Server timeouts, the header limit and the log level follow the config on every reload.
  const logLevel = new LogLevelControl(logger, options.logLevel)
  controller.onSnapshot((current) => {
    gatewayServer.apply(serverSettings(current.config.server))
    logLevel.apply(current.config.logging?.level)
  })
  const port = options.port ?? snapshot.config.server?.port ?? 8080
  const host = options.host ?? snapshot.config.server?.host ?? '0.0.0.0'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const bound = (server.address() as AddressInfo).port
  if (options.watch ?? 'file' in options.source) await controller.watch()
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  logger.info({ port: bound, host, version: snapshot.version }, 'gateway listening')

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const limit = controller.current.config.server?.shutdown_timeout_ms ?? DEFAULT_SHUTDOWN_MS
      const stopBy = Date.now() + limit
      // Responses in flight tell their keep-alive clients that the connection closes (so none sends
      // another request on a socket about to go), and each connection closes as its response ends.
      const closed = gatewayServer.drain()
      const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), limit).unref())
      if ((await Promise.race([closed.then(() => 'done' as const), deadline])) === 'timeout') {
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
  /** Stop consuming (handlers in flight get the queue's grace period), dispose plugins. */
  close(): Promise<void>
}

/**
 * `gateway worker`: the same config and plugins, no HTTP server. Plugins start their queue
 * consumers (PluginContext.runsJobs), so workers scale apart from the gateways that take requests.
 */
export async function startWorker(options: Omit<GatewayOptions, 'port' | 'host' | 'runsJobs'>): Promise<RunningWorker> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info')
  const controller = new ReloadController({
    source: options.source, builtins: await builtinRegistry(), logger, env: options.env, debounceMs: options.debounceMs, pollMs: options.pollMs, runsJobs: true,
  })
  const snapshot = await controller.start()
  if (options.watch ?? 'file' in options.source) await controller.watch()
  logger.info({ version: snapshot.version }, 'worker running')
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= controller.close(controller.current.config.server?.shutdown_timeout_ms ?? DEFAULT_SHUTDOWN_MS).then(() => {
      logger.info('worker stopped')
      logger.flush()
    })
    return closing
  }
  return { controller, logger, close }
}
