/**
 * One queue suite for every backend: publish/consume, retries, dead-lettering, delays, prefetch,
 * redelivery after a consumer dies mid-job, metrics. Each backend's test file calls it with its
 * own way to make a queue.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { QueueMessage } from '../../plugins/contracts/queue.ts'
import { sleep, until, type MadeQueue } from './helpers.ts'

export interface QueueBackend {
  /** A queue on the backend; every queue a test makes shares the broker. */
  make(block?: Record<string, unknown>): Promise<MadeQueue>
  /** Topics are unique per test; the backend cleans them up after. */
  topic(name: string): string
  cleanup?(): Promise<void>
}

const FAST_RETRIES = { max_attempts: 3, retry_delay_ms: 50, max_retry_delay_ms: 100, stop_grace_ms: 200 }

export function queueContract(label: string, backend: QueueBackend): void {
  describe(`${label}: the queue contract`, () => {
    const made: MadeQueue[] = []
    const make = async (block: Record<string, unknown> = {}) => {
      const q = await backend.make({ ...FAST_RETRIES, ...block })
      made.push(q)
      return q
    }
    afterAll(async () => {
      for (const q of made) await q.queue.dispose?.()
      await backend.cleanup?.()
    })

    it('delivers each published message once, with its id, a copy of its body and attempts 1', async () => {
      const { queue } = await make()
      const topic = backend.topic('basic')
      const got: QueueMessage<{ n: number; nested: { list: number[] } }>[] = []
      const stop = await queue.consume<{ n: number; nested: { list: number[] } }>(topic, async (msg) => { got.push(msg) })
      const body = { n: 1, nested: { list: [1, 2, 3] } }
      await queue.publish(topic, body, { id: 'job-1' })
      await queue.publish(topic, { n: 2, nested: { list: [] } })
      body.nested.list.push(4) // the publisher's later change is not the message's
      await until(() => got.length === 2, 'two deliveries')
      await sleep(100)
      expect(got).toHaveLength(2)
      expect(got[0]).toMatchObject({ topic, id: 'job-1', attempts: 1, body: { n: 1, nested: { list: [1, 2, 3] } } })
      expect(got[1].id).toMatch(/\S{8,}/)
      expect(got[1].id).not.toBe('job-1')
      await stop()
    })

    it('retries a failing handler after a delay, with attempts counting up, until it succeeds', async () => {
      const { queue, metrics } = await make()
      const topic = backend.topic('retry')
      const seen: { attempts: number; at: number }[] = []
      const stop = await queue.consume<{ x: number }>(topic, async (msg) => {
        seen.push({ attempts: msg.attempts, at: Date.now() })
        if (msg.attempts < 3) throw new Error('not yet')
      })
      await queue.publish(topic, { x: 1 }, { id: 'r-1' })
      await until(() => seen.length === 3, 'three attempts')
      await sleep(150)
      expect(seen.map((s) => s.attempts)).toEqual([1, 2, 3])
      expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(40) // retry_delay_ms 50, then doubled
      const text = await metrics.registry.metrics()
      expect(text).toMatch(new RegExp(`gateway_queue_retries_total\\{backend="\\w+",topic="${topic.replace(/\./g, '\\.')}"\\} 2`))
      await stop()
    })

    it('dead-letters a message after max_attempts failed deliveries and counts it', async () => {
      const { queue, metrics } = await make()
      const topic = backend.topic('dead')
      let calls = 0
      const stop = await queue.consume(topic, async () => {
        calls++
        throw new Error('always fails')
      })
      await queue.publish(topic, { doomed: true }, { id: 'd-1' })
      await until(() => calls === 3, 'three failed attempts')
      await sleep(300)
      expect(calls).toBe(3) // no fourth delivery
      const text = await metrics.registry.metrics()
      expect(text).toMatch(new RegExp(`gateway_queue_dead_letters_total\\{backend="\\w+",topic="${topic.replace(/\./g, '\\.')}"\\} 1\\n`))
      await stop()
    })

    it('holds a delayed message back for its delay', async () => {
      const { queue } = await make()
      const topic = backend.topic('delay')
      const got: number[] = []
      const stop = await queue.consume(topic, async () => { got.push(Date.now()) })
      const start = Date.now()
      await queue.publish(topic, { later: true }, { delayMs: 300 })
      await until(() => got.length === 1, 'the delayed message')
      expect(got[0] - start).toBeGreaterThanOrEqual(280)
      await stop()
    })

    it('never runs more handlers at once than the prefetch', async () => {
      const { queue } = await make()
      const topic = backend.topic('prefetch')
      let running = 0
      let most = 0
      let done = 0
      const stop = await queue.consume(topic, async () => {
        running++
        most = Math.max(most, running)
        await sleep(20)
        running--
        done++
      }, { prefetch: 2 })
      for (let i = 0; i < 10; i++) await queue.publish(topic, { i })
      await until(() => done === 10, 'ten messages')
      expect(most).toBe(2)
      await stop()
    })

    it('gives a message a consumer died holding to another consumer (attempts 2)', async () => {
      const worker1 = await make()
      const worker2 = await make()
      const topic = backend.topic('redeliver')
      let started = false
      // Worker 1 takes the job and never finishes it.
      const stop1 = await worker1.queue.consume(topic, async () => {
        started = true
        await new Promise(() => undefined)
      })
      await worker1.queue.publish(topic, { job: 'j-1' }, { id: 'j-1' })
      await until(() => started, 'worker 1 to start')
      const got: QueueMessage[] = []
      const stop2 = await worker2.queue.consume(topic, async (msg) => { got.push(msg) })
      await sleep(100)
      expect(got).toHaveLength(0) // held by worker 1
      // Worker 1 dies: its consumer (and, for a broker, its connection) goes.
      await Promise.race([stop1(), sleep(1000)])
      await worker1.queue.dispose?.()
      await until(() => got.length === 1, 'the redelivery')
      expect(got[0]).toMatchObject({ id: 'j-1', body: { job: 'j-1' } })
      expect(got[0].attempts).toBe(2)
      await stop2()
    })

    it('reports depth and in-flight on its metrics', async () => {
      const { queue, metrics } = await make({ metrics_interval_ms: 100 })
      const topic = backend.topic('depth')
      for (let i = 0; i < 5; i++) await queue.publish(topic, { i })
      let release!: () => void
      const gate = new Promise<void>((r) => { release = r })
      const stop = await queue.consume(topic, () => gate, { prefetch: 2 })
      const re = (name: string, value: number) => new RegExp(`${name}\\{backend="\\w+",topic="${topic.replace(/\./g, '\\.')}"\\} ${value}\\n`)
      const deadline = Date.now() + 5000
      let text = ''
      while (Date.now() < deadline) {
        text = await metrics.registry.metrics()
        if (re('gateway_queue_in_flight', 2).test(text) && re('gateway_queue_depth', 3).test(text)) break
        await sleep(50)
      }
      expect(text).toMatch(re('gateway_queue_in_flight', 2))
      expect(text).toMatch(re('gateway_queue_depth', 3))
      release()
      await stop()
    })
  })
}
