/**
 * Queue backends (`queue:`: memory, rabbitmq) and the plugins that hand long work to workers
 * through them (RAG ingestion, training jobs): the kernel sets a backend up and offers it as
 * `Queue` (`ctx.get(Queue)`), and never calls it itself.
 */
import { token, type Lifecycle, type Token } from '../../plugin-api/index.ts'

export interface QueueMessage<T = unknown> {
  readonly topic: string
  readonly body: T
  /** Deliveries so far, this one included. */
  readonly attempts: number
  /** The publisher's id for the message (dedupes a redelivery). */
  readonly id: string
}

export interface Queue extends Lifecycle {
  publish<T>(topic: string, body: T, options?: { id?: string; delayMs?: number }): Promise<void>
  /** Start consuming; the handler's rejection retries (bounded, then dead-letters). Returns a function that stops it. */
  consume<T>(topic: string, handler: (msg: QueueMessage<T>) => Promise<void>, options?: { prefetch?: number }): Promise<() => Promise<void>>
}

/** The configured `queue:` backend; absent when the config has none. */
export const Queue: Token<Queue> = token<Queue>('Queue')
