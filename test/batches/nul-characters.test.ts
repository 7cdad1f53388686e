/**
 * A batch whose requests or answers hold a NUL character (`\u0000`: valid JSON, text pasted from a
 * binary file or a PDF, a model echoing it), through the official openai SDK. The store's JSON
 * type refuses that character: the batch stayed `validating` for ever, its step failing and
 * queued again every few seconds, and an answer holding it was sent again and lost. Now the
 * request and its answer go through byte for byte, each sent once; a custom_id holding one (a
 * value no store keeps) fails the batch with the line named.
 */
import type http from 'node:http'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream, type RecordedRequest } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'

/** OpenAI's wire: the answer repeats the last message. */
const echo = (req: RecordedRequest, res: http.ServerResponse) => {
  const last = (req.body.messages as { content: string }[]).at(-1)?.content
  sendJson(res, 200, {
    id: 'chatcmpl-n', object: 'chat.completion', created: 1, model: req.body.model,
    choices: [{ index: 0, message: { role: 'assistant', content: `echo: ${last}` }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
  })
}

const line = (customId: string, text: string) => JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'chat-a', messages: [{ role: 'user', content: text }] } })

describe('batches holding NUL characters', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    upstream = await startUpstream(echo)
    gw = await startTestGateway(`
version: 1
store: { plugin: embedded, memory: true, vector: false }
queue: { plugin: memory }
providers:
  up: { plugin: openai, api_key: sk-test, base_url: '${upstream.url}' }
routes:
  - { model: chat-a, targets: [ { provider: up, model: gpt-4o-mini } ] }
services:
  files: {}
  batches: { concurrency: 2, step_ms: 300, sweep_ms: 200, rate_limit_pause_ms: 100 }
`)
    client = new OpenAI({ apiKey: 'x', baseURL: `${gw.url}/v1`, maxRetries: 0 })
  }, 120_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  const run = async (lines: string[]): Promise<OpenAI.Batch> => {
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'requests.jsonl', { type: 'application/jsonl' }), purpose: 'batch' })
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
    return (await waitFor(async () => {
      const b = await client.batches.retrieve(batch.id)
      return ['completed', 'failed', 'cancelled', 'expired'].includes(b.status) ? b : undefined
    }, 15_000, 50)).value!
  }

  it('runs a request holding a NUL character and keeps its answer byte for byte, sending it once', async () => {
    const before = upstream.requests.length
    const done = await run([line('nul', 'before\u0000after'), line('plain', 'hello')])
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 2, failed: 0 } })
    expect(done.error_file_id ?? null).toBeNull()
    const out = (await (await client.files.content(done.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l))
    const byId = Object.fromEntries(out.map((o) => [o.custom_id, o]))
    expect(byId.nul.response.status_code).toBe(200)
    expect(byId.nul.response.body.choices[0].message.content).toBe('echo: before\u0000after')
    expect(byId.plain.response.body.choices[0].message.content).toBe('echo: hello')
    expect(upstream.requests.length - before).toBe(2)
  })

  it('fails a batch whose custom_id holds a NUL character, naming its line, and runs none of it', async () => {
    const before = upstream.requests.length
    const done = await run([line('fine', 'a'), line('bad\u0000id', 'b')])
    expect(done.status).toBe('failed')
    expect(done.errors?.data).toEqual([expect.objectContaining({ line: 2, param: 'custom_id', code: 'invalid_custom_id' })])
    expect(upstream.requests.length).toBe(before)
  })
})
