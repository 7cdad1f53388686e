/**
 * A batch line is priced at its model's batch rate (gateway.yaml `pricing: { batch: { openai: 0.5, anthropic: 0.5 } }`):
 * a line of an OpenAI batch (/v1/batches, the openai SDK) and of an Anthropic message batch (/v1/messages/batches, the
 * Anthropic SDK) is recorded at half what the same request sent directly is, every token kind (cached reads and cache
 * writes too), and /api/v1/analytics/events says which events were batch lines; a model's own `batch` or
 * `batch_input`/`batch_output` prices its lines, and a line's budget reservation is at the batch rate (a line runs
 * whose direct request's estimate is refused). A client cannot buy the batch rate interactively: a header, a body
 * field or metadata saying "batch" changes nothing.
 */
import type http from 'node:http'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream, type RecordedRequest } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { message, sendMessage, text, usage } from '../providers/anthropic/anthropic-upstream.ts'

const ALICE = 'batchprice-alice-key-0123456789abcdef'
const ADMIN = 'batchprice-admin-key-0123456789abcdef'
const DAVE = 'batchprice-dave-key-0123456789abcdef'

/** OpenAI's wire (`/v1/chat/completions`) and Anthropic's (`/v1/messages`), each with cached prompt tokens. */
function answer(req: RecordedRequest, res: http.ServerResponse): void {
  if (req.path.endsWith('/messages')) {
    return sendMessage(res, message([text('ok')], { usage: usage({ input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 1000, cache_creation_input_tokens: 400, cache_creation: { ephemeral_5m_input_tokens: 400, ephemeral_1h_input_tokens: 0 } }) }))
  }
  // `pricey` costs $1 a token: its answers are small, and its budget estimate is what the test reads.
  if (req.body.model === 'pricey') {
    return sendJson(res, 200, { id: 'chatcmpl-q', object: 'chat.completion', created: 1, model: 'pricey', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop', logprobs: null }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } })
  }
  sendJson(res, 200, {
    id: 'chatcmpl-p', object: 'chat.completion', created: 1, model: req.body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500, prompt_tokens_details: { cached_tokens: 1000 } },
  })
}

interface OutputLine { response: { status_code: number; request_id: string } }

/** A one-line OpenAI batch of `body` to /v1/chat/completions, run to its end: the batch and its output line. */
async function runBatch(client: OpenAI, body: object): Promise<{ batch: OpenAI.Batch; output: OutputLine }> {
  const file = await client.files.create({ file: await toFile(Buffer.from(JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body }) + '\n'), 'b.jsonl'), purpose: 'batch' })
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
  const { value: batch } = await waitFor(async () => {
    const b = await client.batches.retrieve(created.id)
    return b.status === 'completed' ? b : undefined
  }, 15_000, 50)
  return { batch: batch!, output: JSON.parse((await (await client.files.content(batch!.output_file_id!)).text()).trim()) as OutputLine }
}

interface EventView { request_id: string; route: string; cost_usd: number; batch: boolean; prompt_tokens: number; cached_tokens: number; cache_write_tokens: number }

describe('batch lines are priced at the batch rate', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  let openai: OpenAI
  let anthropic: Anthropic
  beforeAll(async () => {
    upstream = await startUpstream(answer)
    gw = await startTestGateway(`
version: 1
store: { plugin: embedded, memory: true, vector: false }
queue: { plugin: memory }
providers:
  up: { plugin: openai, api_key: sk-test, base_url: '${upstream.url}' }
  claude: { plugin: anthropic, api_key: sk-ant-upstream-key, base_url: '${upstream.url}' }
routes:
  - { model: gpt, targets: [ { provider: up, model: gpt-4o-mini } ] }
  - { model: claude, targets: [ { provider: claude, model: claude-sonnet-4-5 } ] }
  - { model: pricey, targets: [ { provider: up, model: pricey } ] }
  - { model: explicit, targets: [ { provider: up, model: explicit-model } ] }
pricing:
  batch: { openai: 0.5, anthropic: 0.5 }
  pricey: { input: 1000000, output: 1000000, batch: 0.5 }
  explicit-model: { input: 10, output: 20, cached_input: 5, batch_input: 2, batch_output: 4 }
limits:
  backend: { plugin: memory }
  budgets:
    - { scope: user, usd_per_day: 25 }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: "${ALICE}", user: alice, role: user, department: research }
        - { key: "${ADMIN}", user: root, role: admin }
        - { key: "${DAVE}", user: dave, role: user }
services:
  files: {}
  analytics: {}
  batches: { concurrency: 2, step_ms: 300, sweep_ms: 200, rate_limit_pause_ms: 100 }
`, { usage: { flushIntervalMs: 20 } })
    openai = new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    anthropic = new Anthropic({ apiKey: ALICE, baseURL: gw.url, maxRetries: 0 })
  })
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  /** The usage event of `requestId`, as /api/v1/analytics/events shows it, once written. */
  async function eventOf(requestId: string): Promise<EventView> {
    const { value } = await waitFor(async () => {
      const res = await fetch(`${gw.url}/api/v1/analytics/events?limit=1000`, { headers: { authorization: `Bearer ${ADMIN}` } })
      const body = await res.json() as { data: EventView[] }
      return body.data.find((e) => e.request_id === requestId)
    }, 10_000, 25)
    return value!
  }

  it('records an OpenAI batch line at half the cost of the same request sent directly, cached input too', async () => {
    const body = { model: 'gpt', messages: [{ role: 'user' as const, content: 'price me' }] }
    const direct = await openai.chat.completions.create(body).withResponse()
    const { output } = await runBatch(openai, body)

    const interactive = await eventOf(direct.response.headers.get('x-request-id')!)
    const batched = await eventOf(output.response.request_id)
    // gpt-4o-mini: 200 input at 0.15, 1000 cached at 0.075, 300 output at 0.6 per 1M tokens.
    const full = (200 * 0.15 + 1000 * 0.075 + 300 * 0.6) / 1e6
    expect(interactive).toMatchObject({ batch: false, prompt_tokens: 1200, cached_tokens: 1000 })
    expect(interactive.cost_usd).toBeCloseTo(full, 12)
    expect(batched).toMatchObject({ batch: true, prompt_tokens: 1200, cached_tokens: 1000 })
    expect(batched.cost_usd).toBeCloseTo(full / 2, 12)
  })

  it('records an Anthropic message batch line at half the cost of the same /v1/messages request, cache reads and writes too', async () => {
    const params = { model: 'claude', max_tokens: 64, messages: [{ role: 'user' as const, content: 'price me' }] }
    const direct = await anthropic.messages.create(params).withResponse()
    const created = await anthropic.messages.batches.create({ requests: [{ custom_id: 'a', params }] })
    await waitFor(async () => (await anthropic.messages.batches.retrieve(created.id)).processing_status === 'ended' || undefined, 15_000, 50)
    const results: { custom_id: string }[] = []
    for await (const r of await anthropic.messages.batches.results(created.id)) results.push(r)
    expect(results).toHaveLength(1)

    const interactive = await eventOf(direct.response.headers.get('x-request-id')!)
    const { value: batched } = await waitFor(async () => {
      const res = await fetch(`${gw.url}/api/v1/analytics/events?limit=1000`, { headers: { authorization: `Bearer ${ADMIN}` } })
      return ((await res.json()) as { data: EventView[] }).data.find((e) => e.route === 'claude' && e.batch)
    }, 10_000, 25)
    // claude-sonnet-4-5: 100 input at 3, 1000 cache reads at 0.3, 400 cache writes at 3.75, 20 output at 15 per 1M tokens.
    const full = (100 * 3 + 1000 * 0.3 + 400 * 3.75 + 20 * 15) / 1e6
    expect(interactive).toMatchObject({ batch: false, prompt_tokens: 1500, cached_tokens: 1000, cache_write_tokens: 400 })
    expect(interactive.cost_usd).toBeCloseTo(full, 12)
    expect(batched).toMatchObject({ batch: true, prompt_tokens: 1500, cached_tokens: 1000, cache_write_tokens: 400 })
    expect(batched!.cost_usd).toBeCloseTo(full / 2, 12)
  })

  it('prices a batch line at a model\'s own batch_input and batch_output, its cached input scaled as input is', async () => {
    const { output } = await runBatch(openai, { model: 'explicit', messages: [{ role: 'user', content: 'price me' }] })
    // 200 input at 2, 1000 cached at 5 × 2/10, 300 output at 4 per 1M tokens.
    expect((await eventOf(output.response.request_id)).cost_usd).toBeCloseTo((200 * 2 + 1000 * 1 + 300 * 4) / 1e6, 12)
  })

  it('gives no client the batch rate interactively, whatever it sends', async () => {
    const sent = await openai.chat.completions.create(
      { model: 'gpt', messages: [{ role: 'user', content: 'price me' }], metadata: { batch: 'true' }, ...{ batch: true } } as OpenAI.ChatCompletionCreateParamsNonStreaming,
      { headers: { 'x-gateway-batch': 'true', 'x-batch': 'true', batch: 'true', 'x-gateway-batch-id': 'batch_x' } },
    ).withResponse()
    const event = await eventOf(sent.response.headers.get('x-request-id')!)
    expect(event.batch).toBe(false)
    expect(event.cost_usd).toBeCloseTo((200 * 0.15 + 1000 * 0.075 + 300 * 0.6) / 1e6, 12)
  })

  it('reserves a batch line\'s budget at the batch rate: a line the direct request\'s estimate is refused for runs', async () => {
    const dave = new OpenAI({ apiKey: DAVE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    // A gateway.yaml model's own `batch: 0.5`; at $1 a token, 30 answer tokens and the prompt's few are over $25 at full price, under at half.
    const body = { model: 'pricey', max_tokens: 30, messages: [{ role: 'user' as const, content: 'price me' }] }
    const refused = await dave.chat.completions.create(body).then(() => undefined, (err: InstanceType<typeof OpenAI.APIError>) => err)
    expect(refused?.status).toBe(402)
    const estimate = Number(/may cost up to \$(\d+\.\d\d)/.exec(refused!.message)![1])
    expect(estimate).toBeGreaterThan(25)
    expect(estimate / 2).toBeLessThan(25)
    const { batch, output } = await runBatch(dave, body)
    expect(batch.request_counts).toMatchObject({ completed: 1, failed: 0 })
    expect(output.response.status_code).toBe(200)
    // Its answer of 1 + 1 tokens at half of $1 each.
    expect((await eventOf(output.response.request_id)).cost_usd).toBeCloseTo(1, 9)
  })
})
