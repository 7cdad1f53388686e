/**
 * One usage event the store cannot take must not hold up the others. Upstreams have reported
 * token counts of null, 2.5 and 3e9, and a glob route records the client's model name, which may
 * hold U+0000: PostgreSQL refused the whole batch for each, the writer retried it forever, and
 * every event after it waited (across restarts too, once journaled), so budgets and analytics
 * stopped seeing spend.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { UsageEvent } from '../../plugins/contracts/capabilities.ts'
import { GatewayMetrics } from '../../core/metrics.ts'
import type { UsageEventRepository } from '../../plugins/stages/usage/repository.ts'
import { UsageWriter, usageMetrics } from '../../plugins/stages/usage/writer.ts'
import { postJson, startTestGateway } from '../helpers/gateway.ts'
import { sqlOnce } from '../helpers/sql-once.ts'
import { sendJson, startUpstream } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { capturingLogger, DATABASE_URL, dropSchema, POSTGRES_ENABLED, uniqueSchema } from '../store/helpers.ts'
import { pricedCompletion, usageConfig, user } from './helpers.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })

const event = (requestId: string): UsageEvent => ({ eventId: randomUUID(), time: new Date(), requestId, status: 200, latencyMs: 5 })

describe('the usage writer sets aside an event the store refuses', () => {
  it('writes every other event of the batch and the ones after it, and counts and logs the one refused', async () => {
    const stored: string[] = []
    // PostgreSQL's answer to text holding U+0000: 22021, a data exception.
    const store = {
      insertBatch: async (events: readonly UsageEvent[]) => {
        if (events.some((e) => e.requestId === 'poison')) throw Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' })
        stored.push(...events.map((e) => e.requestId))
        return events.length
      },
    } as unknown as UsageEventRepository
    const metrics = new GatewayMetrics()
    const { logger, lines } = capturingLogger()
    const writer = new UsageWriter({ store: () => store, logger, metrics: usageMetrics(metrics), batchSize: 8, flushIntervalMs: 10 })
    cleanup.push(() => writer.close())
    for (const id of ['a', 'b', 'c', 'poison', 'd', 'e']) writer.record(event(id))
    await waitFor(() => stored.length === 5)
    writer.record(event('after'))
    await waitFor(() => stored.includes('after'))
    expect(stored.sort()).toEqual(['a', 'after', 'b', 'c', 'd', 'e'])
    expect(writer.pending).toBe(0)
    expect(await metrics.registry.metrics()).toMatch(/^gateway_usage_events_rejected_total 1$/m)
    expect(lines.some((l) => l.msg.includes('refused a usage event') && (l.event as UsageEvent | undefined)?.requestId === 'poison')).toBe(true)
  })

  it('retries the whole batch, setting nothing aside, while the store is down', async () => {
    let down = true
    const stored: string[] = []
    const store = {
      insertBatch: async (events: readonly UsageEvent[]) => {
        if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
        stored.push(...events.map((e) => e.requestId))
        return events.length
      },
    } as unknown as UsageEventRepository
    const metrics = new GatewayMetrics()
    const writer = new UsageWriter({ store: () => store, logger: capturingLogger().logger, metrics: usageMetrics(metrics), batchSize: 8, flushIntervalMs: 10, maxBackoffMs: 20 })
    cleanup.push(() => writer.close())
    for (const id of ['a', 'b']) writer.record(event(id))
    await new Promise((r) => setTimeout(r, 100))
    down = false
    await waitFor(() => stored.length === 2)
    expect(await metrics.registry.metrics()).toMatch(/^gateway_usage_events_rejected_total 0$/m)
  })
})

describe.runIf(POSTGRES_ENABLED)('token counts an upstream reports wrongly, on PostgreSQL', () => {
  it('stores every event, the counts as the integer column holds them, and the events after them', async () => {
    const reported = [2.5, 3e9, null, -4, 10]
    let i = 0
    const up = await startUpstream((_req, res) => sendJson(res, 200, { ...pricedCompletion, usage: { prompt_tokens: reported[i++], completion_tokens: 1, total_tokens: 11 } }))
    const schema = uniqueSchema('poison')
    const gw = await startTestGateway(usageConfig(up.url, DATABASE_URL, schema), { usage: { flushIntervalMs: 20, batchSize: 2 } })
    cleanup.push(() => up.close(), () => dropSchema(schema), () => gw.close())
    for (let n = 0; n < reported.length; n++) {
      const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'r', messages: [{ role: 'user', content: 'x' }] }, { ...user('u'), 'x-request-id': `req-${n}` })
      expect(res.status).toBe(200)
    }
    const rows = await waitFor(async () => {
      const found = await sqlOnce<{ request_id: string; prompt_tokens: number }>(DATABASE_URL, `SELECT request_id, prompt_tokens FROM "${schema}".usage_events ORDER BY request_id`)
      return found.length === reported.length ? found : undefined
    }, 10_000, 50)
    expect(rows.value!.map((r) => [r.request_id, r.prompt_tokens])).toEqual([['req-0', 3], ['req-1', 2_147_483_647], ['req-2', 0], ['req-3', 0], ['req-4', 10]])
  }, 30_000)
})
