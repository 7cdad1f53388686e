/**
 * Anthropic's Message Batches (/v1/messages/batches) as a user of the official @anthropic-ai/sdk
 * runs them, against a mock Anthropic upstream: create, poll to `ended`, read the results (a
 * succeeded and an errored request); each request runs through the pipeline as its creator (the
 * department's model allow-list, usage per request); cancel, expiry, list paging both ways, delete
 * refused while processing, and another user's batch is not found. Errors are Anthropic's envelope.
 */
import type http from 'node:http'
import Anthropic from '@anthropic-ai/sdk'
import type { MessageBatch, MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../plugin-api/index.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { startUpstream, type MockUpstream, type RecordedRequest } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { crashStepsOf } from './step-fault.ts'
import { MAX_FAILED_STEPS } from '../../plugins/services/batches/worker.ts'
import { message, MODEL, sendError, sendMessage, text } from '../providers/anthropic/anthropic-upstream.ts'
import { DATABASE_URL, dropSchema, POSTGRES_ENABLED, uniqueSchema } from '../store/helpers.ts'
import { RABBITMQ_ENABLED, RABBITMQ_URL, deleteQueues, uniquePrefix } from '../queue/helpers.ts'

const ALICE = 'msgbatch-alice-key-0123456789abcdef'
const CAROL = 'msgbatch-carol-key-0123456789abcdef'

/** Requests to `claude-slow` wait here until the test lets them go. */
let releaseSlow: () => void = () => undefined
let slowGate = Promise.resolve()
const holdSlow = () => { slowGate = new Promise((resolve) => { releaseSlow = resolve }) }

/** Anthropic's wire: `reply to: <last user text>`; `claude-broken` refuses with a 400; `claude-slow` waits for the gate. */
async function answer(req: RecordedRequest, res: http.ServerResponse): Promise<void> {
  if (!req.path.endsWith('/messages')) return sendError(res, 404, 'not_found_error', 'no such path')
  const body = req.body as { model: string; messages: { content: string | { text: string }[] }[] }
  if (body.model === 'claude-broken') return sendError(res, 400, 'invalid_request_error', 'this model refuses')
  if (body.model === 'claude-slow') await slowGate
  if (body.model === 'claude-lag') await new Promise((r) => setTimeout(r, 100))
  const last = body.messages.at(-1)!.content
  // `big N`: an answer of N multi-byte characters (results over the pages they are streamed in).
  const big = typeof last === 'string' ? /^big (\d+)$/.exec(last) : null
  if (big) return sendMessage(res, message([text('é'.repeat(Number(big[1])))]))
  sendMessage(res, message([text(`reply to: ${typeof last === 'string' ? last : last.map((b) => b.text).join('')}`)]))
}

const params = (content: string, model = 'claude') => ({ model, max_tokens: 64, messages: [{ role: 'user' as const, content }] })

/** The gateway of these tests: a mock Anthropic behind the routes; `services` adds service blocks (service.auth's public_url). */
const gatewayConfig = (upstreamUrl: string, services = '') => `
version: 1
store: { plugin: embedded, memory: true, vector: false }
queue: { plugin: memory }
providers:
  claude: { plugin: anthropic, api_key: sk-ant-upstream-key, base_url: '${upstreamUrl}' }
routes:
  - { model: claude, targets: [ { provider: claude, model: ${MODEL} } ] }
  - { model: metered, targets: [ { provider: claude, model: ${MODEL} } ] }
  - { model: broken, targets: [ { provider: claude, model: claude-broken } ] }
  - { model: slow, targets: [ { provider: claude, model: claude-slow } ] }
  - { model: secret, targets: [ { provider: claude, model: ${MODEL} } ] }
  - { model: lag, targets: [ { provider: claude, model: claude-lag } ] }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: "${ALICE}", user: alice, role: user, department: research }
        - { key: "${CAROL}", user: carol, role: user, department: sales }
departments:
  research: { models: [claude, metered, broken, slow, lag] }
services:
${services}  files: {}
  batches: { concurrency: 1, step_ms: 300, sweep_ms: 200, rate_limit_pause_ms: 100 }
`

describe('message batches: /v1/messages/batches with the Anthropic SDK', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  let alice: Anthropic
  let carol: Anthropic
  beforeAll(async () => {
    upstream = await startUpstream(answer)
    gw = await startTestGateway(gatewayConfig(upstream.url))
    alice = new Anthropic({ apiKey: ALICE, baseURL: gw.url, maxRetries: 0 })
    carol = new Anthropic({ apiKey: CAROL, baseURL: gw.url, maxRetries: 0 })
  }, 120_000)
  afterAll(async () => {
    releaseSlow()
    await gw?.close()
    await upstream?.close()
  })

  const ended = async (client: Anthropic, id: string): Promise<MessageBatch> =>
    (await waitFor(async () => {
      const b = await client.messages.batches.retrieve(id)
      return b.processing_status === 'ended' ? b : undefined
    }, 20_000, 50)).value!
  const results = async (client: Anthropic, id: string): Promise<Map<string, MessageBatchIndividualResponse['result']>> => {
    const found = new Map<string, MessageBatchIndividualResponse['result']>()
    for await (const r of await client.messages.batches.results(id)) found.set(r.custom_id, r.result)
    return found
  }

  it('runs each request through the pipeline as its creator: succeeded and errored results, counts, usage per request', async () => {
    const created = await alice.messages.batches.create({
      requests: [
        { custom_id: 'first', params: params('one', 'metered') },
        { custom_id: 'second-2', params: params('two', 'metered') },
        { custom_id: 'refused', params: params('three', 'broken') },
        // Outside research's allow-list: refused as a direct request would be, as the line's error.
        { custom_id: 'not_allowed', params: params('four', 'secret') },
      ],
    })
    expect(created).toMatchObject({ type: 'message_batch', processing_status: 'in_progress', ended_at: null, cancel_initiated_at: null, archived_at: null, results_url: null })
    expect(created.id).toMatch(/^msgbatch_[0-9a-f]{32}$/)
    expect(created.request_counts).toEqual({ processing: 4, succeeded: 0, errored: 0, canceled: 0, expired: 0 })
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(24 * 3600 * 1000)

    const done = await ended(alice, created.id)
    expect(done.request_counts).toEqual({ processing: 0, succeeded: 2, errored: 2, canceled: 0, expired: 0 })
    expect(Date.parse(done.ended_at!)).toBeGreaterThanOrEqual(Date.parse(done.created_at))
    expect(done.results_url).toMatch(new RegExp(`/v1/messages/batches/${done.id}/results$`))

    const found = await results(alice, created.id)
    expect([...found.keys()].sort()).toEqual(['first', 'not_allowed', 'refused', 'second-2'])
    expect(found.get('first')).toMatchObject({ type: 'succeeded', message: { type: 'message', role: 'assistant', content: [{ type: 'text', text: 'reply to: one' }], stop_reason: 'end_turn' } })
    expect(found.get('second-2')).toMatchObject({ type: 'succeeded', message: { content: [{ type: 'text', text: 'reply to: two' }] } })
    expect(found.get('refused')).toMatchObject({ type: 'errored', error: { type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('this model refuses') } } })
    expect(found.get('not_allowed')).toMatchObject({ type: 'errored', error: { type: 'error', error: { type: 'permission_error' } } })
    // The refused model never reached the upstream; each other request did, once.
    const sent = upstream.requests.filter((r) => r.path.endsWith('/messages')).map((r) => (r.body as { messages: { content: string }[] }).messages[0].content)
    expect(sent.filter((c) => ['one', 'two', 'three'].includes(c)).sort()).toEqual(['one', 'three', 'two'])
    expect(sent).not.toContain('four')

    // Each request is a usage event of its creator, with its tokens.
    const rows = (await waitFor(async () => {
      const { rows } = await capability(gw, Store).sql.query<{ department: string; status: number; prompt_tokens: number }>(
        "SELECT department, status, prompt_tokens FROM usage_events WHERE route = 'metered' ORDER BY id")
      return rows.length >= 2 ? rows : undefined
    }, 10_000, 50)).value!
    expect(rows).toEqual([{ department: 'research', status: 200, prompt_tokens: 12 }, { department: 'research', status: 200, prompt_tokens: 12 }])
  })

  it('streams the results from the files a page at a time (a 100,000-request batch\'s are hundreds of MB): chunked, each line whole', async () => {
    const created = await alice.messages.batches.create({
      requests: [0, 1, 2].map((i) => ({ custom_id: `big-${i}`, params: { ...params(`big ${300_000 + i}`), max_tokens: 64 } })),
    })
    await ended(alice, created.id)
    const res = await fetch(`${gw.url}/v1/messages/batches/${created.id}/results`, { headers: { 'x-api-key': ALICE, 'anthropic-version': '2023-06-01' } })
    expect(res.status).toBe(200)
    // Read whole and answered at once, it had a content-length; streamed, it is chunked.
    expect(res.headers.get('content-length')).toBeNull()
    expect(res.headers.get('transfer-encoding')).toBe('chunked')
    await res.arrayBuffer()
    const found = await results(alice, created.id)
    for (const i of [0, 1, 2]) {
      const result = found.get(`big-${i}`)
      expect(result?.type).toBe('succeeded')
      const block = (result as Extract<typeof result, { type: 'succeeded' }>).message.content[0] as { text: string }
      expect(block.text).toBe('é'.repeat(300_000 + i))
    }
  })

  it(`ends a batch whose step kept crashing (${MAX_FAILED_STEPS} times) with every request answered: those not run errored, saying why`, async () => {
    const fault = crashStepsOf(gw)
    try {
      const created = await alice.messages.batches.create({ requests: Array.from({ length: 40 }, (_, i) => ({ custom_id: `r${i}`, params: params(`n${i}`, 'lag') })) })
      fault.batch(created.id)
      const done = await ended(alice, created.id)
      const found = await results(alice, created.id)
      expect(found.size).toBe(40)
      const succeeded = [...found.values()].filter((r) => r.type === 'succeeded').length
      const errored = [...found.values()].filter((r) => r.type === 'errored')
      // Some ran before the end, some never did: every one has its result, and the counts say the same.
      expect(succeeded).toBeGreaterThan(0)
      expect(errored.length).toBe(40 - succeeded)
      expect(errored.length).toBeGreaterThan(0)
      expect(done.request_counts).toEqual({ processing: 0, succeeded, errored: errored.length, canceled: 0, expired: 0 })
      expect(done.ended_at).not.toBeNull()
      expect(errored[0]).toEqual({ type: 'errored', error: { type: 'error', error: { type: 'api_error', message: expect.stringMatching(/not executed: its batch failed.*5 times.*EIO/) }, request_id: null } })
    } finally {
      fault.restore()
    }
  })

  it('applies the create call\'s anthropic-beta flags to each request, as Anthropic does: sent to the Anthropic target with every line', async () => {
    const betas = ['interleaved-thinking-2025-05-14', 'output-128k-2025-02-19']
    // The SDK's beta API sends `betas` as the create request's anthropic-beta header.
    const created = await alice.beta.messages.batches.create({ betas, requests: [0, 1].map((i) => ({ custom_id: `beta-${i}`, params: params(`beta line ${i}`) })) })
    await ended(alice, created.id)
    const sent = upstream.requests.filter((r) => JSON.stringify(r.body).includes('beta line'))
    expect(sent).toHaveLength(2)
    for (const r of sent) expect(String(r.headers['anthropic-beta']).split(',')).toEqual(expect.arrayContaining(betas))
    expect([...(await results(alice, created.id)).values()].map((r) => r.type)).toEqual(['succeeded', 'succeeded'])
    // A batch created without them sends none.
    const plain = await alice.messages.batches.create({ requests: [{ custom_id: 'plain', params: params('without flags') }] })
    await ended(alice, plain.id)
    expect(upstream.requests.find((r) => JSON.stringify(r.body).includes('without flags'))?.headers['anthropic-beta']).toBeUndefined()
  })

  it('gives an ended batch an absolute results_url, as Anthropic does: a plain HTTP client fetches it as it is; behind a proxy, the forwarded origin', async () => {
    const created = await alice.messages.batches.create({ requests: [{ custom_id: 'url', params: params('where') }] })
    const done = await ended(alice, created.id)
    expect(done.results_url).toBe(`${gw.url}/v1/messages/batches/${created.id}/results`)
    const res = await fetch(done.results_url!, { headers: { 'x-api-key': ALICE } })
    expect(res.status).toBe(200)
    expect(JSON.parse((await res.text()).trim())).toMatchObject({ custom_id: 'url', result: { type: 'succeeded' } })
    const proxied = await fetch(`${gw.url}/v1/messages/batches/${created.id}`, { headers: { 'x-api-key': ALICE, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'ai.example.com' } })
    expect((await proxied.json() as MessageBatch).results_url).toBe(`https://ai.example.com/v1/messages/batches/${created.id}/results`)
  })

  it('builds results_url on the configured public_url (services.auth), its path prefix included', async () => {
    const prefixed = await startTestGateway(gatewayConfig(upstream.url, `  auth: { public_url: 'https://ai.example.com/gateway/' }\n`))
    try {
      const client = new Anthropic({ apiKey: ALICE, baseURL: prefixed.url, maxRetries: 0 })
      const created = await client.messages.batches.create({ requests: [{ custom_id: 'p', params: params('prefix') }] })
      expect((await ended(client, created.id)).results_url).toBe(`https://ai.example.com/gateway/v1/messages/batches/${created.id}/results`)
    } finally {
      await prefixed.close()
    }
  }, 60_000)

  it('refuses a bad create with Anthropic\'s 400: a duplicate or malformed custom_id, params /v1/messages would refuse', async () => {
    const refused = async (body: unknown): Promise<InstanceType<typeof Anthropic.BadRequestError>> => {
      const err = await alice.messages.batches.create(body as Anthropic.Messages.BatchCreateParams).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(Anthropic.BadRequestError)
      const e = err as InstanceType<typeof Anthropic.BadRequestError>
      expect(e.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
      return e
    }
    const dup = await refused({ requests: [{ custom_id: 'same', params: params('a') }, { custom_id: 'same', params: params('b') }] })
    expect(dup.message).toMatch(/requests\.1\.custom_id/)
    expect(dup.message).toMatch(/same/)
    await refused({ requests: [{ custom_id: 'has space', params: params('a') }] })
    await refused({ requests: [{ custom_id: 'x'.repeat(65), params: params('a') }] })
    await refused({ requests: [] })
    const noMax = await refused({ requests: [{ custom_id: 'ok', params: { model: 'claude', messages: [{ role: 'user', content: 'a' }] } }] })
    expect(noMax.message).toMatch(/requests\.0\.params\.max_tokens/)
    const streamed = await refused({ requests: [{ custom_id: 'ok', params: { ...params('a'), stream: true } }] })
    expect(streamed.message).toMatch(/requests\.0\.params\.stream/)
  })

  it('cancels a running batch: canceling, then ended with what was answered kept and the rest canceled; delete is refused until it has ended', async () => {
    holdSlow()
    const created = await alice.messages.batches.create({
      requests: [{ custom_id: 'held', params: params('held', 'slow') }, { custom_id: 'never-1', params: params('x') }, { custom_id: 'never-2', params: params('y') }],
    })
    // The first request is at the upstream, held there: the batch is processing.
    await waitFor(() => upstream.requests.some((r) => (r.body as { model?: string }).model === 'claude-slow'), 10_000, 20)
    const deleting = await alice.messages.batches.delete(created.id).then(() => undefined, (e: unknown) => e)
    expect(deleting).toBeInstanceOf(Anthropic.BadRequestError)
    expect((deleting as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('cancel') } })

    const canceling = await alice.messages.batches.cancel(created.id)
    expect(['canceling', 'ended']).toContain(canceling.processing_status)
    expect(canceling.cancel_initiated_at).not.toBeNull()
    // The request in flight is stopped, not waited for: the batch ends while the upstream still holds it.
    const done = await ended(alice, created.id)
    releaseSlow()
    expect(done.request_counts).toEqual({ processing: 0, succeeded: 0, errored: 0, canceled: 3, expired: 0 })
    expect(Date.parse(done.ended_at!)).toBeGreaterThanOrEqual(Date.parse(done.cancel_initiated_at!))
    const found = await results(alice, created.id)
    expect(Object.fromEntries(found)).toEqual({ held: { type: 'canceled' }, 'never-1': { type: 'canceled' }, 'never-2': { type: 'canceled' } })

    // Ended: it can be deleted, and is gone.
    await expect(alice.messages.batches.delete(created.id)).resolves.toEqual({ id: created.id, type: 'message_batch_deleted' })
    await expect(alice.messages.batches.retrieve(created.id)).rejects.toBeInstanceOf(Anthropic.NotFoundError)
  })

  it('ends a batch whose 24 hours pass as ended: what was answered succeeded, the rest expired', async () => {
    holdSlow()
    const created = await alice.messages.batches.create({
      requests: [{ custom_id: 'quick', params: params('quick') }, { custom_id: 'stuck', params: params('stuck', 'slow') }, { custom_id: 'late', params: params('late') }],
    })
    await waitFor(() => upstream.requests.some((r) => (r.body as { messages?: { content: string }[] }).messages?.[0]?.content === 'stuck'), 10_000, 20)
    // The 24 hours pass.
    await capability(gw, Store).sql.query(`UPDATE batches SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.id])
    const done = await ended(alice, created.id)
    releaseSlow()
    expect(done.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 0, canceled: 0, expired: 2 })
    expect(done.cancel_initiated_at).toBeNull()
    const found = await results(alice, created.id)
    expect(found.get('quick')).toMatchObject({ type: 'succeeded' })
    expect(Object.fromEntries([...found].filter(([id]) => id !== 'quick'))).toEqual({ stuck: { type: 'expired' }, late: { type: 'expired' } })
  })

  it('lists the caller\'s batches newest first, paged by after_id and before_id with has_more, first_id and last_id', async () => {
    const ids: string[] = []
    for (const n of [1, 2, 3]) ids.push((await carol.messages.batches.create({ requests: [{ custom_id: `n${n}`, params: params(`n${n}`) }] })).id)
    const newest = [...ids].reverse()
    const first = await carol.messages.batches.list({ limit: 2 })
    expect(first.data.map((b) => b.id)).toEqual(newest.slice(0, 2))
    expect(first).toMatchObject({ has_more: true, first_id: newest[0], last_id: newest[1] })
    const second = await carol.messages.batches.list({ limit: 2, after_id: first.last_id! })
    expect(second.data.map((b) => b.id)).toEqual([newest[2]])
    expect(second.has_more).toBe(false)
    const back = await carol.messages.batches.list({ limit: 1, before_id: newest[2] })
    expect(back.data.map((b) => b.id)).toEqual([newest[1]])
    expect(back).toMatchObject({ has_more: true, first_id: newest[1], last_id: newest[1] })
    // The SDK's auto-pagination follows has_more and last_id.
    const all: string[] = []
    for await (const b of carol.messages.batches.list({ limit: 1 })) all.push(b.id)
    expect(all).toEqual(newest)
    // A cursor naming no batch of this list is a 400, not an empty page.
    await expect(carol.messages.batches.list({ after_id: 'msgbatch_00000000000000000000000000000000' })).rejects.toBeInstanceOf(Anthropic.BadRequestError)
    for (const id of ids) await ended(carol, id)
  })

  it('keeps each user to their own batches: another\'s id is a 404 everywhere, and the OpenAI API lists none of them', async () => {
    const mine = await alice.messages.batches.create({ requests: [{ custom_id: 'private', params: params('private') }] })
    await ended(alice, mine.id)
    const notFound = async (p: Promise<unknown>) => {
      const err = await p.then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(Anthropic.NotFoundError)
      expect((err as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } })
      expect((err as InstanceType<typeof Anthropic.NotFoundError>).requestID).toBeTruthy()
    }
    await notFound(carol.messages.batches.retrieve(mine.id))
    await notFound(carol.messages.batches.cancel(mine.id))
    await notFound(carol.messages.batches.delete(mine.id))
    const res = await fetch(`${gw.url}/v1/messages/batches/${mine.id}/results`, { headers: { 'x-api-key': CAROL } })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } })
    // A path under a batch that is none of the API's is Anthropic's 404 too.
    const other = await fetch(`${gw.url}/v1/messages/batches/${mine.id}/nothing`, { headers: { 'x-api-key': ALICE } })
    expect(other.status).toBe(404)
    expect(other.headers.get('request-id')).toBeTruthy()
    expect(await other.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } })
    const listed: string[] = []
    for await (const b of carol.messages.batches.list()) listed.push(b.id)
    expect(listed).not.toContain(mine.id)
    // One API's batches are not the other's.
    const openai = new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    expect((await openai.batches.list()).data.map((b) => b.id)).not.toContain(mine.id)
    await expect(openai.batches.retrieve(mine.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
  })
})

// In CI an unreachable PostgreSQL or RabbitMQ fails this suite (the helpers' *_ENABLED are true there).
describe.runIf(POSTGRES_ENABLED && RABBITMQ_ENABLED)('message batches on RabbitMQ and PostgreSQL', () => {
  it('runs a message batch to its results, and deletes it once ended', async () => {
    const schema = uniqueSchema('msgbatches_mq')
    const prefix = uniquePrefix('msgbatches')
    const upstream = await startUpstream(answer)
    const gw = await startTestGateway(`
version: 1
store: { plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }
queue: { plugin: rabbitmq, url: "${RABBITMQ_URL}", prefix: "${prefix}", retry_delay_ms: 50, max_retry_delay_ms: 100, stop_grace_ms: 200, metrics_interval_ms: 200 }
providers:
  claude: { plugin: anthropic, api_key: sk-ant-upstream-key, base_url: '${upstream.url}' }
routes:
  - { model: claude, targets: [ { provider: claude, model: ${MODEL} } ] }
  - { model: broken, targets: [ { provider: claude, model: claude-broken } ] }
auth:
  strategies:
    - plugin: api-key
      keys: [ { key: "${ALICE}", user: alice, role: user, department: research } ]
services:
  files: {}
  batches: { concurrency: 2, step_ms: 300, rate_limit_pause_ms: 100 }
`)
    try {
      const client = new Anthropic({ apiKey: ALICE, baseURL: gw.url, maxRetries: 0 })
      const created = await client.messages.batches.create({ requests: [{ custom_id: 'a', params: params('pg a') }, { custom_id: 'b', params: params('pg b', 'broken') }] })
      expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(24 * 3600 * 1000)
      const done = (await waitFor(async () => {
        const b = await client.messages.batches.retrieve(created.id)
        return b.processing_status === 'ended' ? b : undefined
      }, 30_000, 50)).value!
      expect(done.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 1, canceled: 0, expired: 0 })
      const found: Record<string, string> = {}
      for await (const r of await client.messages.batches.results(created.id)) found[r.custom_id] = r.result.type
      expect(found).toEqual({ a: 'succeeded', b: 'errored' })
      await expect(client.messages.batches.delete(created.id)).resolves.toMatchObject({ type: 'message_batch_deleted' })
      const { rows } = await capability(gw, Store).sql.query('SELECT 1 FROM batch_lines WHERE batch_id = $1', [created.id])
      expect(rows).toEqual([])
    } finally {
      await gw.close()
      await upstream.close()
      await dropSchema(schema)
      await deleteQueues(prefix, ['batches.steps'], [250, 1000, 2000, 5000])
    }
  }, 60_000)
})
