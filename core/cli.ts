/**
 * gateway start | validate | schema
 *
 *   gateway start [--config FILE] [--port N] [--no-watch]   (GATEWAY_CONFIG, PORT from the environment;
 *                                                           SIGHUP reloads, SIGTERM drains and stops)
 *   gateway validate FILE...                     exit 0 if every file is valid; errors as FILE:LINE:COL path: message
 *   gateway schema [--config FILE]               the JSON Schema: core + every plugin (and the config's own plugins)
 */
import { parseArgs } from 'node:util'
import path from 'node:path'
import { startGateway } from './gateway.ts'
import { ConfigError, formatIssue, loadConfig } from './config/index.ts'
import { mergedSchema } from './config/validate.ts'
import { builtinRegistry } from './plugins/loader.ts'
import type { PluginRegistry } from './plugins/registry.ts'

const USAGE = `usage:
  gateway start [--config FILE] [--port N] [--no-watch]
  gateway validate FILE...
  gateway schema [--config FILE]`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'start': return start(rest)
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
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' }, 'no-watch': { type: 'boolean' } } })
  const portText = values.port ?? process.env.PORT
  const port = portText === undefined ? undefined : Number(portText)
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    console.error(`invalid port '${portText}'`)
    return 1
  }
  let gateway
  try {
    gateway = await startGateway({ source: { file: configFile(values.config) }, port, watch: !values['no-watch'] })
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.issues.map(formatIssue).join('\n'))
    else console.error(`cannot start: ${(err as Error).message}`)
    return 1
  }
  console.error(`gateway listening on ${gateway.url} (config ${gateway.controller.current.version})`)
  process.on('SIGHUP', () => void gateway.controller.reload('SIGHUP'))
  const stop = (signal: string): void => {
    gateway.logger.info({ signal }, 'shutting down')
    void gateway.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
  return new Promise<number>(() => undefined) // runs until a signal
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
