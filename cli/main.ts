/**
 * gateway start | worker | validate | schema | config diff   (gateway --help, gateway COMMAND --help)
 *
 *   gateway start [--config FILE] [--port N] [--no-watch] [--no-jobs]   (GATEWAY_CONFIG, PORT from the environment;
 *                                                           SIGHUP reloads, SIGTERM drains and stops;
 *                                                           --no-jobs: HTTP only, queued jobs left to workers)
 *   gateway worker [--config FILE] [--no-watch] [--metrics-port N]  queue consumers only, no API (needs a shared
 *                                                queue and store); probes and /metrics on N when given
 *   gateway validate FILE...                     exit 0 if every file is valid; errors as FILE:LINE:COL path: message
 *   gateway schema [--config FILE]               the JSON Schema: core + every plugin (and the config's own plugins)
 */
import cluster from 'node:cluster'
import os from 'node:os'
import { parseArgs } from 'node:util'
import path from 'node:path'
import type { ClusterPeers, WorkerConfigState } from '../core/gateway.ts'
import type { GatewayConfig } from '../core/config/types.ts'
import type { ConfigIssue, LoadedConfig } from '../core/config/index.ts'
import { existsSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { PluginRegistry } from '../core/plugins/registry.ts'
import { withGatewayFlags } from './node-flags.ts'

// Each command imports what it runs, when it runs: `--version` and `--help` load no gateway code,
// `validate` and `schema` not the server (koa, the store drivers, the provider kit).
const configModule = () => import('../core/config/index.ts')
const builtinRegistry = async (): Promise<PluginRegistry> => (await import('../core/plugins/loader.ts')).builtinRegistry()

/** Each command: its usage line, what it does, and its options (node:util parseArgs). */
const COMMANDS = {
  start: {
    usage: 'gateway start [--config FILE] [--port N] [--host ADDR] [--no-watch] [--no-jobs] [--workers N|auto]',
    about: 'Run the gateway. SIGHUP reloads the config, SIGTERM/SIGINT drain and stop.',
    options: {
      config: { type: 'string', short: 'c', about: 'the config file (default: $GATEWAY_CONFIG or ./gateway.yaml)' },
      port: { type: 'string', short: 'p', about: 'listen port, overrides server.port (also $PORT)' },
      host: { type: 'string', about: 'listen address, overrides server.host (also $GATEWAY_HOST); without auth the default is 127.0.0.1' },
      'no-watch': { type: 'boolean', about: 'do not reload when the config file changes (SIGHUP still does)' },
      'no-jobs': { type: 'boolean', about: 'serve HTTP only: queued jobs (ingestion, training) are left to `gateway worker` processes' },
      workers: { type: 'string', short: 'w', about: 'gateway processes on one port: a number, or auto for one per core (also $GATEWAY_WORKERS)' },
    },
  },
  worker: {
    usage: 'gateway worker [--config FILE] [--no-watch] [--metrics-port N]',
    about: 'Run queue consumers only (ingestion, training), no HTTP: workers scale apart from the gateways. Needs a queue and a store other processes reach (rabbitmq, postgres).',
    options: {
      config: { type: 'string', short: 'c', about: 'the config file (default: $GATEWAY_CONFIG or ./gateway.yaml)' },
      'no-watch': { type: 'boolean', about: 'do not reload when the config file changes (SIGHUP still does)' },
      'metrics-port': { type: 'string', about: 'serve /metrics, /health and /ready on this port (its consumers\' in-flight, retries, dead letters); also $WORKER_METRICS_PORT' },
    },
  },
  validate: {
    usage: 'gateway validate [--allow-missing-env] [FILE...]',
    about: 'Check config files: YAML, schema, plugin blocks, references (routes, roles). Prints every problem as FILE:LINE:COL path: message; exit 0 when all are valid, else 1. A secret written in a file (not a ${VAR}) is a warning.',
    options: {
      'allow-missing-env': { type: 'boolean', about: 'an unset ${VAR} is a warning, not an error (CI without secrets)' },
    },
  },
  schema: {
    usage: 'gateway schema [--config FILE]',
    about: "Print the JSON Schema (2020-12) of gateway.yaml: the core, every plugin's block, and the config's own plugins.",
    options: { config: { type: 'string', short: 'c', about: 'also include the plugins this config lists (its unset variables are allowed)' } },
  },
  config: {
    usage: 'gateway config diff [--json] OLD NEW',
    about: 'What a rollout changes from OLD to NEW: routes and their targets, providers, departments, roles, limits, flags. Exit 0 when nothing changes, 1 when something does, 2 on an error. Unset variables are allowed (no secrets needed).',
    options: { json: { type: 'boolean', about: 'print the changes as JSON' } },
  },
} as const satisfies Record<string, { usage: string; about: string; options: Record<string, { type: 'string' | 'boolean'; short?: string; about: string }> }>

type CommandName = keyof typeof COMMANDS

const USAGE = `usage:\n${Object.values(COMMANDS).map((c) => `  ${c.usage}`).join('\n')}\n  gateway --version\n\n'gateway COMMAND --help' describes a command.`

function commandHelp(name: CommandName): string {
  const command = COMMANDS[name]
  const options = Object.entries(command.options).map(([option, o]) => {
    const spec = `${'short' in o ? `-${o.short}, ` : '    '}--${option}${o.type === 'string' ? ' VALUE' : ''}`
    return `  ${spec.padEnd(28)} ${o.about}`
  })
  return `usage: ${command.usage}\n\n${command.about}\n\noptions:\n${[...options, `  ${'-h, --help'.padEnd(28)} this help`].join('\n')}`
}

/** A wrong command line: one clear line on stderr and exit code 2 (no stack trace). */
class UsageError extends Error {}

/** parseArgs with the command's options; unknown options and missing values are UsageErrors. */
function parse(name: CommandName, args: string[], positionals = false): { values: Record<string, string | boolean | undefined>; positionals: string[] } | 'help' {
  if (args.includes('--help') || args.includes('-h')) return 'help'
  const options = Object.fromEntries(Object.entries(COMMANDS[name].options).map(([k, o]) => [k, { type: o.type, ...('short' in o ? { short: o.short } : {}) }]))
  try {
    return parseArgs({ args, options, allowPositionals: positionals, strict: true }) as { values: Record<string, string | boolean | undefined>; positionals: string[] }
  } catch (err) {
    throw new UsageError(`gateway ${name}: ${(err as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '')} ('gateway ${name} --help' lists the options)`)
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'start': return await start(rest)
      case 'worker': return await worker(rest)
      case 'validate': return await validate(rest)
      case 'schema': return await schema(rest)
      case 'config': return await config(rest)
      case '-v': case '--version': case 'version':
        console.log(version())
        return 0
      case '-h': case '--help': case 'help':
        console.log(rest[0] && rest[0] in COMMANDS ? commandHelp(rest[0] as CommandName) : USAGE)
        return 0
      case undefined:
        console.error(USAGE)
        return 2
      default:
        throw new UsageError(`gateway: unknown command '${command}' (commands: ${Object.keys(COMMANDS).join(', ')}; 'gateway --help' for more)`)
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(err.message)
    return 2
  }
}

function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL(PACKAGE_JSON, import.meta.url)), 'utf8')) as { name: string; version: string }
  return `${pkg.name} ${pkg.version} (node ${process.versions.node})`
}
// cli/main.ts and dist/cli/main.js sit at different depths below package.json.
const PACKAGE_JSON = existsSync(fileURLToPath(new URL('../package.json', import.meta.url))) ? '../package.json' : '../../package.json'

function configFile(value: string | undefined): string {
  return path.resolve(value ?? process.env.GATEWAY_CONFIG ?? 'gateway.yaml')
}

async function start(args: string[]): Promise<number> {
  const parsed = parse('start', args)
  if (parsed === 'help') return help('start')
  const values = parsed.values as { config?: string; port?: string; host?: string; 'no-watch'?: boolean; 'no-jobs'?: boolean; workers?: string }
  // An empty variable is unset, as `${VAR:-default}` in gateway.yaml reads it (Number('') would be port 0, a random one).
  const portText = values.port ?? (process.env.PORT || undefined)
  const port = portText === undefined ? undefined : Number(portText)
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new UsageError(`gateway start: invalid port '${portText}' (0-65535)`)
  }
  const workersText = values.workers ?? (process.env.GATEWAY_WORKERS || undefined)
  const workers = workersText === undefined ? 1 : workersText === 'auto' ? os.availableParallelism() : Number(workersText)
  if (!Number.isInteger(workers) || workers < 1) {
    throw new UsageError(`gateway start: invalid --workers '${workersText}': a whole number, or auto (one per core)`)
  }
  const file = configFile(values.config)
  const unreadable = await secretFiles(file)
  if (unreadable) return cannotStart(unreadable)
  const runsJobs = !values['no-jobs'] && process.env.GATEWAY_NO_JOBS !== '1'
  const started = stopWhileStarting()
  if (workers > 1 && cluster.isPrimary) {
    started()
    return runPrimary(workers, file, runsJobs)
  }

  const [{ startGateway }, { ConfigError, formatIssue }] = await Promise.all([import('../core/gateway.ts'), configModule()])
  let gateway
  try {
    gateway = await startGateway({
      source: { file }, port, host: values.host ?? (process.env.GATEWAY_HOST || undefined), watch: !values['no-watch'], logLevel: process.env.LOG_LEVEL || undefined, runsJobs,
      cluster: cluster.isWorker ? workerPeers() : undefined,
    })
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.issues.map(formatIssue).join('\n'))
    else console.error(`cannot start: ${(err as Error).message}`)
    return 1
  }
  // Signals are handled before readiness is announced: a supervisor that stops the gateway as soon
  // as it says it listens gets a drain, not node's default of dying on the spot.
  started()
  process.on('SIGHUP', () => void gateway.controller.reload('SIGHUP'))
  // The first signal drains. A second (an impatient Ctrl-C, a supervisor's repeat) cuts the
  // connections at once, and the usage the store has not taken still goes to the journal within
  // shutdown_timeout_ms; node's own handler would have died on the spot and lost it. A third exits.
  let signals = 0
  let code = 0
  const stop = (signal: string): void => {
    signals++
    if (signals === 1) {
      gateway.logger.info({ signal }, 'shutting down')
      void gateway.close().then(() => process.exit(code), () => process.exit(1))
    } else if (signals === 2) {
      code = 1
      gateway.logger.warn({ signal }, 'second signal: closing every connection now; usage not yet stored goes to the journal (a third signal exits at once)')
      gateway.server.closeAllConnections()
    } else {
      gateway.logger.warn({ signal }, 'third signal: exiting now')
      gateway.logger.flush()
      process.exit(1)
    }
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  if (cluster.isWorker) process.send?.({ type: 'listening', url: gateway.url })
  else console.error(`gateway listening on ${gateway.url} (config ${gateway.controller.current.version})`)
  return new Promise<number>(() => undefined) // runs until a signal
}

/** Each `${NAME}` the config reads whose `NAME_FILE` is set, from that file (cli/secret-files.ts); what went wrong, if anything. */
async function secretFiles(file: string): Promise<string | undefined> {
  // A config that cannot be read is the loader's to report, at its place.
  const text = await readFile(file, 'utf8').catch(() => '')
  if (!text.includes('${')) return undefined
  const { secretsFromFiles } = await import('./secret-files.ts')
  try {
    secretsFromFiles(text)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/**
 * Until the gateway serves, SIGTERM or SIGINT stops the start at once (nothing is in flight; a migration under way is rolled
 * back). As a container's PID 1, node has no default action for them: a pod deleted while its gateway waited for a store went
 * on starting until the kubelet's SIGKILL. Returns what removes this, once the drain's own handlers take over.
 */
function stopWhileStarting(): () => void {
  const stop = (signal: NodeJS.Signals): void => {
    console.error(`${signal} while starting: stopped`)
    process.exit(128 + os.constants.signals[signal])
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  return () => {
    process.off('SIGTERM', stop)
    process.off('SIGINT', stop)
  }
}

function cannotStart(message: string): number {
  console.error(`cannot start: ${message}`)
  return 1
}

/**
 * `--workers N`: one gateway process per worker (node:cluster), sharing the listening port. The
 * primary checks the config once, restarts a worker that dies, forwards SIGHUP (reload) and
 * SIGTERM (drain and stop) to every worker, and exits when they have.
 */
async function runPrimary(workers: number, file: string, runsJobs: boolean): Promise<number> {
  const { ConfigError, formatIssue, loadConfig } = await configModule()
  try {
    const { loaded } = await loadConfig({ file }, await builtinRegistry())
    const problems = sharedProcessIssues(loaded, 'with --workers')
    if (problems.length) {
      console.error(problems.map(formatIssue).join('\n'))
      return 1
    }
  } catch (err) {
    console.error(err instanceof ConfigError ? err.issues.map(formatIssue).join('\n') : (err as Error).message)
    return 1
  }
  let stopping = false
  let listening = 0
  // Every worker's config version, relayed to all of them so each one's /health shows the whole set.
  const states = new Map<number, WorkerConfigState>()
  const broadcast = (): void => {
    const table = [...states.values()].sort((a, b) => a.pid - b.pid)
    // A worker may be going away meanwhile (a stop, a crash): its send fails to the callback, not as an uncaught 'error' that would end the primary.
    for (const w of Object.values(cluster.workers ?? {})) if (w?.isConnected()) w.send({ type: 'gateway:workers', workers: table }, undefined, () => undefined)
  }
  const fork = (): void => {
    const worker = cluster.fork(runsJobs ? {} : { GATEWAY_NO_JOBS: '1' })
    worker.on('message', (message: { type?: string; url?: string; state?: WorkerConfigState }) => {
      if (message?.type === 'listening' && ++listening === workers) console.error(`gateway listening on ${message.url} (${workers} workers)`)
      if (message?.type === 'gateway:config' && message.state) {
        states.set(message.state.pid, message.state)
        broadcast()
      }
      // A reload asked of one worker (the admin API) is a SIGHUP to the others.
      if (message?.type === 'gateway:reload') {
        for (const w of Object.values(cluster.workers ?? {})) if (w && w !== worker) w.process.kill('SIGHUP')
      }
    })
  }
  cluster.on('exit', (worker, code, signal) => {
    if (worker.process.pid !== undefined && states.delete(worker.process.pid)) broadcast()
    if (stopping) return
    console.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`)
    setTimeout(fork, 1000).unref()
  })
  // The workers serve: they run with the gateway's node flags even when the primary was started without them.
  cluster.setupPrimary({ execArgv: withGatewayFlags(process.execArgv) })
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
  const parsed = parse('worker', args)
  if (parsed === 'help') return help('worker')
  const values = parsed.values as { config?: string; 'no-watch'?: boolean; 'metrics-port'?: string }
  const file = configFile(values.config)
  const unreadable = await secretFiles(file)
  if (unreadable) return cannotStart(unreadable)
  const started = stopWhileStarting()
  const portText = values['metrics-port'] ?? process.env.WORKER_METRICS_PORT
  const metricsPort = portText === undefined || portText === '' ? undefined : Number(portText)
  if (metricsPort !== undefined && !(Number.isInteger(metricsPort) && metricsPort >= 0 && metricsPort < 65536)) throw new UsageError(`gateway worker: invalid --metrics-port '${portText}': a port number`)
  const [{ startWorker }, { ConfigError, formatIssue, loadConfig }] = await Promise.all([import('../core/gateway.ts'), configModule()])
  try {
    const { loaded } = await loadConfig({ file }, await builtinRegistry())
    const problems = sharedProcessIssues(loaded, 'a worker')
    if (problems.length) {
      console.error(problems.map(formatIssue).join('\n'))
      return 1
    }
  } catch (err) {
    console.error(err instanceof ConfigError ? err.issues.map(formatIssue).join('\n') : (err as Error).message)
    return 1
  }
  let running
  try {
    running = await startWorker({ source: { file }, watch: !values['no-watch'], logLevel: process.env.LOG_LEVEL || undefined, metricsPort })
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.issues.map(formatIssue).join('\n'))
    else console.error(`cannot start: ${(err as Error).message}`)
    return 1
  }
  // As for `start`: signals are handled before the worker says it runs.
  started()
  process.on('SIGHUP', () => void running.controller.reload('SIGHUP'))
  const stop = (signal: string): void => {
    running.logger.info({ signal }, 'worker shutting down')
    void running.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  console.error(`gateway worker running (config ${running.controller.current.version})${running.metricsUrl ? `, probes on ${running.metricsUrl}` : ''}`)
  return new Promise<number>(() => undefined)
}

/**
 * What a config run by several processes cannot have, each at its line: the embedded store (one
 * process's); for `gateway worker`, no queue or the in-process one (it would never see the jobs).
 */
function sharedProcessIssues(loaded: LoadedConfig, by: 'a worker' | 'with --workers'): ConfigIssue[] {
  const { queue, store } = loaded.config
  return [
    by === 'a worker' && queue === undefined ? loaded.issue([], 'no `queue:` is configured: a worker consumes a queue (queue: { plugin: rabbitmq, url: "${RABBITMQ_URL}" })') : undefined,
    by === 'a worker' && queue?.plugin === 'memory' ? loaded.issue(['queue', 'plugin'], 'queue.memory lives inside one process, so a worker would never see the gateway\'s jobs: use queue: { plugin: rabbitmq, url: "${RABBITMQ_URL}" }') : undefined,
    store?.plugin === 'embedded' ? loaded.issue(['store', 'plugin'], `the embedded store belongs to one process${by === 'a worker' ? ':' : '; with --workers'} use store: { plugin: postgres, url: "\${DATABASE_URL}" }`) : undefined,
  ].filter((issue) => issue !== undefined)
}

/** A worker's view of its peers: the table the primary broadcasts, and messages to it. */
function workerPeers(): ClusterPeers {
  let table: readonly WorkerConfigState[] = []
  process.on('message', (message: { type?: string; workers?: WorkerConfigState[] }) => {
    if (message?.type === 'gateway:workers' && Array.isArray(message.workers)) table = message.workers
  })
  return {
    workers: () => table,
    report: (state) => { process.send?.({ type: 'gateway:config', state }) },
    reloadAll: () => { process.send?.({ type: 'gateway:reload' }) },
  }
}

async function validate(args: string[]): Promise<number> {
  const parsed = parse('validate', args, true)
  if (parsed === 'help') return help('validate')
  const allowMissingEnv = parsed.values['allow-missing-env'] === true
  const files = parsed.positionals.length ? parsed.positionals : [configFile(undefined)]
  const [{ ConfigError, formatIssue, loadConfig }, { secretsInFile }] = await Promise.all([configModule(), import('./secrets.ts')])
  const builtins = await builtinRegistry()
  let failed = false
  for (const file of files) {
    // A secret written in the file, valid or not: a warning (exit code unchanged), so the review sees it.
    const text = await readFile(file, 'utf8').catch(() => '')
    for (const issue of secretsInFile(text, file)) console.log(`${formatIssue(issue)} (warning)`)
    const unreadable = await secretFiles(file)
    if (unreadable) {
      failed = true
      console.log(`${file}:1:1 (root): ${unreadable}`)
      continue
    }
    try {
      const { loaded } = await loadConfig({ file }, builtins, process.env, { allowMissingEnv })
      // Unset variables, allowed: said as warnings, so CI shows what production must set.
      for (const issue of allowMissingEnv ? loaded.envIssues : []) console.log(`${formatIssue(issue)} (warning)`)
      console.log(`${file}: ok`)
    } catch (err) {
      failed = true
      if (err instanceof ConfigError) console.log(err.issues.map(formatIssue).join('\n'))
      else console.log(`${file}:1:1 (root): ${(err as Error).message}`)
    }
  }
  return failed ? 1 : 0
}

async function config(args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub === undefined || sub === '--help' || sub === '-h') return help('config')
  if (sub !== 'diff') throw new UsageError(`gateway config: unknown subcommand '${sub}' (have: diff)`)
  const parsed = parse('config', rest, true)
  if (parsed === 'help') return help('config')
  if (parsed.positionals.length !== 2) throw new UsageError(`gateway config diff: give two files, OLD and NEW (got ${parsed.positionals.length})`)
  const [{ ConfigError, formatIssue, loadConfig }, { configDiff, describeChanges }] = await Promise.all([configModule(), import('./diff.ts')])
  const builtins = await builtinRegistry()
  const configs: GatewayConfig[] = []
  for (const file of parsed.positionals) {
    try {
      configs.push((await loadConfig({ file: path.resolve(file) }, builtins, process.env, { allowMissingEnv: true })).loaded.config)
    } catch (err) {
      console.error(err instanceof ConfigError ? err.issues.map(formatIssue).join('\n') : `${file}: ${(err as Error).message}`)
      return 2
    }
  }
  const changes = configDiff(configs[0], configs[1])
  console.log(parsed.values.json ? JSON.stringify({ changed: changes.length > 0, changes }, null, 2) : describeChanges(changes))
  return changes.length ? 1 : 0
}

function help(name: CommandName): number {
  console.log(commandHelp(name))
  return 0
}

async function schema(args: string[]): Promise<number> {
  const parsed = parse('schema', args)
  if (parsed === 'help') return help('schema')
  const values = parsed.values as { config?: string }
  const [{ loadConfig }, { mergedSchema }] = await Promise.all([configModule(), import('./schema.ts')])
  let registry: PluginRegistry = await builtinRegistry()
  if (values.config) {
    try {
      // Only its `plugins:` matter here: unset variables (CI has no secrets) are allowed, as `config diff` allows them.
      registry = (await loadConfig({ file: path.resolve(values.config) }, registry, process.env, { allowMissingEnv: true })).registry
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
