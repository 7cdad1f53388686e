/**
 * A batch whose step crashes every time (a poison message: here its input file cannot be read)
 * ends `failed` after a bounded number of tries, with the reason in `errors`, instead of being
 * queued again every few seconds for ever, `validating` to its user; a crash that passes lets
 * the batch go on.
 */
import type http from 'node:http'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream, type RecordedRequest } from '../helpers/upstream.ts'
import { waitFor } from '../helpers/wait.ts'
import { Files } from '../../plugins/contracts/files.ts'
import { MAX_FAILED_STEPS } from '../../plugins/services/batches/worker.ts'

const reply = (req: RecordedRequest, res: http.ServerResponse) => sendJson(res, 200, {
  id: 'chatcmpl-p', object: 'chat.completion', created: 1, model: req.body.model,
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
})
const line = (customId: string) => JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'chat-a', messages: [{ role: 'user', content: customId }] } })

describe('a batch whose step always crashes', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    upstream = await startUpstream(reply)
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
    const file = await client.files.create({ file: await toFile(Buffer.from(`${line('a')}\n${line('b')}\n`), 'requests.jsonl'), purpose: 'batch' })
    return { file, create: () => client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }) }
  }
  const ended = async (id: string) => (await waitFor(async () => {
    const b = await client.batches.retrieve(id)
    return ['completed', 'failed', 'cancelled', 'expired'].includes(b.status) ? b : undefined
  }, 15_000, 50)).value!

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
