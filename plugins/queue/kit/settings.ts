/**
 * What both queue backends share: the retry settings in their gateway.yaml block, the backoff
 * between attempts, and the queue metrics on /metrics. One place, so `queue: { plugin: memory }`
 * and `queue: { plugin: rabbitmq }` retry, dead-letter and count the same way.
 */
import { randomUuid, type JsonSchema, type Metrics } from '../../../plugin-api/index.ts'

export interface RetrySettings {
  /** Deliveries before a failing message is dead-lettered. */
  max_attempts: number
  /** The wait before the first retry; doubled each time. */
  retry_delay_ms: number
  max_retry_delay_ms: number
  /** Messages handled at once per consumer, when the consumer does not say. */
  prefetch: number
}

export const RETRY_SCHEMA: Readonly<Record<string, JsonSchema>> = Object.freeze({
  max_attempts: { type: 'integer', minimum: 1, maximum: 100, default: 5, description: 'Deliveries of a message whose handler fails before it goes to the dead-letter queue.' },
  retry_delay_ms: { type: 'integer', minimum: 0, maximum: 3_600_000, default: 1000, description: 'Wait before the first retry; doubled for each later one.' },
  max_retry_delay_ms: { type: 'integer', minimum: 0, maximum: 86_400_000, default: 60_000, description: 'The longest wait between retries.' },
  prefetch: { type: 'integer', minimum: 1, maximum: 10_000, default: 10, description: 'Messages a consumer works on at once (and holds unacknowledged), unless it asks for another number.' },
})

/** The wait before delivery number `attempts + 1`, after `attempts` failed ones. Rounded to whole steps so RabbitMQ needs few delay queues. */
export function retryDelayMs(settings: RetrySettings, attempts: number): number {
  const raw = settings.retry_delay_ms * 2 ** Math.max(0, attempts - 1)
  return Math.min(settings.max_retry_delay_ms, raw)
}

/** The queue's gauges and counters, labelled by topic (topics are named by plugins, never by requests). */
export interface QueueMetrics {
  depth(topic: string, value: number): void
  inFlight(topic: string, value: number): void
  deadDepth(topic: string, value: number): void
  retried(topic: string): void
  deadLettered(topic: string): void
  published(topic: string): void
  /** Seconds from publish (or the end of a retry's delay) to the handler starting. */
  pickup(topic: string, seconds: number): void
}

export function queueMetrics(metrics: Metrics, backend: string): QueueMetrics {
  const labels = ['backend', 'topic']
  const depth = metrics.gauge('gateway_queue_depth', 'Messages waiting in each queue (not yet delivered).', labels)
  const inFlight = metrics.gauge('gateway_queue_in_flight', 'Messages being handled by this process\'s consumers.', labels)
  const deadDepth = metrics.gauge('gateway_queue_dead_letter_depth', 'Messages in each dead-letter queue.', labels)
  const retries = metrics.counter('gateway_queue_retries_total', 'Failed deliveries scheduled for another attempt.', labels)
  const dead = metrics.counter('gateway_queue_dead_letters_total', 'Messages dead-lettered after their last failed attempt.', labels)
  const published = metrics.counter('gateway_queue_published_total', 'Messages published.', labels)
  const pickup = metrics.histogram('gateway_queue_pickup_seconds', 'From publish to a consumer starting on the message.', labels, [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 30])
  const at = (topic: string) => ({ backend, topic })
  return {
    depth: (topic, value) => depth.set(value, at(topic)),
    inFlight: (topic, value) => inFlight.set(value, at(topic)),
    deadDepth: (topic, value) => deadDepth.set(value, at(topic)),
    retried: (topic) => retries.inc(at(topic)),
    deadLettered: (topic) => dead.inc(at(topic)),
    published: (topic) => published.inc(at(topic)),
    pickup: (topic, seconds) => pickup.observe(seconds, at(topic)),
  }
}

const TOPIC = /^[a-z0-9][a-z0-9._-]{0,99}$/

/** Topics become queue names and metric labels: keep them short and plain. */
export function checkTopic(topic: string): void {
  if (!TOPIC.test(topic)) throw new Error(`queue topic '${topic}' must be 1-100 characters of a-z, 0-9, '.', '_' or '-'`)
}

/** Why a handler failed, as a dead letter keeps it (its message, bounded). */
export function failureReason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text
}

/** A message id when the publisher gives none. */
export function messageId(id: string | undefined): string {
  return id ?? randomUuid()
}
