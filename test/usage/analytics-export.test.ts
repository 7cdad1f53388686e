/**
 * The requests themselves and a spreadsheet export, as an admin coming from a gateway with request
 * logs expects: GET /api/v1/analytics/events lists the usage events (one per request), within the
 * caller's scope and its filters (`status=error` for the failed ones); /usage.csv and /events.csv answer the same figures as CSV, a
 * client-chosen name that a spreadsheet would run as a formula written as text. Before, only
 * aggregates could be read: which requests failed, and for whom, could not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postJson, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { PRICE, pricedCompletion, storedEvents, usageGateway, user } from './helpers.ts'

const ROOT = user('root', 'admin')
const ALICE = user('alice', 'user', 'research')
const BOB = user('bob', 'user', 'sales')
const COST = (10 * PRICE.input + 1 * PRICE.output) / 1e6

/** A CSV body as rows of cells (no quoted commas in these tests but the one checked by hand). */
const parse = (text: string) => text.trimEnd().split('\r\n').map((l) => l.split(','))

describe('usage events and CSV exports', () => {
  let up: MockUpstream
  let gw: RunningGateway
  let cleanup: () => Promise<void>
  const get = (path: string, who = ROOT) => fetch(`${gw.url}/api/v1/analytics/${path}`, { headers: who })

  beforeAll(async () => {
    up = await startUpstream((req, res) => (req.body.messages[0].content === 'fail' ? sendJson(res, 500, { error: { message: 'boom' } }) : sendJson(res, 200, pricedCompletion)))
    ;({ gw, cleanup } = await usageGateway(up.url, { extra: '  - model: "=cmd*"\n    targets: [ { provider: a, model: priced-model } ]\n' }))
    const ask = (who: Record<string, string>, content: string, model = 'r') => postJson(`${gw.url}/v1/chat/completions`, { model, messages: [{ role: 'user', content }] }, { ...who, 'x-request-id': `${who['x-test-user']}-${content}` })
    expect((await ask(ALICE, 'one')).status).toBe(200)
    expect((await ask(ALICE, 'fail')).status).toBe(502)
    expect((await ask(BOB, 'two', '=cmd|calc')).status).toBe(200)
    await storedEvents(gw, 3)
  })
  afterAll(async () => { await cleanup(); await up.close() })

  it('lists each request: who, route, status, error, tokens, cost, within the scope and filters', async () => {
    const all = await (await get('events')).json()
    expect(all.data.map((e: { request_id: string }) => e.request_id)).toEqual(['alice-one', 'alice-fail', 'bob-two'])
    expect(all.data[0]).toMatchObject({ user_id: 'alice', department: 'research', route: 'r', provider: 'a', model: 'priced-model', status: 200, prompt_tokens: 10, completion_tokens: 1, cache_hit: false })
    expect(all.data[0].cost_usd).toBeCloseTo(COST, 12)
    expect(all.data[1]).toMatchObject({ status: 502, error_type: 'upstream_error', cost_usd: 0 })
    const own = await (await get('events', BOB)).json()
    expect(own.data.map((e: { request_id: string }) => e.request_id)).toEqual(['bob-two'])
    const filtered = await (await get('events?user_id=alice&limit=1&offset=1')).json()
    expect(filtered.data.map((e: { request_id: string }) => e.request_id)).toEqual(['alice-fail'])
    // Paging says when it ends: alice has two events.
    expect(filtered.meta).toMatchObject({ count: 1, has_more: false })
    expect((await (await get('events?user_id=alice&limit=1')).json()).meta).toMatchObject({ count: 1, has_more: true })
    expect((await (await get('events?limit=3')).json()).meta).toMatchObject({ count: 3, has_more: false })
    expect((await get('events?group_by=user')).status).toBe(400)
  })

  it('status narrows to the failed requests (`error`) or one status, in the events and the figures', async () => {
    const failed = await (await get('events?status=error')).json()
    expect(failed.data.map((e: { request_id: string }) => e.request_id)).toEqual(['alice-fail'])
    expect((await (await get('events?status=200')).json()).data).toHaveLength(2)
    const [errors] = (await (await get('usage?status=error')).json()).data
    expect(errors).toMatchObject({ requests: 1, errors: 1 })
    const bad = await get('usage?status=oops')
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: 'invalid_status' })
  })

  it('/usage.csv: the rows of /usage, as CSV', async () => {
    const res = await get('usage.csv?group_by=user')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/)
    expect(res.headers.get('content-disposition')).toContain('usage.csv')
    const [header, ...rows] = parse(await res.text())
    const json = (await (await get('usage?group_by=user')).json()).data
    expect(header.slice(0, 5)).toEqual(['bucket', 'group', 'name', 'requests', 'errors'])
    expect(rows.map((r) => [r[1], Number(r[header.indexOf('requests')]), Number(r[header.indexOf('errors')]), Number(r[header.indexOf('cost_usd')])]))
      .toEqual(json.map((r: { group: string; requests: number; errors: number; cost_usd: number }) => [r.group, r.requests, r.errors, r.cost_usd]))
  })

  it('/events.csv: every event, a formula-like name written as text', async () => {
    const res = await get('events.csv')
    expect(res.headers.get('x-export-truncated')).toBe('false')
    const [header, ...rows] = parse(await res.text())
    expect(rows).toHaveLength(3)
    const route = header.indexOf('route')
    expect(rows.map((r) => r[header.indexOf('request_id')])).toEqual(['alice-one', 'alice-fail', 'bob-two'])
    expect(rows[2][route]).toBe("'=cmd|calc")
    expect((await (await get('events.csv', BOB)).text()).trimEnd().split('\r\n')).toHaveLength(2)
  })

  it('/events.csv refuses a page (limit, offset) rather than ignoring it: an export is every event of the range', async () => {
    for (const param of ['limit=1', 'offset=2']) {
      const res = await get(`events.csv?${param}`)
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ success: false, error: 'unknown_parameter', param: `query.${param.split('=')[0]}` })
    }
  })
})
