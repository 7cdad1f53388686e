/**
 * Start and stop a gateway: load the config, build the first snapshot, listen, watch for
 * changes. Used by the CLI and by tests (which run gateways in-process).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from './http/app.ts'
import { createLogger, type Logger } from './logger.ts'
import { builtinRegistry } from './plugins/loader.ts'
import { ReloadController, type UsageOptions } from './runtime/controller.ts'
import type { ConfigSource } from './config/index.ts'

export interface GatewayOptions {
  source: ConfigSource
  /** Overrides server.port (CLI --port, PORT). 0 picks a free port. */
  port?: number
  host?: string
  env?: NodeJS.ProcessEnv
  logger?: Logger
  /** Watch the config file for changes (default true for file sources). */
  watch?: boolean
  debounceMs?: number
  /** How often the config file's digest is checked in case a file event was missed (ms). */
  pollMs?: number
  /** Usage writer tuning (tests shorten the flush interval and give each gateway its own journal). */
  usage?: UsageOptions
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
  const logger = options.logger ?? createLogger()
  const controller = new ReloadController({
    source: options.source,
    builtins: await builtinRegistry(),
    logger,
    env: options.env,
    debounceMs: options.debounceMs,
    pollMs: options.pollMs,
    usage: options.usage,
  })
  const snapshot = await controller.start()
  if (snapshot.auth.length === 0) logger.warn('no auth strategies configured: every request is served as the anonymous user')

  const app = createApp(controller, logger)
  const server = http.createServer(app.callback())
  // Keep-alive longer than typical load balancers' idle timeouts, so they close first.
  server.keepAliveTimeout = 65_000
  server.headersTimeout = 66_000
  server.requestTimeout = 0
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
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      // Keep-alive connections become idle as their last response ends: close each one then.
      server.closeIdleConnections()
      const sweep = setInterval(() => server.closeIdleConnections(), 50)
      const deadline = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), limit).unref())
      if ((await Promise.race([closed.then(() => 'done' as const), deadline])) === 'timeout') {
        logger.warn({ inflight: controller.current.inflight }, 'shutdown timeout: closing remaining connections')
        server.closeAllConnections()
        await closed
      }
      clearInterval(sweep)
      // What is left of the budget: a store that does not answer must not hold the process.
      await controller.close(stopBy - Date.now())
      logger.info('gateway stopped')
      logger.flush()
    })()
    return closing
  }
  return { url: `http://${shownHost}:${bound}`, port: bound, controller, server, logger, close }
}
