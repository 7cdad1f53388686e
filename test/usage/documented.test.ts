/**
 * /api/v1/openapi.json documents what the analytics routes answer: both routes have a response
 * schema, and real answers (ungrouped, by user with the person named, by key, by day; costs)
 * validate against it, so a field a row adds or renames without its schema fails here (and the
 * console, typed from the document, sees it at type-check).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { documentedAnswers, expectDataDocumented, type DocumentedAnswers } from '../helpers/documented.ts'
import { postJson, type RunningGateway } from '../helpers/gateway.ts'
import type { MockUpstream } from '../helpers/upstream.ts'
import { PRICE, okUpstream, storedEvents, usageGateway, user } from './helpers.ts'

const ROOT = user('root', 'admin')

describe('the documented answers of the analytics routes', () => {
  let up: MockUpstream
  let gw: RunningGateway
  let cleanup: () => Promise<void>
  let doc: any
  let answers: DocumentedAnswers

  beforeAll(async () => {
    up = await okUpstream()
    ;({ gw, cleanup } = await usageGateway(up.url, { services: '  docs: {}\n' }))
    for (const who of [user('alice', 'user', 'research'), user('bob', 'user', 'sales')]) {
      await postJson(`${gw.url}/v1/chat/completions`, { model: 'r', messages: [{ role: 'user', content: 'x' }] }, who)
    }
    await storedEvents(gw, 2)
    doc = await (await fetch(`${gw.url}/api/v1/openapi.json`, { headers: ROOT })).json()
    answers = documentedAnswers(doc, gw.url)
  }, 60_000)
  afterAll(async () => { await cleanup?.(); await up?.close() })

  it('declares a schema of its data for every route', () => {
    expectDataDocumented(doc, ['/api/v1/analytics'], 2)
  })

  it('answers as documented, grouped and not', async () => {
    const { call } = answers
    const [total] = await call('GET', '/api/v1/analytics/usage', ROOT)
    expect(total).toMatchObject({ group: null, bucket: null, requests: 2 })
    const byUser = await call('GET', '/api/v1/analytics/usage?group_by=user&interval=day', ROOT)
    expect(byUser.map((r: { user: { id: string } }) => r.user.id).sort()).toEqual(['alice', 'bob'])
    const byKey = await call('GET', '/api/v1/analytics/usage?group_by=key', ROOT)
    expect(byKey.every((r: object) => 'key' in r)).toBe(true)
    const costs = await call('GET', '/api/v1/analytics/costs?group_by=department', ROOT)
    expect(costs.rows.map((r: { group: string }) => r.group).sort()).toEqual(['research', 'sales'])
    // Two answers of 10 input and 1 output tokens at the configured prices.
    expect(costs.total_cost_usd).toBeCloseTo(2 * (10 * PRICE.input + 1 * PRICE.output) / 1e6, 12)
    expect(answers.checked.size).toBe(2)
  })
})
