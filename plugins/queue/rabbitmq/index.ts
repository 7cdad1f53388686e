/**
 * queue.rabbitmq: the Queue on RabbitMQ (rabbitmq-client: it reconnects, re-declares and
 * re-subscribes by itself). Per topic, three durable queues:
 *
 *   <prefix><topic>           the work; persistent messages, published with confirms
 *   <prefix><topic>.delay.<ms> a message waits here `ms` (queue TTL), then dead-letters back to the work queue
 *   <prefix><topic>.dead      messages that failed `max_attempts` times
 *
 * A consumer acks only after its handler resolved; a failed delivery is re-published (confirmed)
 * to a delay queue, or to the dead queue after the last attempt, before the original is acked,
 * so no step can lose it. A connection cut mid-handler leaves the message unacked: the broker
 * delivers it again (at least once: consumers dedupe by the message id).
 */
import type { AsyncMessage, Consumer, Publisher } from 'rabbitmq-client'
import { GatewayError, definePlugin, redactSecrets, within } from '../../../plugin-api/index.ts'
import type { Queue, QueueMessage } from '../../contracts/queue.ts'
import { RETRY_SCHEMA, checkTopic, failureReason, messageId, queueMetrics, retryDelayMs, type RetrySettings } from '../kit/settings.ts'

export interface RabbitQueueConfig extends RetrySettings {
  url: string
  prefix: string
  connect_timeout_ms: number
  publish_timeout_ms: number
  stop_grace_ms: number
  metrics_interval_ms: number
}

const ATTEMPTS = 'x-gateway-attempts'
const PUBLISHED_AT = 'x-gateway-published-at'
/** On a dead letter: why its last delivery failed (the handler's error, the URL's password left out). */
const ERROR = 'x-gateway-error'

export default definePlugin<RabbitQueueConfig, Queue>({
  id: 'queue.rabbitmq',
  kind: 'queue',
  description: 'RabbitMQ: durable queues, publisher confirms, manual acks, delayed retries and a dead-letter queue.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      url: { type: 'string', minLength: 1, default: 'amqp://guest:guest@127.0.0.1:5672', description: 'amqp[s]://user:password@host:port/vhost, e.g. ${RABBITMQ_URL}. Keep the password in the environment.' },
      prefix: { type: 'string', pattern: '^[A-Za-z0-9._-]*$', default: 'gateway.', description: 'Put before every queue name (several gateways or tests may share one broker).' },
      connect_timeout_ms: { type: 'integer', minimum: 1, default: 5000, description: 'How long set-up waits for the first connection (after that the gateway starts anyway, /ready says the broker is down, and it keeps reconnecting).' },
      publish_timeout_ms: { type: 'integer', minimum: 1, default: 10_000, description: 'A publish the broker has not confirmed in this time fails (503).' },
      stop_grace_ms: { type: 'integer', minimum: 0, default: 10_000, description: 'How long a stopping consumer waits for its running handlers; unacked messages go back to the queue.' },
      metrics_interval_ms: { type: 'integer', minimum: 100, default: 15_000, description: 'How often queue depths are read from the broker for /metrics.' },
      ...RETRY_SCHEMA,
    },
  },
  async setup(ctx, config) {
    // Imported here: the AMQP client is loaded only by a gateway that uses this queue.
    const { Connection, ConsumerStatus } = await import('rabbitmq-client')
    const metrics = queueMetrics(ctx.metrics, 'rabbitmq')
    const secrets = secretsOf(config.url)
    const clean = (text: string): string => redactSecrets(text, secrets)
    const connection = new Connection({
      url: config.url,
      connectionName: `ai-gateway ${ctx.name}`,
      acquireTimeout: config.publish_timeout_ms,
      connectionTimeout: config.connect_timeout_ms,
      retryLow: 200,
      retryHigh: 5000,
      // A publish is a few small frames: with Nagle's algorithm one waits for the broker's delayed
      // ACK (40 ms), which set the p99, and the p50 on a loaded machine (RabbitMQ's own clients set it too).
      noDelay: true,
    })
    let lastError: string | undefined
    connection.on('error', (err) => {
      lastError = clean(String((err as Error).message ?? err))
      ctx.logger.warn({ err: lastError }, 'RabbitMQ connection error (reconnecting)')
    })
    connection.on('connection', () => {
      lastError = undefined
      ctx.logger.info('RabbitMQ connected')
    })
    try {
      await connection.onConnect(config.connect_timeout_ms, true)
    } catch (err) {
      ctx.logger.warn({ err: clean((err as Error).message) }, 'RabbitMQ is not reachable yet; publishing waits for it and /ready reports it')
    }

    const publisher: Publisher = connection.createPublisher({ confirm: true, maxAttempts: 3 })
    const names = (topic: string) => ({ work: `${config.prefix}${topic}`, dead: `${config.prefix}${topic}.dead`, delay: (ms: number) => `${config.prefix}${topic}.delay.${ms}` })
    const declared = new Set<string>()
    const known = new Set<string>()
    const inFlight = new Map<string, number>()

    async function declare(queue: string, args?: Record<string, unknown>): Promise<void> {
      if (declared.has(queue)) return
      await connection.queueDeclare({ queue, durable: true, arguments: args })
      declared.add(queue)
    }
    async function declareTopic(topic: string): Promise<void> {
      checkTopic(topic)
      known.add(topic)
      const n = names(topic)
      await declare(n.work)
      await declare(n.dead)
    }
    /** The queue a message waits `ms` in before it is delivered again (one per distinct wait). */
    async function delayQueue(topic: string, ms: number): Promise<string> {
      const n = names(topic)
      const queue = n.delay(ms)
      await declare(queue, { 'x-message-ttl': ms, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': n.work })
      return queue
    }
    async function send(queue: string, id: string, body: string, attempts: number, publishedAt: number, error?: string): Promise<void> {
      try {
        await publisher.send(
          { routingKey: queue, durable: true, messageId: id, contentType: 'application/json', headers: { [ATTEMPTS]: attempts, [PUBLISHED_AT]: publishedAt, ...(error === undefined ? {} : { [ERROR]: error }) } },
          body,
        )
      } catch (err) {
        throw new GatewayError(`The queue did not take the message: ${clean((err as Error).message)}`, { status: 503, code: 'queue_unavailable', retryable: true })
      }
    }

    const consumers = new Set<Consumer>()
    // Depths are read on a channel of their own: a passive declare of a queue not there yet (a
    // consumed topic's dead letters, declared at its first publish) closes its channel, and on the
    // connection's shared channel that failed a declare or publish running beside it (a 503).
    const refreshDepths = async (): Promise<void> => {
      if (!connection.ready) return
      for (const topic of known) {
        const n = names(topic)
        const channel = await connection.acquire().catch(() => undefined)
        if (!channel) return // not connected: the next round tries again
        try {
          metrics.depth(topic, (await channel.queueDeclare({ queue: n.work, passive: true })).messageCount)
          metrics.deadDepth(topic, (await channel.queueDeclare({ queue: n.dead, passive: true })).messageCount)
        } catch { /* the next round tries again */ } finally {
          if (channel.active) await channel.close().catch(() => undefined)
        }
      }
    }
    const depthTimer = setInterval(() => void refreshDepths(), config.metrics_interval_ms)
    depthTimer.unref()

    const queue: Queue = {
      async publish(topic, body, options = {}) {
        try {
          await declareTopic(topic)
        } catch (err) {
          if (err instanceof GatewayError) throw err
          if (/queue topic/.test((err as Error).message)) throw err
          throw new GatewayError(`The queue is unavailable: ${clean((err as Error).message)}`, { status: 503, code: 'queue_unavailable', retryable: true })
        }
        const delay = Math.max(0, Math.round(options.delayMs ?? 0))
        const target = delay > 0 ? await delayQueue(topic, delay) : names(topic).work
        await send(target, messageId(options.id), JSON.stringify(body ?? null), 0, Date.now())
        metrics.published(topic)
      },

      async consume<T>(topic: string, handler: (msg: QueueMessage<T>) => Promise<void>, options: { prefetch?: number } = {}) {
        checkTopic(topic)
        known.add(topic)
        const n = names(topic)
        const prefetch = options.prefetch ?? config.prefetch
        const consumer = connection.createConsumer(
          { queue: n.work, queueOptions: { durable: true }, qos: { prefetchCount: prefetch }, concurrency: prefetch, requeue: true },
          async (msg: AsyncMessage) => {
            const headers = msg.headers ?? {}
            const before = Number(headers[ATTEMPTS] ?? 0)
            // A redelivery after a lost connection is an attempt the header could not count.
            const attempts = before + 1 + (msg.redelivered ? 1 : 0)
            const publishedAt = Number(headers[PUBLISHED_AT] ?? Date.now())
            metrics.pickup(topic, Math.max(0, Date.now() - publishedAt) / 1000)
            const id = msg.messageId ?? ''
            const text = Buffer.isBuffer(msg.body) ? msg.body.toString('utf8') : typeof msg.body === 'string' ? msg.body : JSON.stringify(msg.body)
            let body: T
            try {
              body = JSON.parse(text) as T
            } catch {
              // Not ours to read: straight to the dead letters.
              await send(n.dead, id, JSON.stringify(text), attempts, publishedAt, 'The message body is not JSON.')
              metrics.deadLettered(topic)
              return ConsumerStatus.ACK
            }
            inFlight.set(topic, (inFlight.get(topic) ?? 0) + 1)
            metrics.inFlight(topic, inFlight.get(topic)!)
            try {
              await handler({ topic, id, attempts, body })
              return ConsumerStatus.ACK
            } catch (err) {
              // Re-published (confirmed) before the ack: a failure in between redelivers, never loses.
              const reason = clean(failureReason(err))
              if (attempts >= config.max_attempts) {
                await send(n.dead, id, text, attempts, publishedAt, reason)
                metrics.deadLettered(topic)
                ctx.logger.error({ topic, id, attempts, err: reason }, 'queued job dead-lettered after its last attempt')
              } else {
                await send(await delayQueue(topic, retryDelayMs(config, attempts)), id, text, attempts, Date.now() + retryDelayMs(config, attempts))
                metrics.retried(topic)
                ctx.logger.warn({ topic, id, attempts, err: reason }, 'queued job failed; it is retried')
              }
              return ConsumerStatus.ACK
            } finally {
              inFlight.set(topic, (inFlight.get(topic) ?? 1) - 1)
              metrics.inFlight(topic, inFlight.get(topic)!)
            }
          },
        )
        consumer.on('error', (err) => ctx.logger.warn({ topic, err: clean(String((err as Error)?.message ?? err)) }, 'RabbitMQ consumer error'))
        consumers.add(consumer)
        return async () => {
          if (!consumers.delete(consumer)) return
          await closeWithin(consumer, config.stop_grace_ms)
        }
      },

      ready() {
        if (!connection.ready) throw new Error(`RabbitMQ is not connected${lastError ? `: ${lastError}` : ''}`)
      },

      async dispose() {
        clearInterval(depthTimer)
        await Promise.all([...consumers].map((c) => closeWithin(c, config.stop_grace_ms)))
        consumers.clear()
        await publisher.close().catch(() => undefined)
        // Closing the connection gives back whatever a stuck handler still holds unacked; a close
        // that waits on such a handler's channel past the grace period is cut short.
        await within(connection.close(), config.stop_grace_ms)
        connection.unsafeDestroy()
      },
    }
    return queue
  },
})

/** Close a consumer, waiting for its handlers at most `ms`; the connection's close then requeues what is left. */
async function closeWithin(consumer: Consumer, ms: number): Promise<void> {
  await within(consumer.close(), ms)
}

/** The URL's password (and user), which must never reach a log line. */
function secretsOf(url: string): string[] {
  try {
    const u = new URL(url)
    return [decodeURIComponent(u.password), u.password].filter(Boolean)
  } catch {
    return []
  }
}
