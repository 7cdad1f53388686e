import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { capability, postJson, type RunningGateway } from '../helpers/gateway.ts'
import { randomUUID } from 'node:crypto'
import { Identity, UsageLog } from '../../plugins/contracts/capabilities.ts'
import type { UsageEventRepository } from '../../plugins/stages/usage/repository.ts'
import { PRICE, storedEvents, usageGateway, user } from './helpers.ts'

/** Each caller's requests and the usage the upstream reports for each (prompt, completion). */
const PLAN: { who: Record<string, string>; prompt: number; completion: number; fail?: boolean }[] = [
  { who: user('alice', 'user', 'research'), prompt: 100, completion: 10 },
  { who: user('alice', 'user', 'research'), prompt: 300, completion: 30 },
  { who: user('bob', 'user', 'research'), prompt: 1000, completion: 100 },
  { who: user('carol', 'user', 'sales'), prompt: 50, completion: 5 },
  { who: user('carol', 'user', 'sales'), prompt: 0, completion: 0, fail: true },
]
const cost = (p: number, c: number) => (p * PRICE.input + c * PRICE.output) / 1e6

describe('analytics over recorded usage, scoped by role', () => {
  let up: MockUpstream
  let gw: RunningGateway
  let cleanup: () => Promise<void>
  const get = async (path: string, who: Record<string, string>) => {
    const res = await fetch(`${gw.url}/api/v1/analytics/${path}`, { headers: who })
    return { status: res.status, body: await res.json() }
  }

  beforeAll(async () => {
    let i = 0
    up = await startUpstream((_req, res) => {
      const step = PLAN[i++]
      if (step.fail) return sendJson(res, 503, { error: { message: 'busy' } })
      sendJson(res, 200, {
        id: 'x', object: 'chat.completion', created: 1, model: 'priced-model',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage: { prompt_tokens: step.prompt, completion_tokens: step.completion, total_tokens: step.prompt + step.completion },
      })
    })
    ;({ gw, cleanup } = await usageGateway(up.url))
    for (const step of PLAN) await postJson(`${gw.url}/v1/chat/completions`, { model: 'r', messages: [{ role: 'user', content: 'x' }] }, step.who)
    await storedEvents(gw, PLAN.length)
  })
  afterAll(async () => { await cleanup(); await up.close() })

  it('an admin sees everyone, grouped by user, with sums computed by hand', async () => {
    const res = await get('usage?group_by=user', user('root', 'admin'))
    expect(res.status).toBe(200)
    expect(res.body.success).toBe(true)
    const byUser = Object.fromEntries(res.body.data.map((r: { group: string }) => [r.group, r]))
    expect(byUser.alice).toMatchObject({ requests: 2, errors: 0, prompt_tokens: 400, completion_tokens: 40, total_tokens: 440 })
    expect(byUser.alice.cost_usd).toBeCloseTo(cost(400, 40), 10)
    expect(byUser.bob).toMatchObject({ requests: 1, prompt_tokens: 1000, completion_tokens: 100 })
    expect(byUser.carol).toMatchObject({ requests: 2, errors: 1, error_rate: 0.5, prompt_tokens: 50 })
    expect(res.body.meta.scope).toBe('all_data')
  })

  it('rows grouped by user name the person (display name and email) beside the id, within the scope', async () => {
    await capability(gw, Identity).users.upsertBySubject({ externalSubject: 'alice', name: 'Alice Archer', email: 'alice@example.com' })
    const res = await get('usage?group_by=user', user('root', 'admin'))
    const alice = res.body.data.find((r: { group: string }) => r.group === 'alice')
    expect(alice.user).toEqual({ id: 'alice', name: 'Alice Archer', email: 'alice@example.com' })
    expect(res.body.data.find((r: { group: string }) => r.group === 'bob').user).toEqual({ id: 'bob', name: null, email: null })
    const own = await get('usage?group_by=user', user('bob', 'user', 'research'))
    expect(own.body.data.map((r: { user: { id: string } }) => r.user.id)).toEqual(['bob'])
  })

  it('groups by department and by day', async () => {
    const res = await get('usage?group_by=department&interval=day', user('root', 'admin'))
    const research = res.body.data.find((r: { group: string }) => r.group === 'research')
    expect(research).toMatchObject({ requests: 3, prompt_tokens: 1400, completion_tokens: 140 })
    expect(research.bucket).toBe(new Date(new Date().toISOString().slice(0, 10)).toISOString())
  })

  it('a user sees only their own usage', async () => {
    const res = await get('usage', user('alice', 'user', 'research'))
    expect(res.body.data).toHaveLength(1)
    expect(res.body.data[0]).toMatchObject({ requests: 2, prompt_tokens: 400 })
    expect(res.body.meta.scope).toBe('own_data')
    // A filter outside the scope is refused, not answered with the scope's figures as if they were the ones asked for.
    for (const widened of ['user_id=bob', 'department=sales']) {
      const res = await get(`usage?${widened}`, user('alice', 'user', 'research'))
      expect(res.status).toBe(403)
      expect(res.body).toMatchObject({ success: false, error: 'out_of_scope' })
    }
    expect((await get('usage?user_id=alice', user('alice', 'user', 'research'))).body.data[0]).toMatchObject({ requests: 2 })
  })

  it('a department admin sees their department, and may not ask for another', async () => {
    const res = await get('usage?group_by=user', user('dana', 'department_admin', 'research'))
    expect(res.body.data.map((r: { group: string }) => r.group).sort()).toEqual(['alice', 'bob'])
    const other = await get('usage?department=sales', user('dana', 'department_admin', 'research'))
    expect(other.status).toBe(403)
    expect(other.body.error).toBe('out_of_scope')
    // A user of another department is outside it: nothing.
    expect((await get('usage?user_id=carol', user('dana', 'department_admin', 'research'))).body.data).toEqual([])
  })

  it('costs: the total and per-model rows', async () => {
    const res = await get('costs', user('root', 'admin'))
    const total = cost(400, 40) + cost(1000, 100) + cost(50, 5)
    expect(res.body.data.total_cost_usd).toBeCloseTo(total, 10)
    expect(res.body.data.rows).toEqual([expect.objectContaining({ group: 'priced-model', requests: 5 })])
  })

  it('rejects bad parameters with the field at fault, in the envelope', async () => {
    const bad = await get('usage?group_by=color', user('root', 'admin'))
    expect(bad.status).toBe(400)
    expect(bad.body).toMatchObject({ success: false, error: 'invalid_group_by' })
    expect((await get('usage?from=yesterday', user('root', 'admin'))).body.error).toBe('invalid_date')
    expect((await get('usage?from=2026-02-01&to=2026-01-01', user('root', 'admin'))).body.error).toBe('invalid_range')
    expect((await fetch(`${gw.url}/api/v1/analytics/usage`)).status).toBe(401)
  })

  it('key_id narrows to one API key, within the scope', async () => {
    const event = (keyId: string, userId: string, department: string) => ({ eventId: randomUUID(), time: new Date(), requestId: `k-${randomUUID()}`, userId, keyId, department, status: 200, latencyMs: 5, promptTokens: 7 })
    await (capability(gw, UsageLog) as UsageEventRepository).insertBatch([event('key-1', 'alice', 'research'), event('key-1', 'alice', 'research'), event('key-2', 'bob', 'research')])
    expect((await get('usage?key_id=key-1', user('root', 'admin'))).body.data[0]).toMatchObject({ requests: 2, prompt_tokens: 14 })
    expect((await get('usage?key_id=key-2', user('dana', 'department_admin', 'research'))).body.data[0]).toMatchObject({ requests: 1 })
    // Bob's key is not Alice's data.
    expect((await get('usage?key_id=key-2', user('alice', 'user', 'research'))).body.data).toEqual([])
  })
})
