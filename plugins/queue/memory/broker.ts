/**
 * The in-process broker behind queue.memory: per topic, the messages waiting, the consumers and
 * what each holds unacknowledged, retries after a delay, and a dead-letter list. It behaves as
 * RabbitMQ does for the gateway's purposes: a handler that resolves acks, one that rejects is
 * retried (then dead-lettered), and a consumer stopped with messages still in hand gives them
 * back, so another consumer receives them (with `attempts` counting the lost delivery).
 */
import { GatewayError } from '../../../plugin-api/index.ts'
import type { QueueMessage } from '../../contracts/queue.ts'
import { checkTopic, failureReason, messageId, retryDelayMs, type QueueMetrics, type RetrySettings } from '../kit/settings.ts'

interface Envelope {
  readonly id: string
  readonly topic: string
  /** JSON text: bodies are copied as a broker would, so a consumer never shares the publisher's objects. */
  readonly payload: string
  /** Deliveries so far. */
  attempts: number
  /** When it became deliverable (performance.now()), for the pickup metric. */
  readyAt: number
  /** Why its last delivery failed. */
  error?: string
}

type Handler = (msg: QueueMessage<unknown>) => Promise<void>

interface Consumer {
  readonly handler: Handler
  readonly prefetch: number
  readonly held: Set<Envelope>
  stopped: boolean
}

interface Topic {
  readonly name: string
  readonly waiting: Envelope[]
  readonly consumers: Consumer[]
  readonly dead: Envelope[]
  /** Round-robin position among consumers. */
  next: number
}

export interface MemoryBrokerOptions extends RetrySettings {
  /** Messages the broker holds (waiting + delayed) before publish refuses. */
  max_messages: number
  /** How long stopping a consumer waits for its handlers before giving their messages back. */
  stop_grace_ms: number
}

export class MemoryBroker {
  readonly #topics = new Map<string, Topic>()
  readonly #timers = new Set<NodeJS.Timeout>()
  #held = 0
  settings: MemoryBrokerOptions
  metrics: QueueMetrics

  constructor(settings: MemoryBrokerOptions, metrics: QueueMetrics) {
    this.settings = settings
    this.metrics = metrics
  }

  #topic(name: string): Topic {
    let topic = this.#topics.get(name)
    if (!topic) {
      checkTopic(name)
      this.#topics.set(name, (topic = { name, waiting: [], consumers: [], dead: [], next: 0 }))
    }
    return topic
  }

  publish(topicName: string, body: unknown, options: { id?: string; delayMs?: number } = {}): void {
    const topic = this.#topic(topicName)
    if (this.#held >= this.settings.max_messages) {
      throw new GatewayError(`The in-process queue holds ${this.settings.max_messages} messages; try again later.`, { status: 503, code: 'queue_full', retryable: true })
    }
    const payload = JSON.stringify(body ?? null)
    const envelope: Envelope = { id: messageId(options.id), topic: topicName, payload, attempts: 0, readyAt: performance.now() }
    this.#held++
    this.metrics.published(topicName)
    this.#enqueue(topic, envelope, options.delayMs ?? 0)
  }

  #enqueue(topic: Topic, envelope: Envelope, delayMs: number): void {
    if (delayMs <= 0) {
      envelope.readyAt = performance.now()
      topic.waiting.push(envelope)
      this.#dispatch(topic)
      return
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      this.#enqueue(topic, envelope, 0)
    }, delayMs)
    timer.unref()
    this.#timers.add(timer)
  }

  consume(topicName: string, handler: Handler, prefetch: number): () => Promise<void> {
    const topic = this.#topic(topicName)
    const consumer: Consumer = { handler, prefetch, held: new Set(), stopped: false }
    topic.consumers.push(consumer)
    queueMicrotask(() => this.#dispatch(topic))
    return () => this.#stop(topic, consumer)
  }

  /** Hand waiting messages to consumers with room, in turn. */
  #dispatch(topic: Topic): void {
    while (topic.waiting.length > 0) {
      const consumer = this.#nextWithRoom(topic)
      if (!consumer) break
      this.#deliver(topic, consumer, topic.waiting.shift()!)
    }
    this.#gauges(topic)
  }

  #nextWithRoom(topic: Topic): Consumer | undefined {
    const n = topic.consumers.length
    for (let i = 0; i < n; i++) {
      const consumer = topic.consumers[(topic.next + i) % n]
      if (!consumer.stopped && consumer.held.size < consumer.prefetch) {
        topic.next = (topic.next + i + 1) % n
        return consumer
      }
    }
    return undefined
  }

  #deliver(topic: Topic, consumer: Consumer, envelope: Envelope): void {
    consumer.held.add(envelope)
    envelope.attempts++
    this.metrics.pickup(envelope.topic, (performance.now() - envelope.readyAt) / 1000)
    const message: QueueMessage<unknown> = { topic: envelope.topic, id: envelope.id, attempts: envelope.attempts, body: JSON.parse(envelope.payload) }
    let run: Promise<void>
    try {
      run = Promise.resolve(consumer.handler(message))
    } catch (err) {
      run = Promise.reject(err)
    }
    run.then(
      () => this.#settle(topic, consumer, envelope, undefined),
      (err: unknown) => this.#settle(topic, consumer, envelope, err ?? new Error('handler failed')),
    )
  }

  #settle(topic: Topic, consumer: Consumer, envelope: Envelope, failure: unknown): void {
    // A consumer stopped before its handler ended has given the message back already: this late outcome is nobody's.
    if (!consumer.held.delete(envelope)) return
    if (failure !== undefined) envelope.error = failureReason(failure)
    if (failure === undefined) {
      this.#held--
    } else if (envelope.attempts >= this.settings.max_attempts) {
      this.#held--
      topic.dead.push(envelope)
      this.metrics.deadLettered(envelope.topic)
    } else {
      this.metrics.retried(envelope.topic)
      this.#enqueue(topic, envelope, retryDelayMs(this.settings, envelope.attempts))
    }
    this.#dispatch(topic)
  }

  async #stop(topic: Topic, consumer: Consumer): Promise<void> {
    if (consumer.stopped) return
    consumer.stopped = true
    const deadline = Date.now() + this.settings.stop_grace_ms
    while (consumer.held.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    // What is still in hand goes back to the front of the queue, as an unacknowledged delivery does.
    const abandoned = [...consumer.held]
    consumer.held.clear()
    for (const envelope of abandoned.reverse()) {
      envelope.readyAt = performance.now()
      topic.waiting.unshift(envelope)
    }
    const i = topic.consumers.indexOf(consumer)
    if (i >= 0) topic.consumers.splice(i, 1)
    topic.next = 0
    this.#dispatch(topic)
  }

  #gauges(topic: Topic): void {
    const { name } = topic
    this.metrics.depth(name, topic.waiting.length)
    this.metrics.inFlight(name, topic.consumers.reduce((n, c) => n + c.held.size, 0))
    this.metrics.deadDepth(name, topic.dead.length)
  }

  /** The dead-lettered messages of a topic (oldest first), for inspection, each with why its last delivery failed. */
  deadLetters(topicName: string): (QueueMessage<unknown> & { error: string })[] {
    return (this.#topics.get(topicName)?.dead ?? []).map((e) => ({ topic: e.topic, id: e.id, attempts: e.attempts, body: JSON.parse(e.payload), error: e.error ?? '' }))
  }

  depth(topicName: string): number {
    return this.#topics.get(topicName)?.waiting.length ?? 0
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    for (const topic of this.#topics.values()) for (const c of topic.consumers) c.stopped = true
  }
}
