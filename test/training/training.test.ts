/**
 * The training service end to end, driven with the official openai SDK through the gateway:
 * datasets checked line by line (a corpus of broken files), stats and a split; whole jobs against
 * mock OpenAI and Mistral fine-tuning upstreams (status progression, metrics events, the model),
 * failure, cancel, and a job picked up again when its queued step was lost.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { Files } from '../../plugins/contracts/files.ts'
import { mockMistralTrainer, mockOpenAITrainer, type MockTrainer } from './upstreams.ts'

const line = (messages: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ messages, ...extra })
const GOOD = [
  line([{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Capital of France?' }, { role: 'assistant', content: 'Paris.' }]),
  line([{ role: 'user', content: 'Weather in Oslo?' }, { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] }, { role: 'tool', tool_call_id: 'c1', content: '3C' }, { role: 'assistant', content: 'Cold: 3C.' }], { tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object' } } }] }),
  line([{ role: 'user', content: '2+2?' }, { role: 'assistant', content: '4' }]),
  line([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }]),
].join('\n') + '\n'

const BROKEN: Record<string, { text: string; codes: { line: number; code: string }[] }> = {
  'bad JSON': { text: `${line([{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }])}\n{"messages": [\n`, codes: [{ line: 2, code: 'invalid_json' }] },
  'unknown role': { text: line([{ role: 'robot', content: 'a' }, { role: 'assistant', content: 'b' }]), codes: [{ line: 1, code: 'unknown_role' }] },
  'missing role': { text: line([{ content: 'a' }, { role: 'assistant', content: 'b' }]), codes: [{ line: 1, code: 'missing_role' }] },
  'no assistant': { text: line([{ role: 'user', content: 'a' }]), codes: [{ line: 1, code: 'no_assistant_message' }] },
  'empty content': { text: line([{ role: 'user', content: '  ' }, { role: 'assistant', content: 'b' }]), codes: [{ line: 1, code: 'empty_content' }] },
  'no messages': { text: '{"prompt": "old format"}', codes: [{ line: 1, code: 'missing_messages' }] },
  'too long': { text: line([{ role: 'user', content: 'word '.repeat(400) }, { role: 'assistant', content: 'ok' }]), codes: [{ line: 1, code: 'example_too_long' }] },
  'several at once': {
    text: [GOOD.split('\n')[0], 'nonsense', line([{ role: 'user', content: 'x' }]), '', line([{ role: 'wizard', content: 'x' }, { role: 'assistant', content: '' }])].join('\n'),
    codes: [{ line: 2, code: 'invalid_json' }, { line: 3, code: 'no_assistant_message' }, { line: 5, code: 'unknown_role' }, { line: 5, code: 'empty_content' }],
  },
}

describe('training: datasets and fine-tuning jobs', () => {
  let gw: RunningGateway
  let openaiUp: MockTrainer
  let mistralUp: MockTrainer
  let client: OpenAI

  beforeAll(async () => {
    openaiUp = await mockOpenAITrainer()
    mistralUp = await mockMistralTrainer()
    gw = await startTestGateway(`version: 1
store: { plugin: embedded, memory: true, vector: false }
queue: { plugin: memory, retry_delay_ms: 20, max_retry_delay_ms: 50 }
providers:
  openai: { plugin: openai, api_key: sk-test, base_url: "${openaiUp.url}/v1" }
  mistral: { plugin: mistral, api_key: mk-test, base_url: "${mistralUp.url}" }
routes:
  - { model: gpt-4o-mini, targets: [ { provider: openai } ] }
  - { model: open-mistral-nemo, targets: [ { provider: mistral } ] }
services:
  files: {}
  training: { poll_min_ms: 20, poll_max_ms: 60, lease_ms: 1000, sweep_ms: 200, max_example_tokens: 300 }
`)
    client = new OpenAI({ apiKey: 'anything', baseURL: `${gw.url}/v1`, maxRetries: 0 })
  }, 120_000)
  afterAll(async () => {
    await gw?.close()
    await openaiUp?.close()
    await mistralUp?.close()
  })

  const upload = async (text: string, extra: Record<string, string> = {}) => {
    const form = new FormData()
    form.set('file', new Blob([text]), 'data.jsonl')
    for (const [k, v] of Object.entries(extra)) form.set(k, v)
    const res = await fetch(`${gw.url}/api/v1/training/datasets`, { method: 'POST', body: form })
    return { status: res.status, body: (await res.json()) as any }
  }
  const waitFor = async (id: string, done: (status: string) => boolean) => {
    const end = Date.now() + 20_000
    for (;;) {
      const job = await client.fineTuning.jobs.retrieve(id)
      if (done(job.status)) return job
      if (Date.now() > end) throw new Error(`job ${id} stuck in ${job.status}`)
      await new Promise((r) => setTimeout(r, 30))
    }
  }

  it('refuses each broken dataset with every problem and its line number, storing nothing', async () => {
    const files = capability(gw, Files)
    const before = (await files.list({ purpose: 'fine-tune' })).length
    for (const [name, { text, codes }] of Object.entries(BROKEN)) {
      const res = await upload(text)
      expect(res.status, name).toBe(400)
      expect(res.body.error, name).toBe('invalid_dataset')
      expect(res.body.details.errors.map((e: { line: number; code: string }) => ({ line: e.line, code: e.code })), name).toEqual(codes)
    }
    // The same check guards /v1/files with purpose fine-tune.
    await expect(client.files.create({ file: await toFile(Buffer.from(BROKEN['unknown role'].text), 'x.jsonl'), purpose: 'fine-tune' })).rejects.toMatchObject({ status: 400, code: 'invalid_dataset' })
    expect((await files.list({ purpose: 'fine-tune' })).length).toBe(before)
  })

  it('stores a valid dataset with its stats (real token counts, catalog cost) and splits it on request', async () => {
    const res = await upload(GOOD, { model: 'gpt-4o-mini' })
    expect(res.status).toBe(201)
    const stats = res.body.data.stats
    expect(stats).toMatchObject({ examples: 4, model: 'gpt-4o-mini', epochs: 3 })
    expect(stats.tokens).toBeGreaterThan(40)
    expect(stats.tokens).toBeLessThan(300)
    expect(stats.estimated_cost_usd).toBeCloseTo((stats.tokens * 3 * 3) / 1e6, 10) // $3 per 1M training tokens, 3 epochs
    const split = await upload(GOOD, { validation_split: '0.25' })
    expect(split.status).toBe(201)
    expect(split.body.data.stats.examples).toBe(3)
    expect(split.body.data.validation_stats.examples).toBe(1)
    const listed = await (await fetch(`${gw.url}/api/v1/training/datasets`)).json() as any
    expect(listed.data.map((d: { id: string }) => d.id)).toEqual(expect.arrayContaining([res.body.data.id, split.body.data.id, split.body.data.validation_file_id]))
  })

  it('runs a whole job on OpenAI with client.fineTuning.jobs: progression, metrics events, the model', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const created = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'demo', method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2 } } } })
    expect(created).toMatchObject({ object: 'fine_tuning.job', status: 'validating_files', model: 'gpt-4o-mini', training_file: file.id, fine_tuned_model: null })
    const done = await waitFor(created.id, (s) => ['succeeded', 'failed', 'cancelled'].includes(s))
    expect(done.status).toBe('succeeded')
    expect(done.fine_tuned_model).toBe('ft:gpt-4o-mini:org-x:demo:abc123')
    expect(done.trained_tokens).toBe(1234)
    // The upstream got the dataset as uploaded and the hyperparameters.
    expect([...openaiUp.uploads.values()].map((v) => v.trim())).toContain(GOOD.trim())
    const events = await client.fineTuning.jobs.listEvents(created.id, { limit: 100 })
    const metrics = events.data.filter((e) => e.type === 'metrics')
    expect(metrics.map((e) => (e.data as { step: number }).step).sort()).toEqual([1, 2])
    expect((metrics[0].data as { train_loss: number }).train_loss).toBeGreaterThan(0)
    const messages = events.data.map((e) => e.message)
    expect(messages).toEqual(expect.arrayContaining(['Status: running.', 'The job succeeded: ft:gpt-4o-mini:org-x:demo:abc123.']))
    const list = await client.fineTuning.jobs.list()
    expect(list.data.map((j) => j.id)).toContain(created.id)
  })

  it('runs a job on Mistral through its fine-tuning wire, with checkpoint losses as events', async () => {
    const ds = await upload(GOOD, { validation_split: '0.25' })
    const res = await fetch(`${gw.url}/api/v1/training/jobs`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'open-mistral-nemo', training_file: ds.body.data.file_id, validation_file: ds.body.data.validation_file_id, suffix: 'm1', hyperparameters: { n_epochs: 1, learning_rate_multiplier: 2 } }),
    })
    expect(res.status).toBe(201)
    const job = ((await res.json()) as any).data
    expect(job).toMatchObject({ status: 'pending', provider: 'mistral' })
    const done = await waitFor(job.id, (s) => ['succeeded', 'failed', 'cancelled'].includes(s))
    expect(done.status).toBe('succeeded')
    expect(done.fine_tuned_model).toBe('ft:open-mistral-nemo:m1:mistral1')
    expect(mistralUp.uploads.size).toBe(2) // training and validation
    const events = await client.fineTuning.jobs.listEvents(job.id, { limit: 100 })
    const steps = events.data.filter((e) => e.type === 'metrics').map((e) => e.data as { step: number; valid_loss: number })
    expect(steps.map((s) => s.step).sort((a, b) => a - b)).toEqual([10, 20])
  })

  it('records a provider failure as a failed job with its error', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const created = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'fail' })
    const done = await waitFor(created.id, (s) => ['succeeded', 'failed', 'cancelled'].includes(s))
    expect(done.status).toBe('failed')
    expect(done.error?.message).toMatch(/refused/)
  })

  it('cancels a running job here and upstream; a second cancel is a 409', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const created = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'slow' })
    await waitFor(created.id, (s) => s === 'running')
    const cancelled = await client.fineTuning.jobs.cancel(created.id)
    expect(cancelled.status).toBe('cancelled')
    expect(openaiUp.cancelled.length).toBeGreaterThan(0)
    await expect(client.fineTuning.jobs.cancel(created.id)).rejects.toMatchObject({ status: 409 })
    await new Promise((r) => setTimeout(r, 200))
    expect((await client.fineTuning.jobs.retrieve(created.id)).status).toBe('cancelled')
  })

  it('refuses a job on a missing or non-fine-tune file, naming the field', async () => {
    await expect(client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: 'file-000000000000000000000000' })).rejects.toMatchObject({ status: 404, param: 'training_file' })
    const other = await client.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'assistants' })
    await expect(client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: other.id })).rejects.toMatchObject({ status: 400, param: 'training_file', code: 'invalid_file_purpose' })
    await expect(client.fineTuning.jobs.retrieve('ftjob-nope')).rejects.toMatchObject({ status: 404 })
  })
})
