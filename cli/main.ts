/**
 * gateway start | worker | validate | schema
 *
 *   gateway start [--config FILE] [--port N] [--no-watch] [--no-jobs]   (GATEWAY_CONFIG, PORT from the environment;
 *                                                           SIGHUP reloads, SIGTERM drains and stops;
 *                                                           --no-jobs: HTTP only, queued jobs left to workers)
 *   gateway worker [--config FILE] [--no-watch]  queue consumers only, no HTTP (needs a shared queue and store)
 *   gateway validate FILE...                     exit 0 if every file is valid; errors as FILE:LINE:COL path: message
 *   gateway schema [--config FILE]               the JSON Schema: core + every plugin (and the config's own plugins)
 */
import cluster from 'node:cluster'
import os from 'node:os'
import { parseArgs } from 'node:util'
import path from 'node:path'
import { startGateway, startWorker } from '../core/gateway.ts'
import { ConfigError, formatIssue, loadConfig } from '../core/config/index.ts'
import { mergedSchema } from './schema.ts'
import { builtinRegistry } from '../core/plugins/loader.ts'
import type { PluginRegistry } from '../core/plugins/registry.ts'

const USAGE = `usage:
  gateway start [--config FILE] [--port N] [--no-watch] [--no-jobs] [--workers N|auto]
  gateway worker [--config FILE] [--no-watch]
  gateway validate FILE...
  gateway schema [--config FILE]`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'start': return start(rest)
    case 'worker': return worker(rest)
    case 'validate': return validate(rest)
    case 'schema': return schema(rest)
    case undefined: case '-h': case '--help': case 'help':
      console.log(USAGE)
      return command === undefined ? 1 : 0
    default:
      console.error(`unknown command '${command}'\n${USAGE}`)
      return 1
  }
}

function configFile(value: string | undefined): string {
  return path.resolve(value ?? process.env.GATEWAY_CONFIG ?? 'gateway.yaml')
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' }, 'no-watch': { type: 'boolean' }, 'no-jobs': { type: 'boolean' }, workers: { type: 'string', short: 'w' } },
  })
  const portText = values.port ?? process.env.PORT
  const port = portText === undefined ? undefined : Number(portText)
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    console.error(`invalid port '${portText}'`)
    return 1
  }
  const workersText = values.workers ?? process.env.GATEWAY_WORKERS
  const workers = workersText === undefined ? 1 : workersText === 'auto' ? os.availableParallelism() : Number(workersText)
  if (!Number.isInteger(workers) || workers < 1) {
    console.error(`invalid --workers '${workersText}': a whole number, or auto (one per core)`)
    return 1
  }
  const file = configFile(values.config)
  const runsJobs = !values['no-jobs'] && process.env.GATEWAY_NO_JOBS !== '1'
  if (workers > 1 && cluster.isPrimary) return runPrimary(workers, file, runsJobs)

  let gateway
  try {
    gateway = await startGateway({ source: { file }, port, watch: !values['no-watch'], logLevel: process.env.LOG_LEVEL || undefined, runsJobs })
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.issues.map(formatIssue).join('\n'))
    else console.error(`cannot start: ${(err as Error).message}`)
    return 1
  }
  if (cluster.isWorker) process.send?.({ type: 'listening', url: gateway.url })
  else console.error(`gateway listening on ${gateway.url} (config ${gateway.controller.current.version})`)
  process.on('SIGHUP', () => void gateway.controller.reload('SIGHUP'))
  const stop = (signal: string): void => {
    gateway.logger.info({ signal }, 'shutting down')
    void gateway.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  return new Promise<number>(() => undefined) // runs until a signal
}

/**
 * `--workers N`: one gateway process per worker (node:cluster), sharing the listening port. The
 * primary checks the config once, restarts a worker that dies, forwards SIGHUP (reload) and
 * SIGTERM (drain and stop) to every worker, and exits when they have.
 */
async function runPrimary(workers: number, file: string, runsJobs: boolean): Promise<number> {
  try {
    const { loaded } = await loadConfig({ file }, await builtinRegistry())
    if (loaded.config.store?.plugin === 'embedded') {
      console.error(`${file}: the embedded store belongs to one process; with --workers use store: { plugin: postgres, url: \${DATABASE_URL} }`)
      return 1
    }
  } catch (err) {
    console.error(err instanceof ConfigError ? err.issues.map(formatIssue).join('\n') : (err as Error).message)
    return 1
  }
  let stopping = false
  let listening = 0
  const fork = (): void => {
    const worker = cluster.fork(runsJobs ? {} : { GATEWAY_NO_JOBS: '1' })
    worker.on('message', (message: { type?: string; url?: string }) => {
      if (message?.type === 'listening' && ++listening === workers) console.error(`gateway listening on ${message.url} (${workers} workers)`)
    })
  }
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return
    console.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`)
    setTimeout(fork, 1000).unref()
  })
  for (let i = 0; i < workers; i++) fork()
  const each = (signal: NodeJS.Signals): void => { for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal) }
  process.on('SIGHUP', () => each('SIGHUP'))
  return new Promise<number>((resolve) => {
    const stop = (): void => {
      stopping = true
      each('SIGTERM')
      const check = setInterval(() => {
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          clearInterval(check)
          resolve(0)
        }
      }, 50)
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
  })
}

/**
 * `gateway worker`: queue consumers only, no HTTP. A worker shares its jobs with the gateways that
 * publish them, so the queue and the store must be ones other processes reach.
 */
async function worker(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, 'no-watch': { type: 'boolean' } } })
  const file = configFile(values.config)
  try {
    const { loaded } = await loadConfig({ file }, await builtinRegistry())
    const problems = [
      loaded.config.queue === undefined ? 'no `queue:` is configured: a worker consumes a queue (queue: { plugin: rabbitmq, url: ${RABBITMQ_URL} })' : '',
      loaded.config.queue?.plugin === 'memory' ? 'queue.memory lives inside one process, so a worker would never see the gateway\'s jobs: use queue: { plugin: rabbitmq, url: ${RABBITMQ_URL} }' : '',
      loaded.config.store?.plugin === 'embedded' ? 'the embedded store belongs to one process: use store: { plugin: postgres, url: ${DATABASE_URL} }' : '',
    ].filter(Boolean)
    if (problems.length) {
      for (const p of problems) console.error(`${file}: ${p}`)
      return 1
    }
  } catch (err) {
    console.error(err instanceof ConfigError ? err.issues.map(formatIssue).join('\n') : (err as Error).message)
    return 1
  }
  let running
  try {
    running = await startWorker({ source: { file }, watch: !values['no-watch'], logLevel: process.env.LOG_LEVEL || undefined })
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.issues.map(formatIssue).join('\n'))
    else console.error(`cannot start: ${(err as Error).message}`)
    return 1
  }
  console.error(`gateway worker running (config ${running.controller.current.version})`)
  process.on('SIGHUP', () => void running.controller.reload('SIGHUP'))
  const stop = (signal: string): void => {
    running.logger.info({ signal }, 'worker shutting down')
    void running.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  return new Promise<number>(() => undefined)
}

async function validate(files: string[]): Promise<number> {
  if (files.length === 0) files = [configFile(undefined)]
  const builtins = await builtinRegistry()
  let failed = false
  for (const file of files) {
    try {
      await loadConfig({ file }, builtins)
      console.log(`${file}: ok`)
    } catch (err) {
      failed = true
      if (err instanceof ConfigError) console.log(err.issues.map(formatIssue).join('\n'))
      else console.log(`${file}:1:1 (root): ${(err as Error).message}`)
    }
  }
  return failed ? 1 : 0
}

async function schema(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } })
  let registry: PluginRegistry = await builtinRegistry()
  if (values.config) {
    try {
      registry = (await loadConfig({ file: path.resolve(values.config) }, registry)).registry
    } catch (err) {
      console.error((err as Error).message)
      return 1
    }
  }
  console.log(JSON.stringify(mergedSchema(registry), null, 2))
  return 0
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (err: unknown) => {
    console.error((err as Error).stack ?? String(err))
    process.exitCode = 1
  },
)
