/**
 * Fixtures for the limits and cache suites: the shared Redis (REDIS_URL, a key prefix per run,
 * cleaned up after), a private redis-server that a test may kill and restart (the shared one on
 * 6379 serves other suites), plugin contexts for calling a plugin's setup directly, and request
 * helpers. Without a reachable Redis the Redis suites are skipped locally, but when CI=true they
 * run and fail.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createClient } from 'redis'
import type { Logger } from '../../core/logger.ts'
import type { PluginManifest } from '../../plugin-api/types.ts'
import type { RunningGateway } from '../helpers/gateway.ts'
import { testPluginContext } from '../helpers/plugin-context.ts'
import { freePort } from '../helpers/ports.ts'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
export const IS_CI = process.env.CI === 'true'

/** Why Redis cannot be used, or undefined when it answers. */
async function redisProblem(): Promise<string | undefined> {
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 2000, reconnectStrategy: false } })
  client.on('error', () => undefined)
  try {
    await client.connect()
    await client.ping()
    return undefined
  } catch (err) {
    return (err as Error).message
  } finally {
    client.destroy()
  }
}

const problem = await redisProblem()
if (problem && !IS_CI) console.warn(`Redis suites skipped (set CI=true to make this a failure): ${problem}`)
/** Run the Redis suites: always in CI (where an unreachable Redis must fail them), else when it answers. */
export const REDIS_ENABLED = problem === undefined || IS_CI

/** A key prefix no other run uses. */
export function uniquePrefix(label: string): string {
  return `gw-test:${label}:${process.pid}:${randomBytes(3).toString('hex')}:`
}

/** Delete every key under `prefix` (SCAN, not KEYS, so a busy shared Redis is not blocked). */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const client = createClient({ url })
  client.on('error', () => undefined)
  await client.connect()
  let deleted = 0
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length) deleted += await client.del(keys)
    }
  } finally {
    client.destroy()
  }
  return deleted
}

export interface PrivateRedis {
  readonly url: string
  readonly port: number
  /** Kill it (SIGKILL: no goodbye to clients, like a crash). */
  kill(): Promise<void>
  /** Start it again on the same port, empty. */
  start(): Promise<void>
  /** Stop (SIGSTOP) and continue (SIGCONT) it: connections stay open but nothing answers meanwhile. */
  pause(): void
  resume(): void
}

/** A redis-server of this test's own on a free port, without persistence. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = (): Promise<void> => new Promise((resolve, reject) => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    let out = ''
    const timer = setTimeout(() => reject(new Error(`redis-server did not start on ${port}:\n${out}`)), 10_000)
    proc.stdout!.on('data', (d: Buffer) => {
      out += d
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    })
    proc.on('error', (err) => { clearTimeout(timer); reject(err) })
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}:\n${out}`)) })
  })
  const kill = async (): Promise<void> => {
    const proc = child
    child = undefined
    if (!proc || proc.exitCode !== null) return
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill('SIGKILL')
    await exited
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    pause: () => { child?.kill('SIGSTOP') },
    resume: () => { child?.kill('SIGCONT') },
  }
}

export { capturingLogger } from '../helpers/logs.ts'

/** Set a plugin up outside a gateway (capabilities are looked up in `capabilities`). */
export async function setupPlugin<C, I>(manifest: PluginManifest<C, I>, config: C, capabilities: Map<symbol, unknown> = new Map(), logger?: Logger): Promise<I> {
  return manifest.setup(testPluginContext({ id: manifest.id, logger, capabilities }), config)
}

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: any
}

/** POST a chat completion (JSON), returning status, headers and the parsed body. */
export async function chat(gw: RunningGateway | string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Answer> {
  const url = typeof gw === 'string' ? gw : gw.url
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hello gateway' }], ...body }),
  })
  const text = await res.text()
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch { /* SSE or text */ }
  return { status: res.status, headers: res.headers, body: parsed }
}

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` })

/** The value of a metric sample in Prometheus text, or undefined. */
export async function metric(gw: RunningGateway, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`${gw.url}/metrics`)).text()
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}

/**
 * A gateway config on the mock provider: a route of each name (default `mock`), then `extra` YAML
 * (auth, departments, a cache...), then the limiter (memory unless `backend` names another) with
 * these policies, one YAML flow mapping each.
 */
export function limitsConfig(policies: readonly string[], options: { routes?: readonly string[]; backend?: string; extra?: string } = {}): string {
  const routes = (options.routes ?? ['mock']).map((model) => `  - model: ${model}\n    targets: [ { provider: mock } ]\n`).join('')
  return `version: 1
providers:
  mock: { plugin: mock }
routes:
${routes}${options.extra ?? ''}limits:
  backend: ${options.backend ?? '{ plugin: memory }'}
  policies:
${policies.map((policy) => `    - ${policy}\n`).join('')}`
}
