/**
 * Queue fixtures: each backend's queue made from its manifest with a plugin context of its own
 * (metrics included), the shared RabbitMQ (RABBITMQ_URL) with a queue-name prefix per run, and
 * the reachability check. Without a reachable RabbitMQ the RabbitMQ suite is skipped locally,
 * but when CI=true it runs and fails.
 */
import { randomBytes } from 'node:crypto'
import { Connection } from 'rabbitmq-client'
import { withDefaults } from '../../core/config/validate.ts'
import type { GatewayMetrics } from '../../core/metrics.ts'
import type { PluginContext, PluginManifest } from '../../plugin-api/index.ts'
import type { Queue } from '../../plugins/contracts/queue.ts'
import { testPluginContext } from '../helpers/plugin-context.ts'
import memory from '../../plugins/queue/memory/index.ts'
import rabbitmq from '../../plugins/queue/rabbitmq/index.ts'

export const RABBITMQ_URL = process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
export const IS_CI = process.env.CI === 'true'

async function rabbitProblem(): Promise<string | undefined> {
  const connection = new Connection({ url: RABBITMQ_URL, connectionTimeout: 2000, retryLow: 100, retryHigh: 200 })
  connection.on('error', () => undefined)
  try {
    await connection.onConnect(3000)
    return undefined
  } catch (err) {
    return (err as Error).message
  } finally {
    await connection.close().catch(() => undefined)
  }
}

const problem = await rabbitProblem()
if (problem && !IS_CI) console.warn(`RabbitMQ suites skipped (set CI=true to make this a failure): ${problem}`)
/** Run the RabbitMQ suites: always in CI (where an unreachable broker must fail them), else when it answers. */
export const RABBITMQ_ENABLED = problem === undefined || IS_CI

/** A queue-name prefix no other run uses. */
export function uniquePrefix(label: string): string {
  return `gw-test.${label}.${process.pid}.${randomBytes(3).toString('hex')}.`
}

export interface MadeQueue {
  readonly queue: Queue
  readonly metrics: GatewayMetrics
}

/** A queue made by `manifest`; queues made with one `ctx` share what the plugin keeps (queue.memory's broker). */
export async function makeQueue(manifest: PluginManifest, block: Record<string, unknown>, ctx: PluginContext = testPluginContext({ id: manifest.id })): Promise<MadeQueue> {
  const queue = (await manifest.setup(ctx, withDefaults(manifest, block))) as Queue
  return { queue, metrics: ctx.metrics as GatewayMetrics }
}

export const memoryQueue = (block: Record<string, unknown> = {}, ctx?: PluginContext) => makeQueue(memory as unknown as PluginManifest, block, ctx)
export const rabbitQueue = (block: Record<string, unknown>) => makeQueue(rabbitmq as unknown as PluginManifest, { url: RABBITMQ_URL, ...block })

/** Delete every queue a run declared (work, dead and delay queues of each topic). */
export async function deleteQueues(prefix: string, topics: readonly string[], delays: readonly number[] = []): Promise<void> {
  const connection = new Connection({ url: RABBITMQ_URL })
  connection.on('error', () => undefined)
  try {
    await connection.onConnect(3000)
    for (const topic of topics) {
      for (const name of [`${prefix}${topic}`, `${prefix}${topic}.dead`, ...delays.map((d) => `${prefix}${topic}.delay.${d}`)]) {
        await connection.queueDelete({ queue: name }).catch(() => undefined)
      }
    }
  } finally {
    await connection.close().catch(() => undefined)
  }
}

/** Wait until `check` is true, polling; throws with `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
