/** queue.memory against the queue contract, and what only the in-process queue does. */
import { describe, expect, it } from 'vitest'
import { queueContract } from './contract.ts'
import { memoryQueue, until } from './helpers.ts'
import { testPluginContext } from '../helpers/plugin-context.ts'
import type { MemoryQueue } from '../../plugins/queue/memory/index.ts'

// One context for the suite: its queues share one in-process broker, as two consumers of one gateway do.
const shared = testPluginContext({ id: 'queue.memory' })
queueContract('queue.memory', {
  make: (block) => memoryQueue(block, shared),
  topic: (name) => `test.${name}`,
})

describe('queue.memory', () => {
  it('refuses to publish past max_messages with a retryable 503', async () => {
    const { queue } = await memoryQueue({ max_messages: 2 })
    await queue.publish('full', 1)
    await queue.publish('full', 2)
    await expect(queue.publish('full', 3)).rejects.toMatchObject({ status: 503, code: 'queue_full', retryable: true })
  })

  it('keeps why a dead-lettered message failed: its last error, with its attempts', async () => {
    const { queue } = await memoryQueue({ max_attempts: 2, retry_delay_ms: 10 })
    let calls = 0
    const stop = await queue.consume('poison', async () => {
      calls++
      throw new Error(`boom ${calls}: the job always crashes`)
    })
    await queue.publish('poison', { doomed: true }, { id: 'p-1' })
    await until(() => (queue as MemoryQueue).deadLetters('poison').length === 1, 'the dead letter')
    expect((queue as MemoryQueue).deadLetters('poison')).toEqual([{ topic: 'poison', id: 'p-1', attempts: 2, body: { doomed: true }, error: 'boom 2: the job always crashes' }])
    await stop()
  })

  it('refuses a topic that cannot be a queue name', async () => {
    const { queue } = await memoryQueue()
    await expect(queue.publish('Bad Topic!', 1)).rejects.toThrow(/topic/)
  })

  it('picks a message up within 5 ms (p50) of its publish', async () => {
    const { queue } = await memoryQueue()
    const latencies: number[] = []
    let sentAt = 0
    let delivered = 0
    const stop = await queue.consume('latency', async () => {
      latencies.push(performance.now() - sentAt)
      delivered++
    })
    for (let i = 0; i < 200; i++) {
      sentAt = performance.now()
      await queue.publish('latency', { i })
      await until(() => delivered === i + 1, 'the message')
    }
    latencies.sort((a, b) => a - b)
    console.log(`queue.memory: publish to handler start p50 ${latencies[100].toFixed(3)} ms, p99 ${latencies[198].toFixed(3)} ms`)
    expect(latencies[100]).toBeLessThan(5)
    await stop()
  })

  it('works through a burst of 1,000 queued jobs never holding more than its prefetch', async () => {
    const { queue } = await memoryQueue({ prefetch: 8 })
    for (let i = 0; i < 1000; i++) await queue.publish('burst', { i, pad: 'x'.repeat(200) })
    let running = 0
    let most = 0
    let done = 0
    const before = process.memoryUsage().heapUsed
    const stop = await queue.consume<{ i: number }>('burst', async () => {
      running++
      most = Math.max(most, running)
      await new Promise((r) => setTimeout(r, 1))
      running--
      done++
    })
    await until(() => done === 1000, 'the burst', 30_000)
    console.log(`queue.memory: 1,000 jobs, most at once ${most}, heap ${((process.memoryUsage().heapUsed - before) / 1e6).toFixed(1)} MB after`)
    expect(most).toBe(8)
    await stop()
  })
})
