/**
 * queue.memory: the Queue in this process, the shipped default. Messages wait in memory (kept
 * across config reloads, lost when the process stops): right for one gateway that runs its own
 * jobs; several replicas or `gateway worker` processes need queue.rabbitmq.
 *
 *   queue: { plugin: memory, max_attempts: 5, retry_delay_ms: 1000 }
 */
import { definePlugin } from '../../../plugin-api/index.ts'
import type { Queue } from '../../contracts/queue.ts'
import { RETRY_SCHEMA, queueMetrics } from '../kit/settings.ts'
import { MemoryBroker, type MemoryBrokerOptions } from './broker.ts'

export type MemoryQueueConfig = MemoryBrokerOptions

/** A queue.memory instance, with the broker's inspection helpers. */
export interface MemoryQueue extends Queue {
  deadLetters(topic: string): ReturnType<MemoryBroker['deadLetters']>
  depth(topic: string): number
}

export default definePlugin<MemoryQueueConfig, MemoryQueue>({
  id: 'queue.memory',
  kind: 'queue',
  description: 'In-process queue with retries and a dead-letter list (one process; messages do not survive a restart).',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...RETRY_SCHEMA,
      max_messages: { type: 'integer', minimum: 1, default: 100_000, description: 'Messages held (waiting or delayed) before publishing refuses with 503 queue_full.' },
      stop_grace_ms: { type: 'integer', minimum: 0, default: 10_000, description: 'How long a stopping consumer waits for its running handlers before their messages go back to the queue.' },
    },
  },
  setup(ctx, config) {
    const metrics = queueMetrics(ctx.metrics, 'memory')
    // One broker per gateway: a reload that changes the settings keeps the messages.
    const broker = ctx.keep('broker', () => new MemoryBroker(config, metrics))
    broker.settings = config
    broker.metrics = metrics
    const stops = new Set<() => Promise<void>>()
    return {
      async publish(topic, body, options) {
        broker.publish(topic, body, options)
      },
      async consume(topic, handler, options) {
        const stop = broker.consume(topic, handler as (msg: { topic: string; body: unknown; attempts: number; id: string }) => Promise<void>, options?.prefetch ?? config.prefetch)
        const once = async (): Promise<void> => {
          stops.delete(once)
          await stop()
        }
        stops.add(once)
        return once
      },
      deadLetters: (topic) => broker.deadLetters(topic),
      depth: (topic) => broker.depth(topic),
      async dispose() {
        await Promise.all([...stops].map((stop) => stop()))
      },
    }
  },
})
