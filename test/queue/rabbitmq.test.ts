/**
 * queue.rabbitmq against the real broker (RABBITMQ_URL, queues under a prefix of this run's own,
 * deleted after): the queue contract, then a connection cut mid-run through a TCP proxy this test
 * owns (the shared broker is never stopped), publish latency and a burst.
 */
import { Connection } from 'rabbitmq-client'
import { afterAll, describe, expect, it } from 'vitest'
import { startTcpProxy } from '../helpers/tcp-proxy.ts'
import { queueContract } from './contract.ts'
import { RABBITMQ_ENABLED, RABBITMQ_URL, deleteQueues, rabbitQueue, sleep, uniquePrefix, until } from './helpers.ts'

const prefix = uniquePrefix('queue')
const topics: string[] = []
const topic = (name: string) => {
  topics.push(name)
  return name
}
// Delay queues the suites use: retry_delay_ms 50 doubled up to 100, the 300 ms delayed publish, the cut test's 100.
const DELAYS = [50, 100, 200, 300]

describe.runIf(RABBITMQ_ENABLED)('queue.rabbitmq', () => {
  afterAll(() => deleteQueues(prefix, topics, DELAYS))

  queueContract('queue.rabbitmq', {
    make: (block) => rabbitQueue({ prefix, ...block }),
    topic,
  })

  it('loses no message when the connection is cut mid-run (publisher and consumer reconnect)', async () => {
    const proxy = await startTcpProxy({ host: new URL(RABBITMQ_URL).hostname, port: Number(new URL(RABBITMQ_URL).port || 5672) })
    const made = await rabbitQueue({ prefix, url: proxy.via(RABBITMQ_URL).replace(/\/$/, ''), retry_delay_ms: 100, max_retry_delay_ms: 100, stop_grace_ms: 200 })
    const { queue } = made
    try {
      const name = topic('cut')
      const handled = new Map<string, number>()
      const stop = await queue.consume<{ i: number }>(name, async (msg) => {
        await sleep(5)
        handled.set(msg.id, (handled.get(msg.id) ?? 0) + 1)
      }, { prefetch: 4 })
      for (let i = 0; i < 20; i++) await queue.publish(name, { i }, { id: `m-${i}` })
      await until(() => handled.size >= 5, 'some messages handled')
      proxy.cut()
      // Publishing during the outage waits for the reconnect (within publish_timeout_ms) rather than failing.
      const during = (async () => { for (let i = 20; i < 30; i++) await queue.publish(name, { i }, { id: `m-${i}` }) })()
      await sleep(500)
      expect(() => (queue.ready as () => void)()).toThrow(/not connected/)
      proxy.restore()
      await during
      await until(() => handled.size === 30, 'every message handled after the reconnect', 20_000)
      for (let i = 0; i < 30; i++) expect(handled.has(`m-${i}`)).toBe(true)
      await stop()
    } finally {
      await queue.dispose?.()
      await proxy.close()
    }
  })

  it('dead-letters a poison message with why: its last error and attempts in its headers', async () => {
    const { queue } = await rabbitQueue({ prefix, max_attempts: 2, retry_delay_ms: 50, max_retry_delay_ms: 50 })
    const name = topic('poison')
    try {
      let calls = 0
      const stop = await queue.consume(name, async () => {
        calls++
        throw new Error(`boom ${calls}: the job always crashes`)
      })
      await queue.publish(name, { doomed: true }, { id: 'p-1' })
      await until(() => calls === 2, 'two failed attempts')
      const connection = new Connection({ url: RABBITMQ_URL })
      connection.on('error', () => undefined)
      try {
        const channel = await connection.acquire()
        let dead: Awaited<ReturnType<typeof channel.basicGet>>
        const end = Date.now() + 5000
        while (!(dead = await channel.basicGet({ queue: `${prefix}${name}.dead`, noAck: true })) && Date.now() < end) await sleep(50)
        await channel.close()
        expect(dead).toBeDefined()
        expect(dead!.messageId).toBe('p-1')
        expect(JSON.parse(Buffer.isBuffer(dead!.body) ? dead!.body.toString() : String(dead!.body))).toEqual({ doomed: true })
        expect(dead!.headers).toMatchObject({ 'x-gateway-attempts': 2 })
        expect(String(dead!.headers?.['x-gateway-error'])).toBe('boom 2: the job always crashes')
      } finally {
        await connection.close()
      }
      await stop()
    } finally {
      await queue.dispose?.()
    }
  })

  it("publishes beside the depth readings of a consumed topic whose dead letters are not declared yet (a passive declare's failure closed the shared channel: a 503)", async () => {
    const { queue } = await rabbitQueue({ prefix, metrics_interval_ms: 100 })
    try {
      // Consumed here, published by no one yet: its dead-letter queue does not exist, so each reading's passive declare fails.
      const stop = await queue.consume(topic('consumed-only'), async () => {})
      // Each publish to a new topic declares its queues: declares beside the readings, for 1.5 s.
      const end = Date.now() + 1_500
      let published = 0
      while (Date.now() < end && published < 40) {
        await queue.publish(topic(`published-${published}`), { i: published })
        published++
        await sleep(20)
      }
      expect(published).toBeGreaterThan(10)
      await stop()
    } finally {
      await queue.dispose?.()
    }
  })

  it('picks a message up within 5 ms (p50) of its publish, on the same machine', async () => {
    const { queue } = await rabbitQueue({ prefix })
    try {
      const name = topic('latency')
      let sentAt = 0
      let delivered = 0
      const latencies: number[] = []
      const stop = await queue.consume(name, async () => {
        latencies.push(performance.now() - sentAt)
        delivered++
      })
      await queue.publish(name, { warm: true })
      await until(() => delivered === 1, 'the warm-up')
      latencies.length = 0
      for (let i = 0; i < 100; i++) {
        sentAt = performance.now()
        await queue.publish(name, { i })
        await until(() => delivered === i + 2, 'the message')
      }
      latencies.sort((a, b) => a - b)
      console.log(`queue.rabbitmq: publish (confirmed) to handler start p50 ${latencies[50].toFixed(2)} ms, p99 ${latencies[98].toFixed(2)} ms`)
      expect(latencies[50]).toBeLessThan(5)
      await stop()
    } finally {
      await queue.dispose?.()
    }
  })
})
