/**
 * /api/v1/openapi.json documents what the analytics routes answer: both routes have a response
 * schema, and real answers (ungrouped, by user with the person named, by key, by day; costs)
 * validate against it, so a field a row adds or renames without its schema fails here (and the
 * console, typed from the document, sees it at type-check).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { documentedSuite } from '../helpers/documented.ts'
import { postJson } from '../helpers/gateway.ts'
import type { MockUpstream } from '../helpers/upstream.ts'
import { PRICE, okUpstream, storedEvents, usageGateway, user } from './helpers.ts'

const ROOT = user('root', 'admin')

describe('the documented answers of the analytics routes', () => {
  let up: MockUpstream
  beforeAll(async () => { up = await okUpstream() })
  afterAll(async () => { await up?.close() })
  const suite = documentedSuite({
    start: async () => {
      const { gw, cleanup } = await usageGateway(up.url, { services: '  docs: {}\n' })
      return { gw, close: cleanup }
    },
    headers: ROOT,
    prefixes: ['/api/v1/analytics'],
    routes: 5,
  })
  // Two requests, one from each department, stored before the routes count them.
  beforeAll(async () => {
    for (const who of [user('alice', 'user', 'research'), user('bob', 'user', 'sales')]) {
      await postJson(`${suite.gw.url}/v1/chat/completions`, { model: 'r', messages: [{ role: 'user', content: 'x' }] }, who)
    }
    await storedEvents(suite.gw, 2)
  })

  it('answers as documented, grouped and not', async () => {
    const { call } = suite
    const [total] = await call('GET', '/api/v1/analytics/usage')
    expect(total).toMatchObject({ group: null, bucket: null, requests: 2 })
    const byUser = await call('GET', '/api/v1/analytics/usage?group_by=user&interval=day')
    expect(byUser.map((r: { user: { id: string } }) => r.user.id).sort()).toEqual(['alice', 'bob'])
    const byKey = await call('GET', '/api/v1/analytics/usage?group_by=key')
    expect(byKey.every((r: object) => 'key' in r)).toBe(true)
    const costs = await call('GET', '/api/v1/analytics/costs?group_by=department')
    expect(costs.rows.map((r: { group: string }) => r.group).sort()).toEqual(['research', 'sales'])
    // Two answers of 10 input and 1 output tokens at the configured prices.
    expect(costs.total_cost_usd).toBeCloseTo(2 * (10 * PRICE.input + 1 * PRICE.output) / 1e6, 12)
    const events = await call('GET', '/api/v1/analytics/events?limit=10')
    expect(events.map((e: { user_id: string }) => e.user_id).sort()).toEqual(['alice', 'bob'])
    expect(suite.answers.checked.size).toBe(3)
  })
})
