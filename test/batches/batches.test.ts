/**
 * Batches (/v1/batches) as a user of the official openai SDK runs them: upload a `batch` file,
 * create, poll to the end, read the output and error files; faults in the file fail the batch
 * with their line numbers; cancelling keeps what was answered; a rate limit pauses the batch
 * instead of failing its lines; callers see only their own batches. Answers match OpenAI's schema.
 */
import type http from 'node:http'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../plugin-api/index.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { sendJson, startUpstream, type MockUpstream, type RecordedRequest } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { DATABASE_URL, dropSchema, POSTGRES_ENABLED, uniqueSchema } from '../store/helpers.ts'
import { stepDelay } from '../../plugins/services/batches/worker.ts'
import { RABBITMQ_ENABLED, RABBITMQ_URL, deleteQueues, uniquePrefix } from '../queue/helpers.ts'
import { sign, signingKey, startIssuer, type Issuer, type SigningKey } from '../identity/helpers.ts'

const ALICE = 'batch-alice-key-0123456789abcdef'
const CAROL = 'batch-carol-key-0123456789abcdef'

type Handler = (req: RecordedRequest, res: http.ServerResponse) => Promise<void> | void

/** OpenAI's wire: a chat answer `reply to: <last message>`, embeddings of the input's length; `failing` models answer 500. */
const answer: Handler = (req, res) => {
  if (req.path.endsWith('/embeddings')) {
    const inputs = Array.isArray(req.body.input) ? req.body.input : [req.body.input]
    return sendJson(res, 200, { object: 'list', model: req.body.model, data: inputs.map((t: string, index: number) => ({ object: 'embedding', index, embedding: [t.length, 1, 0] })), usage: { prompt_tokens: 3, total_tokens: 3 } })
  }
  if (req.body.model === 'broken-model') return sendJson(res, 400, { error: { message: 'this model refuses', type: 'invalid_request_error', code: 'model_refused', param: null } })
  const last = (req.body.messages as { content: string }[]).at(-1)?.content
  sendJson(res, 200, {
    id: 'chatcmpl-b', object: 'chat.completion', created: 1, model: req.body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: `reply to: ${last}` }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9, completion_tokens_details: { reasoning_tokens: 2 } },
  })
}

const line = (customId: string, body: Record<string, unknown>, url = '/v1/chat/completions') => JSON.stringify({ custom_id: customId, method: 'POST', url, body })
const chat = (customId: string, text: string, model = 'chat-a') => line(customId, { model, messages: [{ role: 'user', content: text }] })

describe('batches: /v1/batches with the openai SDK', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  let alice: OpenAI
  let handler: Handler = answer
  beforeAll(async () => {
    upstream = await startUpstream((req, res) => handler(req, res))
    gw = await startTestGateway(`
version: 1
store: { plugin: embedded, memory: true, vector: false }
queue: { plugin: memory }
providers:
  up: { plugin: openai, api_key: sk-test, base_url: '${upstream.url}' }
routes:
  - { model: chat-a, targets: [ { provider: up, model: gpt-4o-mini } ] }
  - { model: broken, targets: [ { provider: up, model: broken-model } ] }
  - { model: embed-a, targets: [ { provider: up, model: text-embedding-3-small } ] }
  - { model: limited, targets: [ { provider: up, model: gpt-4o-mini } ] }
  - { model: strict-a, strict: true, targets: [ { provider: up, model: gpt-4o-mini } ] }
  - { model: extra-a, extra_params: [top_k], targets: [ { provider: up, model: gpt-4o-mini } ] }
  - { model: tiered, when: { metadata: { tier: gold } }, targets: [ { provider: up, model: gold-model } ] }
  - { model: tiered, when: { headers: { x-team: blue } }, targets: [ { provider: up, model: blue-model } ] }
  - { model: tiered, strict: true, targets: [ { provider: up, model: plain-model } ] }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: "${ALICE}", user: alice, role: user, department: research }
        - { key: "${CAROL}", user: carol, role: user, department: sales }
limits:
  backend: { plugin: memory }
  policies: [ { scope: user, when: { routes: [limited] }, requests_per_second: 2 } ]
services:
  files: {}
  keys: {}
  batches: { concurrency: 3, step_ms: 300, sweep_ms: 200, rate_limit_pause_ms: 100 }
`)
    alice = new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  }, 120_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  const upload = async (client: OpenAI, lines: string[], purpose: 'batch' | 'user_data' = 'batch') =>
    client.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'requests.jsonl', { type: 'application/jsonl' }), purpose })
  const ended = async (client: OpenAI, id: string): Promise<OpenAI.Batch> =>
    (await waitFor(async () => {
      const b = await client.batches.retrieve(id)
      return ['completed', 'failed', 'cancelled', 'expired'].includes(b.status) ? b : undefined
    }, 20_000, 50)).value!
  const jsonl = async (client: OpenAI, fileId: string) => (await (await client.files.content(fileId)).text()).trim().split('\n').map((l) => JSON.parse(l))

  it('runs a chat batch through the pipeline: output and error files, counts, usage', async () => {
    handler = answer
    const file = await upload(alice, [chat('a', 'first'), chat('b', 'second'), chat('c', 'third', 'broken'), chat('d', 'fourth')])
    const created = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { job: 'nightly' } })
    expectOpenAISchema('Batch', created)
    expect(created).toMatchObject({ object: 'batch', status: 'validating', endpoint: '/v1/chat/completions', input_file_id: file.id, completion_window: '24h', metadata: { job: 'nightly' } })
    expect(created.id).toMatch(/^batch_[0-9a-f]{32}$/)
    const done = await ended(alice, created.id)
    expectOpenAISchema('Batch', done)
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 4, completed: 3, failed: 1 } })
    expect(done.in_progress_at).toBeGreaterThanOrEqual(done.created_at)
    expect(done.completed_at).toBeGreaterThanOrEqual(done.in_progress_at!)
    // The reasoning tokens each answer reported, summed (as a reasoning model's are).
    expect(done.usage).toMatchObject({ input_tokens: 15, output_tokens: 12, total_tokens: 27, output_tokens_details: { reasoning_tokens: 6 } })
    const outputs = await jsonl(alice, done.output_file_id!)
    expect(outputs.map((o) => o.custom_id)).toEqual(['a', 'b', 'd'])
    expect(outputs[0]).toMatchObject({ custom_id: 'a', error: null, response: { status_code: 200, body: { object: 'chat.completion', choices: [{ message: { content: 'reply to: first' } }] } } })
    expect(outputs[0].id).toMatch(/^batch_req_/)
    const errors = await jsonl(alice, done.error_file_id!)
    expect(errors).toEqual([expect.objectContaining({ custom_id: 'c', response: expect.objectContaining({ status_code: 400, body: { error: expect.objectContaining({ message: expect.stringContaining('this model refuses') }) } }) })])
    expect((await alice.files.retrieve(done.output_file_id!)).purpose).toBe('batch_output')
    // Each line was a request of its own through the pipeline.
    expect(upstream.requests.filter((r) => r.path.endsWith('/chat/completions')).length).toBeGreaterThanOrEqual(4)
  })

  it('writes a failed line\'s response as an answered line\'s: status_code, request_id of its call, and headers', async () => {
    handler = answer
    const file = await upload(alice, [chat('ok', 'fine'), chat('bad', 'refused', 'broken')])
    const done = await ended(alice, (await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
    expect(done.request_counts).toMatchObject({ completed: 1, failed: 1 })
    const [answered] = await jsonl(alice, done.output_file_id!)
    const [failed] = await jsonl(alice, done.error_file_id!)
    expect(Object.keys(failed.response).sort()).toEqual(Object.keys(answered.response).sort())
    expect(failed).toMatchObject({ custom_id: 'bad', error: null, response: { status_code: 400, request_id: expect.stringMatching(/^req_[0-9a-f]+$/), headers: expect.any(Object) } })
    expect(answered.response.request_id).toMatch(/^req_[0-9a-f]+$/)
    expect(failed.response.request_id).not.toBe(answered.response.request_id)
    // Each is the request id of the call that answered the line: its usage event has it.
    const { rows } = await waitFor(async () => {
      const found = await capability(gw, Store).sql.query<{ request_id: string; status: number }>(
        'SELECT request_id, status FROM usage_events WHERE request_id = ANY($1) ORDER BY status', [[answered.response.request_id, failed.response.request_id]])
      return found.rows.length === 2 ? found : undefined
    }, 10_000, 50).then((r) => r.value!)
    expect(rows).toEqual([{ request_id: answered.response.request_id, status: 200 }, { request_id: failed.response.request_id, status: 400 }])
  })

  it('runs an embeddings batch', async () => {
    handler = answer
    const file = await upload(alice, [line('e1', { model: 'embed-a', input: 'abc' }, '/v1/embeddings'), line('e2', { model: 'embed-a', input: ['hello', 'x'] }, '/v1/embeddings')])
    const done = await ended(alice, (await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' })).id)
    expect(done).toMatchObject({ status: 'completed', model: 'embed-a', request_counts: { total: 2, completed: 2, failed: 0 } })
    const outputs = await jsonl(alice, done.output_file_id!)
    expect(outputs[1].response.body.data.map((d: { embedding: number[] }) => d.embedding[0])).toEqual([5, 1])
    expect(done.error_file_id).toBeUndefined()
  })

  it('fails a batch whose file has faults, listing each with its line, and runs none of it', async () => {
    const before = upstream.requests.length
    const file = await upload(alice, [chat('ok', 'fine'), '{not json', chat('ok', 'again'), line('u', { model: 'chat-a', messages: [] }, '/v1/embeddings'), line('s', { model: 'chat-a', messages: [], stream: true }), JSON.stringify({ custom_id: 'm', method: 'GET', url: '/v1/chat/completions', body: {} })])
    const done = await ended(alice, (await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
    expectOpenAISchema('Batch', done)
    expect(done.status).toBe('failed')
    expect(done.failed_at).toBeGreaterThan(0)
    expect(done.errors?.data?.map((e) => [e.line, e.code])).toEqual([[2, 'invalid_json_line'], [3, 'duplicate_custom_id'], [4, 'mismatched_endpoint'], [5, 'invalid_request'], [6, 'invalid_method']])
    expect(upstream.requests.length).toBe(before)
  })

  it('answers each line the endpoint would refuse with that 400 in the error file, never sending it, and runs the rest', async () => {
    handler = answer
    const ask = (text: string) => [{ role: 'user', content: text }]
    // Each as /v1/chat/completions takes it: refused (the same 400), or sent without the fields outside the chat API.
    const bodies: Record<string, Record<string, unknown>> = {
      temp9: { model: 'chat-a', temperature: 9, messages: ask('v-temp9') },
      n500: { model: 'chat-a', n: 500, messages: ask('v-n500') },
      badrole: { model: 'chat-a', messages: [{ role: 'wizard', content: 'v-badrole' }] },
      top_p5: { model: 'chat-a', top_p: 5, messages: ask('v-top_p5') },
      nomessages: { model: 'chat-a', messages: [] },
      strict_typo: { model: 'strict-a', temperatur: 0.5, messages: ask('v-strict_typo') },
      typo: { model: 'chat-a', temperatur: 0.5, messages: ask('v-typo') },
      extra: { model: 'extra-a', top_k: 3, temperatur: 0.5, messages: ask('v-extra') },
      fine: { model: 'chat-a', temperature: 0.5, n: 1, messages: ask('v-fine') },
    }
    const refused = ['temp9', 'n500', 'badrole', 'top_p5', 'nomessages', 'strict_typo']
    const direct: Record<string, unknown> = {}
    for (const id of refused) {
      const err = await alice.chat.completions.create(bodies[id] as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming).then(() => undefined, (e: unknown) => e)
      expect(err, id).toBeInstanceOf(OpenAI.BadRequestError)
      direct[id] = (err as InstanceType<typeof OpenAI.BadRequestError>).error
    }
    const before = upstream.requests.length
    const file = await upload(alice, Object.entries(bodies).map(([id, body]) => line(id, body)))
    const done = await ended(alice, (await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 9, completed: 3, failed: 6 } })
    const errors = await jsonl(alice, done.error_file_id!)
    expect(errors.map((e) => e.custom_id)).toEqual(refused)
    for (const e of errors) {
      expect(e).toMatchObject({ error: null, response: { status_code: 400, body: { error: direct[e.custom_id] } } })
      expect(e.response.body.error.param, e.custom_id).toBeTruthy()
    }
    expect((await jsonl(alice, done.output_file_id!)).map((o) => o.custom_id)).toEqual(['typo', 'extra', 'fine'])
    // The upstream got the three that pass, each once: without the typo, with the field its route lists.
    const sent = upstream.requests.slice(before).filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body)
    expect(sent.map((b) => b.messages[0].content).sort()).toEqual(['v-extra', 'v-fine', 'v-typo'])
    for (const b of sent) {
      expect(b).not.toHaveProperty('temperatur')
      expect(b.n ?? 1).toBe(1)
    }
    expect(sent.find((b) => b.messages[0].content === 'v-extra')).toMatchObject({ top_k: 3 })
  })

  it('routes each line as the request sent directly: by its metadata and the creating request\'s headers, its warnings in response.headers', async () => {
    handler = answer
    const ask = (text: string) => [{ role: 'user' as const, content: text }]
    // A field outside the chat API: dropped with a warning on the metadata and header routes, refused on the strict one they stand before.
    const gold = { model: 'tiered', metadata: { tier: 'gold' }, temperatur: 0.5, messages: ask('r-gold') }
    const blue = { model: 'tiered', temperatur: 0.5, messages: ask('r-blue') }
    const direct = await alice.chat.completions.create(gold as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming).withResponse()
    expect(direct.data.model).toBe('gold-model')
    const warning = direct.response.headers.get('x-gateway-warning')
    expect(warning).toContain("dropped 'temperatur'")
    const directBlue = await alice.chat.completions.create(blue as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, { headers: { 'x-team': 'blue' } })
    expect(directBlue.model).toBe('blue-model')

    const file = await upload(alice, [line('gold', gold), line('blue', blue)])
    const created = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }, { headers: { 'x-team': 'blue' } })
    const done = await ended(alice, created.id)
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 2, failed: 0 } })
    const outputs = await jsonl(alice, done.output_file_id!)
    expect(outputs.map((o) => [o.custom_id, o.response.body.model])).toEqual([['gold', 'gold-model'], ['blue', 'blue-model']])
    expect(outputs[0].response.headers).toMatchObject({ 'x-gateway-route': 'tiered', 'x-gateway-provider': 'up', 'x-gateway-model': 'gold-model', 'x-gateway-warning': warning })
    expect(outputs[1].response.headers['x-gateway-warning']).toContain("dropped 'temperatur'")
    // The key that created it is not kept with the batch.
    const [row] = (await capability(gw, Store).sql.query<{ headers: Record<string, string> }>('SELECT headers FROM batches WHERE id = $1', [created.id])).rows
    expect(row!.headers['x-team']).toBe('blue')
    expect(JSON.stringify(row!.headers)).not.toContain(ALICE)
  })

  it('keeps a line with store: true as the gateway keeps a direct request\'s (chat.completions.retrieve finds it, with its metadata), sending neither store nor metadata on; routes still read the metadata', async () => {
    handler = answer
    const body = { model: 'tiered', store: true, metadata: { tier: 'gold', topic: 'batch-kept' }, messages: [{ role: 'user' as const, content: 'keep-me' }] }
    const file = await upload(alice, [line('kept', body)])
    const done = await ended(alice, (await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
    expect(done.status).toBe('completed')
    const [output] = await jsonl(alice, done.output_file_id!)
    expect(output.response.body.model).toBe('gold-model')
    const sent = upstream.requests.filter((r) => JSON.stringify(r.body).includes('keep-me'))
    expect(sent).toHaveLength(1)
    expect(sent[0]!.body).not.toHaveProperty('store')
    expect(sent[0]!.body).not.toHaveProperty('metadata')
    const kept = (await waitFor(async () => (await alice.chat.completions.list({ metadata: { topic: 'batch-kept' } })).data[0], 5000, 50)).value!
    expect(kept).toMatchObject({ id: output.response.body.id, metadata: { tier: 'gold', topic: 'batch-kept' } })
    expect((await alice.chat.completions.retrieve(kept.id)).choices[0]!.message.content).toBe(output.response.body.choices[0].message.content)
  })

  it('answers an embeddings line the endpoint would refuse with its 400, never sending it', async () => {
    handler = answer
    const err = await alice.embeddings.create({ model: 'embed-a', input: null } as unknown as OpenAI.EmbeddingCreateParams).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    const before = upstream.requests.length
    const file = await upload(alice, [line('null', { model: 'embed-a', input: null }, '/v1/embeddings'), line('ok', { model: 'embed-a', input: 'abc' }, '/v1/embeddings')])
    const done = await ended(alice, (await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' })).id)
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 1, failed: 1 } })
    expect(await jsonl(alice, done.error_file_id!)).toEqual([expect.objectContaining({ custom_id: 'null', error: null, response: expect.objectContaining({ status_code: 400, body: { error: (err as InstanceType<typeof OpenAI.BadRequestError>).error } }) })])
    expect(upstream.requests.slice(before).map((r) => r.body.input)).toEqual(['abc'])
  })

  it("answers a line with input 5, or a function tool without its name, with the endpoint's 400 (the stricter checks surface.openai shares), never sending it", async () => {
    handler = answer
    const directError = async (call: Promise<unknown>) => {
      const err = await call.then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.BadRequestError)
      return (err as InstanceType<typeof OpenAI.BadRequestError>).error
    }
    const embeds: Record<string, Record<string, unknown>> = {
      five: { model: 'embed-a', input: 5 },
      mixed: { model: 'embed-a', input: ['a', 1] },
      ok: { model: 'embed-a', input: 'abc' },
    }
    const nameless = { model: 'chat-a', messages: [{ role: 'user', content: 'v-nameless' }], tools: [{ type: 'function', function: { parameters: { type: 'object' } } }] }
    const direct = {
      five: await directError(alice.embeddings.create(embeds.five as unknown as OpenAI.EmbeddingCreateParams)),
      mixed: await directError(alice.embeddings.create(embeds.mixed as unknown as OpenAI.EmbeddingCreateParams)),
      nameless: await directError(alice.chat.completions.create(nameless as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)),
    }
    expect(direct).toMatchObject({ five: { param: 'input', code: 'invalid_type' }, mixed: { param: 'input[1]' }, nameless: { param: 'tools[0].function.name' } })
    const before = upstream.requests.length
    const embedFile = await upload(alice, Object.entries(embeds).map(([id, body]) => line(id, body, '/v1/embeddings')))
    const embedDone = await ended(alice, (await alice.batches.create({ input_file_id: embedFile.id, endpoint: '/v1/embeddings', completion_window: '24h' })).id)
    expect(embedDone).toMatchObject({ status: 'completed', request_counts: { total: 3, completed: 1, failed: 2 } })
    const chatFile = await upload(alice, [line('nameless', nameless), chat('fine', 'v-fine')])
    const chatDone = await ended(alice, (await alice.batches.create({ input_file_id: chatFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
    expect(chatDone).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 1, failed: 1 } })
    const errors = [...await jsonl(alice, embedDone.error_file_id!), ...await jsonl(alice, chatDone.error_file_id!)]
    expect(errors.map((e) => e.custom_id)).toEqual(['five', 'mixed', 'nameless'])
    for (const e of errors) expect(e).toMatchObject({ error: null, response: { status_code: 400, body: { error: direct[e.custom_id as keyof typeof direct] } } })
    // The upstream got only the lines that pass.
    const sent = upstream.requests.slice(before).map((r) => r.body)
    expect(sent.map((b) => b.input ?? b.messages[0].content)).toEqual(['abc', 'v-fine'])
  })

  it('refuses at creation an endpoint it does not run, a file of another purpose, and a file the caller cannot see', async () => {
    const file = await upload(alice, [chat('a', 'x')])
    await expect(alice.batches.create({ input_file_id: file.id, endpoint: '/v1/moderations', completion_window: '24h' })).rejects.toMatchObject({ status: 400, param: 'endpoint' })
    const other = await upload(alice, [chat('a', 'x')], 'user_data')
    await expect(alice.batches.create({ input_file_id: other.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).rejects.toMatchObject({ status: 400, param: 'input_file_id', code: 'invalid_file_purpose' })
    const carol = new OpenAI({ apiKey: CAROL, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    await expect(carol.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).rejects.toMatchObject({ status: 404, param: 'input_file_id' })
    // A misspelt field is a 400 naming it (the batch would have run without its metadata), as OpenAI answers.
    const misspelt = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metdata: { job: 'nightly' } } as OpenAI.BatchCreateParams).catch((e: unknown) => e)
    expect(misspelt).toBeInstanceOf(OpenAI.BadRequestError)
    expect(misspelt).toMatchObject({ param: 'metdata', code: 'unknown_parameter' })
    // OpenAI's metadata: keys up to 64 characters (a longer one is refused, not kept cut or whole).
    const create = (extra: Record<string, unknown>) => alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', ...extra } as OpenAI.BatchCreateParams)
    await expect(create({ metadata: { ['k'.repeat(65)]: 'v' } })).rejects.toMatchObject({ status: 400, param: expect.stringMatching(/^metadata/) })
    await expect(create({ completion_window: '48h' })).rejects.toMatchObject({ status: 400, param: 'completion_window' })
    const kept = await create({ metadata: { ['k'.repeat(64)]: 'v'.repeat(512) } })
    expect(kept.metadata).toEqual({ ['k'.repeat(64)]: 'v'.repeat(512) })
    await alice.batches.cancel(kept.id)
  })

  it('cancels a running batch: what was answered is kept in its output file, the lines in flight are stopped', async () => {
    let hungUp = 0
    let answered = 0
    handler = async (req, res) => {
      // The first three answer; the rest wait until the gateway hangs up.
      if (answered < 3) { answered++; return answer(req, res) }
      await new Promise<void>((resolve) => res.once('close', () => resolve()))
      hungUp++
    }
    const file = await upload(alice, Array.from({ length: 12 }, (_, i) => chat(`c${i}`, `line ${i}`)))
    const created = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    await waitFor(async () => (await alice.batches.retrieve(created.id)).status === 'in_progress' && hungUp === 0 && answered === 3, 10_000, 20)
    await waitFor(() => upstream.requests.filter((r) => /line (3|4|5)$/.test(r.body?.messages?.[0]?.content ?? '')).length > 0, 10_000, 20)
    const cancelling = await alice.batches.cancel(created.id)
    expectOpenAISchema('Batch', cancelling)
    expect(['cancelling', 'cancelled']).toContain(cancelling.status)
    const done = await ended(alice, created.id)
    expect(done.status).toBe('cancelled')
    expect(done.cancelled_at).toBeGreaterThan(0)
    expect(done.request_counts).toMatchObject({ total: 12, completed: 3, failed: 0 })
    expect((await jsonl(alice, done.output_file_id!)).map((o) => o.custom_id).sort()).toEqual(['c0', 'c1', 'c2'])
    await waitFor(() => hungUp > 0, 5000, 20)
    await expect(alice.batches.cancel(created.id).then((b) => b.status)).resolves.toBe('cancelled')
    const finished = (await alice.batches.list()).data.find((b) => b.status === 'completed')!
    await expect(alice.batches.cancel(finished.id)).rejects.toMatchObject({ status: 400, code: 'batch_not_cancellable' })
    handler = answer
  })

  it('stops the batches of a key that is revoked: the lines sent before are kept, no line is sent after', async () => {
    const minted = await fetch(`${gw.url}/api/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'batch-job' }) })
    const key = ((await minted.json()) as { data: { id: string; key: string } }).data
    const withKey = new OpenAI({ apiKey: key.key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    let sent = 0
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => { release = resolve })
    handler = async (req, res) => {
      // The first three answer at once; the next wait at the gate while the key is revoked.
      if (++sent > 3) await gate
      return answer(req, res)
    }
    const file = await upload(withKey, Array.from({ length: 12 }, (_, i) => chat(`r${i}`, `line ${i}`)))
    const created = await withKey.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    await waitFor(() => sent === 6, 10_000, 20)
    const revoked = await fetch(`${gw.url}/api/v1/keys/${key.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ALICE}` } })
    expect(revoked.status).toBe(200)
    // Past the step's time, so the lines in flight are its last; then they are answered.
    await new Promise((resolve) => setTimeout(resolve, 400))
    release()
    const done = await ended(alice, created.id)
    expect(done.status).toBe('cancelled')
    expect(done.errors?.data?.[0]).toMatchObject({ code: 'key_revoked' })
    expect(done.request_counts).toMatchObject({ total: 12, completed: 6 })
    expect(sent).toBe(6)
    handler = answer
  })

  it('ends a batch whose window closes as expired: what was answered in the output, the rest in the error file', async () => {
    let answered = 0
    handler = async (req, res) => {
      if (answered < 2) { answered++; return answer(req, res) }
      await new Promise<void>((resolve) => res.once('close', () => resolve()))
    }
    const file = await upload(alice, Array.from({ length: 5 }, (_, i) => chat(`x${i}`, `expiring ${i}`)))
    const created = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    await waitFor(() => answered === 2, 10_000, 20)
    // The 24 hours pass.
    await capability(gw, Store).sql.query(`UPDATE batches SET expires_at = now() - interval '1 second' WHERE id = $1`, [created.id])
    const done = await ended(alice, created.id)
    expectOpenAISchema('Batch', done)
    expect(done).toMatchObject({ status: 'expired', request_counts: { total: 5, completed: 2, failed: 3 } })
    expect(done.expired_at).toBeGreaterThan(0)
    expect((await jsonl(alice, done.output_file_id!)).map((o) => o.custom_id)).toEqual(['x0', 'x1'])
    const errors = await jsonl(alice, done.error_file_id!)
    expect(errors.map((e) => [e.custom_id, e.error?.code])).toEqual([['x2', 'batch_expired'], ['x3', 'batch_expired'], ['x4', 'batch_expired']])
    handler = answer
  })

  it('waits out a rate limit instead of failing the lines it hits', async () => {
    handler = answer
    const file = await upload(alice, Array.from({ length: 6 }, (_, i) => chat(`r${i}`, `limited ${i}`, 'limited')))
    const started = performance.now()
    const done = await ended(alice, (await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 6, completed: 6, failed: 0 } })
    // Two a second: six lines take at least two seconds.
    expect(performance.now() - started).toBeGreaterThan(1900)
  })

  it('shows each caller only their own batches, newest first, paged', async () => {
    const carol = new OpenAI({ apiKey: CAROL, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const mine = (await alice.batches.list({ limit: 2 }))
    expect(mine.data).toHaveLength(2)
    expect(mine.hasNextPage()).toBe(true)
    const all: string[] = []
    for await (const b of alice.batches.list({ limit: 2 })) all.push(b.id)
    expect(all.length).toBeGreaterThanOrEqual(5)
    expect(new Set(all).size).toBe(all.length)
    const wire = await (await fetch(`${gw.url}/v1/batches?limit=1`, { headers: { authorization: `Bearer ${ALICE}` } })).json()
    expectOpenAISchema('ListBatchesResponse', wire)
    expect((await carol.batches.list()).data).toEqual([])
    // An empty list is OpenAI's shape too (ids typed as strings).
    expectOpenAISchema('ListBatchesResponse', await (await fetch(`${gw.url}/v1/batches`, { headers: { authorization: `Bearer ${CAROL}` } })).json())
    await expect(carol.batches.retrieve(all[0]!)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
    await expect(carol.batches.cancel(all[0]!)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
    // A cursor that names no batch the caller can list is a 400 naming `after`, not an empty page that reads as the end.
    for (const after of [all[0]!, 'batch_00000000000000000000000000000000', 'nonsense']) {
      const refused = await carol.batches.list({ after }).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError)
      expect(refused).toMatchObject({ status: 400, param: 'after', code: 'invalid_value' })
    }
    expect((await alice.batches.list({ after: all[0]! })).data[0]?.id).toBe(all[1])
  })
})

describe.runIf(POSTGRES_ENABLED)('batches across a restart (postgres store)', () => {
  it('goes on where it stopped when the gateway that ran it stops: every line answered once in the output', async () => {
    const schema = uniqueSchema('batches')
    const upstream = await startUpstream(async (req, res) => {
      await new Promise((r) => setTimeout(r, 100))
      await answer(req, res)
    })
    const yaml = `
version: 1
store: { plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }
queue: { plugin: memory }
providers:
  up: { plugin: openai, api_key: sk-test, base_url: '${upstream.url}' }
routes:
  - { model: chat-a, targets: [ { provider: up, model: gpt-4o-mini } ] }
auth:
  strategies:
    - plugin: api-key
      keys: [ { key: "${ALICE}", user: alice, role: user, department: research } ]
services:
  files: {}
  batches: { concurrency: 1, step_ms: 200, lease_ms: 1000, sweep_ms: 100 }
`
    let gw = await startTestGateway(yaml)
    try {
      let client = new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
      const file = await client.files.create({ file: await toFile(Buffer.from(Array.from({ length: 20 }, (_, i) => chat(`l${i}`, `line ${i}`)).join('\n')), 'r.jsonl'), purpose: 'batch' })
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      await waitFor(() => upstream.requests.length >= 4, 10_000, 20)
      await gw.close()
      const sent = upstream.requests.length
      expect(sent).toBeLessThan(20)
      // A new process: its sweep finds the batch whose step went with the old one.
      gw = await startTestGateway(yaml)
      client = new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
      const done = (await waitFor(async () => {
        const b = await client.batches.retrieve(created.id)
        return b.status === 'completed' ? b : undefined
      }, 30_000, 50)).value!
      expect(done.request_counts).toEqual({ total: 20, completed: 20, failed: 0 })
      const outputs = (await (await client.files.content(done.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l) as { custom_id: string })
      expect(outputs.map((o) => o.custom_id)).toEqual(Array.from({ length: 20 }, (_, i) => `l${i}`))
      // At most the line in flight at the stop was sent twice.
      expect(upstream.requests.length).toBeLessThanOrEqual(21)
    } finally {
      await gw.close()
      await upstream.close()
      await dropSchema(schema)
    }
  }, 90_000)
})

describe('batches made with a token: each step runs as the user the store has now', () => {
  const AUDIENCE = 'batches-api'
  const ADMIN = 'batch-admin-key-0123456789abcdef'
  let upstream: MockUpstream
  let gw: RunningGateway
  let issuer: Issuer
  let signer: SigningKey
  let handler: Handler = answer
  beforeAll(async () => {
    signer = await signingKey('batch-k1')
    issuer = await startIssuer([signer])
    upstream = await startUpstream((req, res) => handler(req, res))
    gw = await startTestGateway(`
version: 1
store: { plugin: embedded, memory: true, vector: false }
queue: { plugin: memory }
providers:
  up: { plugin: openai, api_key: sk-test, base_url: '${upstream.url}' }
routes:
  - { model: for-users, when: { roles: [user] }, targets: [ { provider: up, model: gpt-4o-mini } ] }
roles:
  intern: { permissions: [chat], scope: own_data }
  auditor: { permissions: [view_analytics], scope: own_data }
auth:
  strategies:
    - { plugin: jwt, issuer: '${issuer.issuer}', audience: ${AUDIENCE}, jwks_uri: '${issuer.jwksUri}' }
    - plugin: api-key
      keys: [ { key: "${ADMIN}", user: admin, role: admin } ]
services:
  files: {}
  users: {}
  batches: { concurrency: 3, step_ms: 300, sweep_ms: 200 }
`)
  }, 120_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
    await issuer?.close()
  })

  const admin = () => new OpenAI({ apiKey: ADMIN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  /** A token for `sub` (no role claim: the role is the one the store keeps), its client, and the user the gateway recorded. */
  const signIn = async (sub: string) => {
    const token = await sign(signer, { sub }, { issuer: issuer.issuer, audience: AUDIENCE })
    const me = await (await fetch(`${gw.url}/api/v1/users/me`, { headers: { authorization: `Bearer ${token}` } })).json() as { data: { user_id: string; role: string } }
    expect(me.data.role).toBe('user')
    return { client: new OpenAI({ apiKey: token, baseURL: `${gw.url}/v1`, maxRetries: 0 }), userId: me.data.user_id }
  }
  /** Twelve lines; the upstream answers three at once and holds the next until `release()`: two steps' worth sent, the rest for later steps. */
  const heldBatch = async (client: OpenAI) => {
    let sent = 0
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => { release = resolve })
    handler = async (req, res) => {
      if (++sent > 3) await gate
      return answer(req, res)
    }
    const lines = Array.from({ length: 12 }, (_, i) => chat(`u${i}`, `line ${i}`, 'for-users'))
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'requests.jsonl', { type: 'application/jsonl' }), purpose: 'batch' })
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    // Generous: on a loaded machine (CI beside other jobs) two steps' queue round trips took over 10 s.
    await waitFor(() => sent === 6, 25_000, 20)
    return { created, sent: () => sent, release }
  }
  const ended = async (id: string): Promise<OpenAI.Batch> =>
    (await waitFor(async () => {
      const b = await admin().batches.retrieve(id)
      return ['completed', 'failed', 'cancelled', 'expired'].includes(b.status) ? b : undefined
    }, 20_000, 50)).value!

  it('stops the batches of a user who is deleted: the lines sent before are kept, no line is sent after', async () => {
    const { client, userId } = await signIn('dave')
    const batch = await heldBatch(client)
    // No management route deletes users: an operator does it in the database.
    await capability(gw, Store).sql.query('DELETE FROM users WHERE id = $1', [userId])
    // Past the step's time, so the lines in flight are its last; then they are answered.
    await new Promise((resolve) => setTimeout(resolve, 400))
    batch.release()
    const done = await ended(batch.created.id)
    expectOpenAISchema('Batch', done)
    expect(done.status).toBe('cancelled')
    expect(done.errors?.data?.[0]).toMatchObject({ code: 'user_deleted', message: expect.stringContaining('user who started it was deleted') })
    expect(done.request_counts).toMatchObject({ total: 12, completed: 6 })
    expect(batch.sent()).toBe(6)
    handler = answer
  }, 60_000)

  /** A batch of `name`'s, held after its first step while an admin gives them `role`; its end, the first step's lines answered, the rest failed, and the failed lines. */
  async function batchAcrossRoleChange(name: string, role: string) {
    const { client, userId } = await signIn(name)
    const batch = await heldBatch(client)
    const changed = await fetch(`${gw.url}/api/v1/users/${userId}`, { method: 'PATCH', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ role }) })
    expect(changed.status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 400))
    batch.release()
    const done = await ended(batch.created.id)
    expect(done.request_counts).toEqual({ total: 12, completed: 6, failed: 6 })
    expect(batch.sent()).toBe(6)
    const errors = (await (await admin().files.content(done.error_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l))
    handler = answer
    return { done, errors }
  }

  it('runs the next lines with the role an admin gives the user meanwhile: a route only users may ask for is refused to them', async () => {
    const { done, errors } = await batchAcrossRoleChange('erin', 'intern')
    expect(done.status).toBe('completed')
    expect(errors.map((e) => e.response.status_code)).toEqual(Array(6).fill(404))
  }, 60_000)

  it('refuses the next lines, as a request would be, once the user\'s new role lacks the chat permission', async () => {
    const { errors } = await batchAcrossRoleChange('fay', 'auditor')
    expect(errors.map((e) => [e.response.status_code, e.response.body.error.code])).toEqual(Array(6).fill([403, 'permission_denied']))
  }, 60_000)
})

describe('batch step waits', () => {
  it('round a wait up to one of a few, so a queue keeps a handful of delay queues whatever retry-after says', () => {
    expect([0, 1, 250, 251, 1234, 59_999, 86_400_000].map(stepDelay)).toEqual([0, 250, 250, 1000, 2000, 60_000, 300_000])
  })
})

describe.runIf(POSTGRES_ENABLED && RABBITMQ_ENABLED)('batches on RabbitMQ and PostgreSQL', () => {
  it('runs a batch through RabbitMQ steps, waiting out a rate limit through its delay queues', async () => {
    const schema = uniqueSchema('batches_mq')
    const prefix = uniquePrefix('batches')
    const upstream = await startUpstream((req, res) => answer(req, res))
    const gw = await startTestGateway(`
version: 1
store: { plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }
queue: { plugin: rabbitmq, url: "${RABBITMQ_URL}", prefix: "${prefix}", retry_delay_ms: 50, max_retry_delay_ms: 100, stop_grace_ms: 200, metrics_interval_ms: 200 }
providers:
  up: { plugin: openai, api_key: sk-test, base_url: '${upstream.url}' }
routes:
  - { model: limited, targets: [ { provider: up, model: gpt-4o-mini } ] }
auth:
  strategies:
    - plugin: api-key
      keys: [ { key: "${ALICE}", user: alice, role: user, department: research } ]
limits:
  backend: { plugin: memory }
  policies: [ { scope: user, requests_per_second: 2 } ]
services:
  files: {}
  batches: { concurrency: 2, step_ms: 300, rate_limit_pause_ms: 100 }
`)
    try {
      const client = new OpenAI({ apiKey: ALICE, baseURL: `${gw.url}/v1`, maxRetries: 0 })
      const file = await client.files.create({ file: await toFile(Buffer.from(Array.from({ length: 6 }, (_, i) => chat(`q${i}`, `queued ${i}`, 'limited')).join('\n')), 'q.jsonl'), purpose: 'batch' })
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      const done = (await waitFor(async () => {
        const b = await client.batches.retrieve(created.id)
        return b.status === 'completed' ? b : undefined
      }, 30_000, 50)).value!
      expect(done.request_counts).toEqual({ total: 6, completed: 6, failed: 0 })
    } finally {
      await gw.close()
      await upstream.close()
      await dropSchema(schema)
      await deleteQueues(prefix, ['batches.steps'], [250, 1000, 2000, 5000])
    }
  }, 60_000)
})
