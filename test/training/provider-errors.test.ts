/**
 * What the ML engineer sees when the provider will not train a job, through the official openai
 * SDK as OpenAI shows it: a job the provider refuses at creation (a training file of too few
 * examples) fails at once with the provider's error code, message and param, without being
 * started again and again; a job failing while it trains carries the provider's code and param;
 * a job whose creation always crashes ends failed after a bounded number of tries, saying why.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, withUsage, type RunningGateway } from '../helpers/gateway.ts'
import { MIN_EXAMPLES, mockOpenAITrainer, type MockTrainer } from './upstreams.ts'

const example = (n: number) => JSON.stringify({ messages: [{ role: 'user', content: `Question ${n}?` }, { role: 'assistant', content: `Answer ${n}.` }] })
const FEW = `${[1, 2, 3].map(example).join('\n')}\n`

describe('fine-tuning jobs the provider will not train', () => {
  let gw: RunningGateway
  let upstream: MockTrainer
  let client: OpenAI

  beforeAll(async () => {
    upstream = await mockOpenAITrainer()
    gw = await startTestGateway(withUsage(`version: 1
store: { plugin: embedded, memory: true, vector: false }
queue: { plugin: memory, max_attempts: 2, retry_delay_ms: 20, max_retry_delay_ms: 40 }
providers:
  openai: { plugin: openai, api_key: sk-test, base_url: "${upstream.url}/v1" }
routes:
  - { model: gpt-4o-mini, targets: [ { provider: openai } ] }
services:
  files: {}
  training: { poll_min_ms: 20, poll_max_ms: 40, lease_ms: 2000, sweep_ms: 100, start_attempts: 3, eval_examples: 0 }
`))
    client = new OpenAI({ apiKey: 'anything', baseURL: `${gw.url}/v1`, maxRetries: 0 })
  }, 120_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  const ended = async (id: string) => {
    const end = Date.now() + 15_000
    for (;;) {
      const job = await client.fineTuning.jobs.retrieve(id)
      if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return job
      if (Date.now() > end) throw new Error(`job ${id} stuck in ${job.status}`)
      await new Promise((r) => setTimeout(r, 30))
    }
  }
  const creations = () => upstream.calls.filter((c) => c === 'POST /v1/fine_tuning/jobs').length
  const uploads = () => upstream.calls.filter((c) => c === 'POST /v1/files').length

  it('fails a job the provider refuses (too few examples) with its code, message and param, asking once', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(FEW), 'few.jsonl'), purpose: 'fine-tune' })
    const [created0, uploaded0] = [creations(), uploads()]
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'strict' })
    const done = await ended(job.id)
    expect(done.status).toBe('failed')
    expect(done.error).toEqual({ code: 'invalid_n_examples', param: 'training_file', message: `Training file has 3 example(s), but must have at least ${MIN_EXAMPLES} examples` })
    expect(done.finished_at).toEqual(expect.any(Number))
    // Refused is final: not started again (no file uploaded again) by a retry or the sweep.
    await new Promise((r) => setTimeout(r, 2500))
    expect(creations() - created0).toBe(1)
    expect(uploads() - uploaded0).toBe(1)
    expect((await client.fineTuning.jobs.retrieve(job.id)).status).toBe('failed')
    // The management API says the same.
    const managed = ((await (await fetch(`${gw.url}/api/v1/training/jobs/${job.id}`)).json()) as { data: Record<string, unknown> }).data
    expect(managed).toMatchObject({ status: 'failed', error_code: 'invalid_n_examples', error_param: 'training_file', error: expect.stringContaining('at least 10') })
    const events = await client.fineTuning.jobs.listEvents(job.id)
    expect(events.data[0]).toMatchObject({ level: 'error', message: expect.stringContaining('at least 10 examples') })
  })

  it('refuses hyperparameters, a seed, a suffix or a method outside OpenAI\'s bounds with a 400 naming the field, starting nothing', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(FEW), 'train.jsonl'), purpose: 'fine-tune' })
    const base = { model: 'gpt-4o-mini', training_file: file.id }
    const before = (await client.fineTuning.jobs.list({ limit: 100 })).data.length
    const cases: [Record<string, unknown>, string][] = [
      [{ hyperparameters: { n_epochs: 51 } }, 'hyperparameters.n_epochs'],
      [{ hyperparameters: { batch_size: 257 } }, 'hyperparameters.batch_size'],
      [{ method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 0 } } } }, 'method.supervised.hyperparameters.n_epochs'],
      [{ method: { type: 'supervised', supervised: { hyperparameters: { learning_rate_multiplier: 'high' } } } }, 'method.supervised.hyperparameters.learning_rate_multiplier'],
      [{ seed: -1 }, 'seed'],
      [{ seed: 2 ** 31 }, 'seed'],
      [{ suffix: '' }, 'suffix'],
      [{ method: { supervised: { hyperparameters: { n_epochs: 2 } } } }, 'method.type'],
    ]
    for (const [extra, param] of cases) {
      const err = await client.fineTuning.jobs.create({ ...base, ...extra } as unknown as OpenAI.FineTuning.JobCreateParams).catch((e: unknown) => e)
      expect(err, JSON.stringify(extra)).toBeInstanceOf(OpenAI.BadRequestError)
      expect(err, JSON.stringify(extra)).toMatchObject({ status: 400, param })
    }
    expect((await client.fineTuning.jobs.list({ limit: 100 })).data).toHaveLength(before)
    // The bounds themselves are taken.
    const edge = await client.fineTuning.jobs.create({ ...base, seed: 2 ** 31 - 1, suffix: 'x'.repeat(64), method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 50, batch_size: 256 } } } })
    expect(edge).toMatchObject({ seed: 2 ** 31 - 1, hyperparameters: { n_epochs: 50, batch_size: 256 } })
    await client.fineTuning.jobs.cancel(edge.id)
  })

  it('shows the provider\'s error code and param for a job that fails while training', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(FEW), 'train.jsonl'), purpose: 'fine-tune' })
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'fail' })
    const done = await ended(job.id)
    expect(done.status).toBe('failed')
    expect(done.error).toEqual({ code: 'invalid_training_file', param: 'training_file', message: 'The training file was refused.' })
  })

  it('ends a job whose start always crashes at the provider failed after start_attempts tries, with the reason, and tries no more', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(FEW), 'train.jsonl'), purpose: 'fine-tune' })
    const created0 = creations()
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'outage' })
    const done = await ended(job.id)
    expect(done.status).toBe('failed')
    expect(done.error).toMatchObject({ code: 'provider_error', param: null })
    expect(done.error?.message).toMatch(/3 tries.*server had an error/)
    await new Promise((r) => setTimeout(r, 2500))
    expect(creations() - created0).toBe(3)
  })
})
