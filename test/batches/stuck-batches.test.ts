/**
 * Batches that used to stay unfinished for ever, through the official openai SDK:
 * - a request or an answer holding a NUL character (`\u0000`: valid JSON, text pasted from a
 *   binary file or a PDF, a model echoing it). The store's JSON type refuses it: the batch stayed
 *   `validating`, its step failing and queued again every few seconds, and an answer holding it
 *   was sent again and lost. Now both go through byte for byte, each sent once; a custom_id
 *   holding one (a value no store keeps) fails the batch with its line named;
 * - a batch whose step crashes every time (a poison message: here its input file cannot be read)
 *   ends `failed` after a bounded number of tries with the reason in `errors`; a crash that
 *   passes lets it go on.
 */
import type http from 'node:http'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream, type RecordedRequest } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { crashStepsOf } from './step-fault.ts'
import { Files } from '../../plugins/contracts/files.ts'
import { MAX_FAILED_STEPS } from '../../plugins/services/batches/worker.ts'

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

describe('batches that never ended', () => {
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
  batches: { concurrency: 2, step_ms: 300, sweep_ms: 200, rate_limit_pause_ms: 10 }
`)
    client = new OpenAI({ apiKey: 'x', baseURL: `${gw.url}/v1`, maxRetries: 0 })
  }, 120_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  const ended = async (id: string): Promise<OpenAI.Batch> => (await waitFor(async () => {
    const b = await client.batches.retrieve(id)
    return ['completed', 'failed', 'cancelled', 'expired'].includes(b.status) ? b : undefined
  }, 15_000, 50)).value!
  const run = async (lines: string[]): Promise<OpenAI.Batch> => {
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'requests.jsonl', { type: 'application/jsonl' }), purpose: 'batch' })
    return ended((await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id)
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

  /** The input file's reads fail `times` times (a storage fault), then succeed. */
  const failingReads = (fileId: string, times: number) => {
    const files = capability(gw, Files)
    const content = files.content.bind(files)
    let failed = 0
    files.content = async (id: string) => {
      if (id === fileId && failed < times) {
        failed++
        throw new Error('disk read error: EIO')
      }
      return content(id)
    }
    return { reads: () => failed, restore: () => { files.content = content } }
  }
  const create = async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(`${line('a', 'x')}\n${line('b', 'y')}\n`), 'requests.jsonl'), purpose: 'batch' })
    return { file, create: () => client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }) }
  }

  it(`fails the batch after ${MAX_FAILED_STEPS} crashed steps in a row, with the reason, and tries no more`, async () => {
    const { file, create: make } = await create()
    const fault = failingReads(file.id, Number.POSITIVE_INFINITY)
    try {
      const batch = await make()
      const done = await ended(batch.id)
      expect(done.status).toBe('failed')
      expect(done.failed_at).toEqual(expect.any(Number))
      expect(done.errors?.data).toEqual([expect.objectContaining({ code: 'batch_step_failed', line: null, message: expect.stringMatching(new RegExp(`${MAX_FAILED_STEPS} times.*EIO`)) })])
      await new Promise((r) => setTimeout(r, 500))
      expect(fault.reads()).toBe(MAX_FAILED_STEPS)
    } finally {
      fault.restore()
    }
  })

  it('writes a failed batch\'s files: what was answered in the output file, each request not run in the error file with why', async () => {
    const fault = crashStepsOf(gw)
    try {
      const lines = Array.from({ length: 600 }, (_, i) => line(`r${i}`, `n${i}`))
      const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n') + '\n'), 'requests.jsonl'), purpose: 'batch' })
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })
      fault.batch(batch.id)
      const done = await ended(batch.id)
      expect(done.status).toBe('failed')
      expect(done.errors?.data).toEqual([expect.objectContaining({ code: 'batch_step_failed' })])
      const read = async (id: string | undefined) => (id ? (await (await client.files.content(id)).text()).trim().split('\n').map((l) => JSON.parse(l)) : [])
      const out = await read(done.output_file_id)
      const errs = await read(done.error_file_id)
      expect(out.length).toBeGreaterThan(0)
      expect(errs.length).toBeGreaterThan(0)
      expect(out.length + errs.length).toBe(600)
      expect(new Set([...out, ...errs].map((l) => l.custom_id)).size).toBe(600)
      expect(done.request_counts).toEqual({ total: 600, completed: out.length, failed: errs.length })
      // As OpenAI writes a line its batch's end left unrun (batch_expired): no response, the error saying why.
      expect(errs[0]).toEqual({ id: expect.stringMatching(/^batch_req_/), custom_id: expect.any(String), response: null, error: { code: 'batch_step_failed', message: expect.stringMatching(/not executed: its batch failed.*EIO/) } })
    } finally {
      fault.restore()
    }
  })

  it('goes on when the crash passes: fewer crashes in a row than the bound end nothing', async () => {
    const { file, create: make } = await create()
    const fault = failingReads(file.id, MAX_FAILED_STEPS - 1)
    try {
      const done = await ended((await make()).id)
      expect(done).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 2, failed: 0 } })
    } finally {
      fault.restore()
    }
  })
})
