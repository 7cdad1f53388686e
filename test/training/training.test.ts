/**
 * The training service end to end, driven with the official openai SDK through the gateway:
 * datasets checked line by line (a corpus of broken files), stats and a split; whole jobs against
 * mock OpenAI and Mistral fine-tuning upstreams (status progression, metrics events, the model),
 * failure, cancel, and a job picked up again when its queued step was lost.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeFile, mkdtemp } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { capability, startTestGateway, withUsage, type RunningGateway } from '../helpers/gateway.ts'
import { Files } from '../../plugins/contracts/files.ts'
import { Store } from '../../plugin-api/index.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { SLOW_EVAL_MS, UPSTREAM_HYPERPARAMETERS, UPSTREAM_SEED, mockMistralTrainer, mockOpenAITrainer, type MockTrainer } from './upstreams.ts'

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
  let configFile: string
  let yaml: string

  beforeAll(async () => {
    openaiUp = await mockOpenAITrainer()
    mistralUp = await mockMistralTrainer()
    configFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'gw-training-')), 'gateway.yaml')
    yaml = withUsage(`version: 1
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
features: { custom_models: false }
`)
    await writeFile(configFile, yaml)
    gw = await startTestGateway({ file: configFile })
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
    expect(res.body.data).toMatchObject({ id: expect.stringMatching(/^ds-/), file_id: expect.stringMatching(/^file-/), validation_file_id: null, split: null, model: 'gpt-4o-mini' })
    expect(res.body.data.validation).toEqual({ status: 'valid', lines: 4, blank_lines: 0, token_limit: 128_000 })
    const split = await upload(`${GOOD}\n`, { validation_split: '0.25' })
    expect(split.status).toBe(201)
    expect(split.body.data.stats.examples).toBe(3)
    expect(split.body.data.split).toMatchObject({ fraction: 0.25, train: { examples: 3 }, validation: { examples: 1 } })
    expect(split.body.data.validation).toMatchObject({ lines: 4, blank_lines: 1, token_limit: 300 })
    // The two files are in /v1/files with purpose fine-tune; the dataset is one record over both.
    expect((await client.files.retrieve(split.body.data.validation_file_id)).purpose).toBe('fine-tune')
    const viaFiles = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'sdk.jsonl'), purpose: 'fine-tune' })
    const listed = await (await fetch(`${gw.url}/api/v1/training/datasets`)).json() as any
    const ids = listed.data.map((d: { id: string }) => d.id)
    expect(ids).toEqual(expect.arrayContaining([res.body.data.id, split.body.data.id]))
    expect(ids).not.toContain(split.body.data.validation_file_id)
    expect(listed.data.filter((d: { file_id: string }) => d.file_id === split.body.data.validation_file_id)).toEqual([])
    const fromSdk = listed.data.find((d: { file_id: string }) => d.file_id === viaFiles.id)
    expect(fromSdk).toMatchObject({ name: 'sdk.jsonl', stats: { examples: 4 }, validation: { status: 'valid', lines: 4 } })
    // The rows are training_datasets' own; deleting the training file deletes its dataset.
    const store = capability(gw, Store)
    const { rows } = await store.sql.query('SELECT id, file_id, validation_file_id, split FROM training_datasets WHERE id = $1', [split.body.data.id])
    expect(rows[0]).toMatchObject({ file_id: split.body.data.file_id, validation_file_id: split.body.data.validation_file_id })
    await client.files.delete(viaFiles.id)
    expect((await fetch(`${gw.url}/api/v1/training/datasets/${fromSdk.id}`)).status).toBe(404)
    const one = await (await fetch(`${gw.url}/api/v1/training/datasets/${split.body.data.id}`)).json() as any
    expect(one.data).toEqual(split.body.data)
    // The upload is in the audit trail by its name and files (never its examples); the file uploaded through /v1/files is a file.upload.
    const audit = async (id: string) => ((await (await fetch(`${gw.url}/api/v1/audit?target_id=${id}`)).json()) as any).data
    expect(await audit(split.body.data.id)).toMatchObject([{
      action: 'dataset.create', target: { type: 'dataset', id: split.body.data.id },
      details: { name: 'data.jsonl', file_id: split.body.data.file_id, validation_file_id: split.body.data.validation_file_id, model: null },
    }])
    expect((await audit(viaFiles.id)).map((e: { action: string }) => e.action)).toEqual(['file.delete', 'file.upload'])
    const [entry] = await audit(res.body.data.id)
    expect(entry).toMatchObject({ action: 'dataset.create', details: { name: 'data.jsonl', model: 'gpt-4o-mini', validation_file_id: null } })
    expect(JSON.stringify(entry)).not.toContain('Capital of France')
  })

  it('runs a whole job on OpenAI with client.fineTuning.jobs: progression, metrics events, the model, the evaluation', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const model = 'ft:gpt-4o-mini:org-x:demo:abc123'
    // What the fine-tuned model answers: two exact, one close, one wrong (the Oslo turn gets `answered by ...`).
    openaiUp.answers.set('Capital of France?', 'Paris.')
    openaiUp.answers.set('2+2?', '4')
    openaiUp.answers.set('Hi', 'Hello there!')
    const created = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'demo', seed: 42, metadata: { team: 'support' }, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2 } } } })
    expect(created).toMatchObject({ object: 'fine_tuning.job', status: 'validating_files', model: 'gpt-4o-mini', training_file: file.id, fine_tuned_model: null, seed: 42, metadata: { team: 'support' } })
    expectOpenAISchema('FineTuningJob', created)
    const done = await waitFor(created.id, (s) => ['succeeded', 'failed', 'cancelled'].includes(s))
    expect(done.status).toBe('succeeded')
    expect(done.fine_tuned_model).toBe(model)
    expect(done.trained_tokens).toBe(1234)
    expectOpenAISchema('FineTuningJob', done)

    // Evaluated through the gateway before it succeeded: the fine-tuned model answered each training example (no validation file).
    const evalCalls = openaiUp.chats.filter((c) => c.model === model)
    expect(evalCalls.map((c) => c.user).sort()).toEqual(['2+2?', 'Capital of France?', 'Hi', 'Weather in Oslo?'])
    expect(evalCalls.every((c) => c.temperature === 0)).toBe(true)
    const managed = (await (await fetch(`${gw.url}/api/v1/training/jobs/${created.id}`)).json() as any).data
    expect(managed.evaluation).toMatchObject({ status: 'completed', source: 'training_sample', examples: 4, errors: 0, exact_match: 0.5, train_loss: 1 / 3, valid_loss: 1.1 / 3 })
    expect(managed.evaluation.similarity).toBeCloseTo((1 + 1 + 2 / 3 + 0) / 4, 3)
    expect(managed.result_files).toEqual(done.result_files)
    // ...and accounted as the job's owner, on the evaluation route (gone again).
    const store = capability(gw, Store)
    const usageEnd = Date.now() + 20_000
    let usage: { route: string; user_id: string; model: string }[] = []
    while (usage.length < 4 && Date.now() < usageEnd) {
      usage = (await store.sql.query('SELECT route, user_id, model FROM usage_events WHERE model = $1', [model])).rows as typeof usage
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(usage).toHaveLength(4)
    expect(usage.every((u) => u.route === managed.evaluation.route && u.user_id === 'anonymous')).toBe(true)
    expect((await client.models.list()).data.map((m) => m.id)).not.toContain(managed.evaluation.route)

    // The results file: OpenAI's CSV of the provider's metrics per step, a file of purpose fine-tune-results.
    expect(done.result_files).toHaveLength(1)
    const results = await client.files.retrieve(done.result_files[0])
    expectOpenAISchema('OpenAIFile', results)
    expect(results).toMatchObject({ purpose: 'fine-tune-results', filename: `${created.id}-results.csv` })
    const csv = (await (await client.files.content(results.id)).text()).trim().split('\n')
    expect(csv[0]).toBe('step,train_loss,valid_loss')
    expect(csv.slice(1).map((row) => row.split(',').map(Number))).toEqual([[1, 1 / 2, 1.1 / 2], [2, 1 / 3, 1.1 / 3]])
    expect(done.hyperparameters.n_epochs).toBe(2)
    // The upstream got the dataset as uploaded and the hyperparameters.
    expect([...openaiUp.uploads.values()].map((v) => v.trim())).toContain(GOOD.trim())
    const events = await client.fineTuning.jobs.listEvents(created.id, { limit: 100 })
    const metrics = events.data.filter((e) => e.type === 'metrics')
    // The provider's metrics events, as it reported them (step n: train loss 1/(n+1), valid loss 1.1/(n+1)).
    const steps = metrics.map((e) => e.data as { step: number; train_loss: number; valid_loss: number }).sort((a, b) => a.step - b.step)
    expect(steps).toEqual([expect.objectContaining({ step: 1, train_loss: 1 / 2, valid_loss: 1.1 / 2 }), expect.objectContaining({ step: 2, train_loss: 1 / 3, valid_loss: 1.1 / 3 })])
    const messages = events.data.map((e) => e.message)
    expect(messages).toEqual(expect.arrayContaining(['Status: running.', `Trained on openai: ${model}. Evaluating it.`, 'The job succeeded: ft:gpt-4o-mini:org-x:demo:abc123.']))
    expect(messages.find((m) => m.startsWith('Evaluation:'))).toBe('Evaluation: exact match 0.5, similarity 0.6667 on 4 training examples; train loss 0.3333333333333333, valid loss 0.3666666666666667.')
    // Newest first: the evaluation comes after training and before the end.
    expect(messages.indexOf('The job succeeded: ft:gpt-4o-mini:org-x:demo:abc123.')).toBeLessThan(messages.findIndex((m) => m.startsWith('Evaluation:')))
    const list = await client.fineTuning.jobs.list()
    expect(list.data.map((j) => j.id)).toContain(created.id)
    // The wire answers as OpenAI's document defines them.
    expectOpenAISchema('ListPaginatedFineTuningJobsResponse', await (await fetch(`${gw.url}/v1/fine_tuning/jobs?limit=5`)).json())
    const wireEvents = await (await fetch(`${gw.url}/v1/fine_tuning/jobs/${created.id}/events?limit=100`)).json() as any
    expectOpenAISchema('ListFineTuningJobEventsResponse', wireEvents)
    for (const e of wireEvents.data) expectOpenAISchema('FineTuningJobEvent', e)
    // The provider's named checkpoints, as client.fineTuning.jobs.checkpoints lists them.
    const checkpoints = await client.fineTuning.jobs.checkpoints.list(created.id)
    expect(checkpoints.data.map((c) => [c.step_number, c.fine_tuned_model_checkpoint, c.fine_tuning_job_id])).toEqual([
      [2, `${model}:ckpt-step-2`, created.id], [1, `${model}:ckpt-step-1`, created.id],
    ])
    expect(checkpoints.data[0].metrics).toEqual({ step: 2, train_loss: 1 / 3, valid_loss: 1.1 / 3 })
    const wireCheckpoints = await (await fetch(`${gw.url}/v1/fine_tuning/jobs/${created.id}/checkpoints?limit=1`)).json() as any
    expectOpenAISchema('ListFineTuningJobCheckpointsResponse', wireCheckpoints)
    expect(wireCheckpoints).toMatchObject({ has_more: true, first_id: checkpoints.data[0].id })
    const rest = await (await fetch(`${gw.url}/v1/fine_tuning/jobs/${created.id}/checkpoints?after=${wireCheckpoints.last_id}`)).json() as any
    expect(rest.data.map((c: { step_number: number }) => c.step_number)).toEqual([1])
  })

  it('shows the hyperparameters and the seed the provider resolved once it reports them, and sends the seed asked for', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const auto = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 2 } } } })
    // Before the provider has the job: what was asked, the rest 'auto'.
    expect(auto.hyperparameters).toEqual({ n_epochs: 2, batch_size: 'auto', learning_rate_multiplier: 'auto' })
    const done = await waitFor(auto.id, (s) => ['succeeded', 'failed', 'cancelled'].includes(s))
    // After: what the provider chose for 'auto', and the seed it picked (it was asked for none).
    const asRun = { ...UPSTREAM_HYPERPARAMETERS, n_epochs: 2 }
    expect(done.hyperparameters).toEqual(asRun)
    expect(done.method).toEqual({ type: 'supervised', supervised: { hyperparameters: asRun } })
    expect(done.seed).toBe(UPSTREAM_SEED)
    expectOpenAISchema('FineTuningJob', done)
    const managed = (await (await fetch(`${gw.url}/api/v1/training/jobs/${auto.id}`)).json() as any).data
    expect(managed).toMatchObject({ hyperparameters: asRun, seed: UPSTREAM_SEED })

    // A seed asked for reaches the provider (it used to be kept here only), and the job reports it.
    const seeded = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, seed: 42 })
    const seededDone = await waitFor(seeded.id, (s) => ['succeeded', 'failed', 'cancelled'].includes(s))
    expect(seededDone.seed).toBe(42)
    const upstreamId = ((await (await fetch(`${gw.url}/api/v1/training/jobs/${seeded.id}`)).json()) as { data: { provider_job_id: string } }).data.provider_job_id
    expect(openaiUp.jobs.get(upstreamId)?.body.seed).toBe(42)
  })

  it('evaluates a model once even when the evaluation outlasts the lease and the sweep looks for stalled jobs', async () => {
    // lease_ms 1000 + poll_max_ms 60: without the lease renewed, the sweep (every 200 ms) would hand the evaluating job to a second run.
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const created = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'sloweval' })
    const started = Date.now()
    const done = await waitFor(created.id, (s) => ['succeeded', 'failed', 'cancelled'].includes(s))
    expect(done.status).toBe('succeeded')
    expect(Date.now() - started).toBeGreaterThan(SLOW_EVAL_MS) // the evaluation did outlast the lease
    // One evaluation: each of the 4 examples asked once, one summary, one results file.
    expect(openaiUp.chats.filter((c) => c.model === done.fine_tuned_model)).toHaveLength(4)
    const messages = (await client.fineTuning.jobs.listEvents(created.id, { limit: 100 })).data.map((e) => e.message)
    expect(messages.filter((m) => m.startsWith('Evaluation:'))).toHaveLength(1)
    expect(messages.filter((m) => m.endsWith('Evaluating it.'))).toHaveLength(1)
    expect(done.result_files).toHaveLength(1)
    // No second run is still going either: the count stays after another lease and sweep.
    await new Promise((r) => setTimeout(r, 1500))
    expect(openaiUp.chats.filter((c) => c.model === done.fine_tuned_model)).toHaveLength(4)
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
    // Evaluated on the held-out side of the split, through the gateway to Mistral's chat wire.
    const validation = (await (await client.files.content(ds.body.data.validation_file_id)).text()).trim().split('\n')
    const held = validation.map((l) => (JSON.parse(l).messages as { role: string; content: string }[]).filter((m) => m.role === 'user').at(-1)!.content)
    expect(mistralUp.chats.filter((c) => c.model === done.fine_tuned_model).map((c) => c.user)).toEqual(held)
    const managed = (await (await fetch(`${gw.url}/api/v1/training/jobs/${job.id}`)).json() as any).data
    expect(managed.evaluation).toMatchObject({ status: 'completed', source: 'validation_file', examples: 1, exact_match: 0, valid_loss: 0.8, train_loss: 0.7 })
    const csv = (await (await client.files.content(done.result_files[0])).text()).trim().split('\n')
    expect(csv).toEqual(['step,train_loss,valid_loss,valid_mean_token_accuracy', '10,0.9,1,0.5', '20,0.7,0.8,0.5'])
  })

  it('refuses a hyperparameter the provider cannot set (Mistral has no batch size) with a 400 naming it, starting nothing', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const jobsBefore = mistralUp.calls.filter((c) => c.startsWith('POST /v1/fine_tuning/jobs')).length
    await expect(client.fineTuning.jobs.create({ model: 'open-mistral-nemo', training_file: file.id, method: { type: 'supervised', supervised: { hyperparameters: { batch_size: 8 } } } }))
      .rejects.toMatchObject({ status: 400, param: 'hyperparameters.batch_size', code: 'unsupported_hyperparameter' })
    // 'auto' is no request for a value: accepted.
    const auto = await client.fineTuning.jobs.create({ model: 'open-mistral-nemo', training_file: file.id, hyperparameters: { batch_size: 'auto', n_epochs: 1 } })
    expect(auto.hyperparameters.batch_size).toBe('auto')
    await waitFor(auto.id, (s) => ['succeeded', 'failed', 'cancelled'].includes(s))
    const created = mistralUp.calls.filter((c) => c.startsWith('POST /v1/fine_tuning/jobs')).length
    expect(created).toBe(jobsBefore + 1)
    // Methods and integrations this gateway does not run are refused too, not ignored.
    await expect(client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, method: { type: 'dpo' } })).rejects.toMatchObject({ status: 400, param: 'method.type' })
    await expect(client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, integrations: [{ type: 'wandb', wandb: { project: 'p' } }] })).rejects.toMatchObject({ status: 400, param: 'integrations' })
  })

  it('still succeeds a trained job whose model cannot be evaluated, saying why', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const created = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'noeval' })
    const done = await waitFor(created.id, (s) => ['succeeded', 'failed', 'cancelled'].includes(s))
    expect(done.status).toBe('succeeded')
    expect(done.result_files).toHaveLength(1) // the provider's losses are still the results
    const managed = (await (await fetch(`${gw.url}/api/v1/training/jobs/${created.id}`)).json() as any).data
    expect(managed.evaluation).toMatchObject({ status: 'failed', examples: 0, errors: 4, exact_match: null, train_loss: 1 / 3 })
    expect(managed.evaluation.reason).toMatch(/^every call failed: .*not ready/)
    const events = await client.fineTuning.jobs.listEvents(created.id, { limit: 100 })
    expect(events.data.find((e) => e.message.startsWith('Evaluation:'))).toMatchObject({ level: 'warn' })
  })

  it('records a provider failure as a failed job with its error', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const created = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'fail' })
    const done = await waitFor(created.id, (s) => ['succeeded', 'failed', 'cancelled'].includes(s))
    expect(done.status).toBe('failed')
    expect(done.error?.message).toMatch(/refused/)
  })

  it('refuses an `after` cursor that names nothing of the list (a job, an event, a checkpoint) with a 400 naming `after`, not an empty page or the first page again', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'cursors' })
    const other = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'slow' })
    await waitFor(job.id, (s) => s === 'succeeded')
    const refused = async (page: Promise<unknown>) => {
      const err = await page.catch((e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.BadRequestError)
      expect(err).toMatchObject({ status: 400, param: 'after', code: 'invalid_value' })
    }
    // Known cursors page on.
    expect((await client.fineTuning.jobs.list({ after: other.id })).data.map((j) => j.id)).toContain(job.id)
    const firstEvent = (await client.fineTuning.jobs.listEvents(job.id, { limit: 1 })).data[0]!
    expect((await client.fineTuning.jobs.listEvents(job.id, { after: firstEvent.id, limit: 100 })).data.map((e) => e.id)).not.toContain(firstEvent.id)
    const [newest, older] = (await client.fineTuning.jobs.checkpoints.list(job.id)).data
    expect((await client.fineTuning.jobs.checkpoints.list(job.id, { after: newest!.id })).data.map((c) => c.id)).toEqual([older!.id])
    // Unknown ones, or another job's, are refused.
    await refused(client.fineTuning.jobs.list({ after: 'ftjob-0123456789abcdef01234567' }))
    await refused(client.fineTuning.jobs.listEvents(job.id, { after: 'ftevent-0123456789abcdef01234567' }))
    await refused(client.fineTuning.jobs.listEvents(job.id, { after: (await client.fineTuning.jobs.listEvents(other.id)).data[0]!.id }))
    await refused(client.fineTuning.jobs.checkpoints.list(job.id, { after: 'ftckpt_0123456789abcdef01234567' }))
    await client.fineTuning.jobs.cancel(other.id)
  })

  it('cancels a running job here and upstream; a second cancel is a 409', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const created = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'slow' })
    await waitFor(created.id, (s) => s === 'running')
    const cancelled = await client.fineTuning.jobs.cancel(created.id)
    expect(cancelled.status).toBe('cancelled')
    // Cancelled upstream too: this job's own provider job, once.
    const { provider_job_id: upstreamId } = (await (await fetch(`${gw.url}/api/v1/training/jobs/${created.id}`)).json() as { data: { provider_job_id: string } }).data
    expect(upstreamId).toMatch(/^ftjob-up\d+$/)
    expect(openaiUp.cancelled.filter((id) => id === upstreamId)).toHaveLength(1)
    await expect(client.fineTuning.jobs.cancel(created.id)).rejects.toMatchObject({ status: 409 })
    await new Promise((r) => setTimeout(r, 200))
    expect((await client.fineTuning.jobs.retrieve(created.id)).status).toBe('cancelled')
    // Both are in the audit trail (the refused second cancel is not): the job by its provider, model and files.
    const audit = (await (await fetch(`${gw.url}/api/v1/audit?target_id=${created.id}`)).json()) as any
    expect(audit.data.map((e: { action: string }) => e.action)).toEqual(['training_job.cancel', 'training_job.create'])
    const job = { provider: 'openai', model: 'gpt-4o-mini', training_file: file.id, validation_file: null, suffix: 'slow' }
    expect(audit.data[1]).toMatchObject({ target: { type: 'training_job', id: created.id }, details: { ...job, status: 'pending' } })
    expect(audit.data[0]).toMatchObject({ target: { type: 'training_job', id: created.id }, details: { ...job, status: 'cancelled', previous_status: 'running' } })
  })

  it('pauses a training job and resumes it, here and upstream (client.fineTuning.jobs.pause/resume); Mistral cannot, and says so', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const created = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'slow' })
    // Not started on its provider yet, or not paused: nothing to resume.
    await expect(client.fineTuning.jobs.resume(created.id)).rejects.toMatchObject({ status: 409, code: 'job_not_paused' })
    await waitFor(created.id, (s) => s === 'running')
    const paused = await client.fineTuning.jobs.pause(created.id)
    expect(paused).toMatchObject({ id: created.id, object: 'fine_tuning.job', status: 'paused' })
    const { provider_job_id: upstreamId } = (await (await fetch(`${gw.url}/api/v1/training/jobs/${created.id}`)).json() as { data: { provider_job_id: string } }).data
    expect(openaiUp.jobs.get(upstreamId)?.status).toBe('paused')
    // The worker keeps polling a paused job and leaves it paused.
    await new Promise((r) => setTimeout(r, 200))
    expect((await client.fineTuning.jobs.retrieve(created.id)).status).toBe('paused')
    await expect(client.fineTuning.jobs.pause(created.id)).rejects.toMatchObject({ status: 409, code: 'job_not_running' })

    expect((await client.fineTuning.jobs.resume(created.id)).status).toBe('queued')
    await waitFor(created.id, (s) => s === 'running')
    const messages = (await client.fineTuning.jobs.listEvents(created.id, { limit: 100 })).data.map((e) => e.message)
    expect(messages).toEqual(expect.arrayContaining(['The job was paused.', 'The job was resumed.']))
    expect((await client.fineTuning.jobs.cancel(created.id)).status).toBe('cancelled')
    await expect(client.fineTuning.jobs.pause(created.id)).rejects.toMatchObject({ status: 409 })
    // The audit trail has the pause and the resume (the refused ones are not), each with the status it left.
    const audit = (await (await fetch(`${gw.url}/api/v1/audit?target_id=${created.id}`)).json()) as any
    expect(audit.data.map((e: { action: string }) => e.action)).toEqual(['training_job.cancel', 'training_job.resume', 'training_job.pause', 'training_job.create'])
    expect(audit.data[2]).toMatchObject({ target: { type: 'training_job', id: created.id }, details: { provider: 'openai', model: 'gpt-4o-mini', status: 'paused', previous_status: 'running' } })
    expect(audit.data[1]).toMatchObject({ target: { type: 'training_job', id: created.id }, details: { status: 'queued', previous_status: 'paused' } })

    // The management API has them too; a provider without pause is a 400 naming it, and the job goes on.
    const mistralJob = await fetch(`${gw.url}/api/v1/training/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'open-mistral-nemo', training_file: file.id, suffix: 'slow' }) })
    expect(mistralJob.status).toBe(201)
    const { data: job } = await mistralJob.json() as { data: { id: string } }
    await waitFor(job.id, (s) => s === 'running')
    const refused = await fetch(`${gw.url}/api/v1/training/jobs/${job.id}/pause`, { method: 'POST' })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toMatchObject({ success: false, error: 'pause_unsupported' })
  })

  it('lists jobs filtered by metadata (metadata[key]=value, as the SDK sends it), auto-paging the rest', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const tag = `run-${Date.now()}`
    const tagged = [
      await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, metadata: { batch: tag, kind: 'a' } }),
      await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, metadata: { batch: tag, kind: 'b' } }),
    ]
    await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, metadata: { batch: 'other' } })
    const ids = async (params: OpenAI.FineTuning.JobListParams) => {
      const found: string[] = []
      for await (const job of client.fineTuning.jobs.list(params)) found.push(job.id)
      return found
    }
    expect(await ids({ metadata: { batch: tag }, limit: 1 })).toEqual([tagged[1].id, tagged[0].id])
    expect(await ids({ metadata: { batch: tag, kind: 'a' } })).toEqual([tagged[0].id])
    expect(await ids({ metadata: { batch: 'nonexistent' } })).toEqual([])
  })

  it('trains only a model the route table answers for the caller, on one of its route\'s providers, a provider named or not', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const started = () => openaiUp.calls.filter((c) => c.startsWith('POST /v1/fine_tuning/jobs')).length + mistralUp.calls.filter((c) => c.startsWith('POST /v1/fine_tuning/jobs')).length
    const before = started()
    // The SDK's `create` takes no `provider`; the gateway's own field goes as an extra body field.
    const create = (model: string, provider: string) => client.fineTuning.jobs.create({ model, training_file: file.id }, { body: { model, training_file: file.id, provider } })
    // No route answers gpt-4o: naming a provider used to start it anyway, past every model rule.
    await expect(create('gpt-4o', 'openai')).rejects.toMatchObject({ status: 400, param: 'model', code: 'model_not_found' })
    await expect(create('gpt-4o-mini', 'mistral')).rejects.toMatchObject({ status: 400, param: 'provider', code: 'provider_not_routed' })
    const routed = await create('gpt-4o-mini', 'openai')
    expect(routed).toMatchObject({ model: 'gpt-4o-mini' })
    await waitFor(routed.id, (s) => ['succeeded', 'failed', 'cancelled'].includes(s))
    expect(started()).toBe(before + 1)
  })

  it('refuses a job on a missing or non-fine-tune file, naming the field', async () => {
    await expect(client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: 'file-000000000000000000000000' })).rejects.toMatchObject({ status: 404, param: 'training_file' })
    const other = await client.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'assistants' })
    await expect(client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: other.id })).rejects.toMatchObject({ status: 400, param: 'training_file', code: 'invalid_file_purpose' })
    await expect(client.fineTuning.jobs.retrieve('ftjob-nope')).rejects.toMatchObject({ status: 404 })
    // A misspelt field or hyperparameter is a 400 naming it, not a job trained with the provider's defaults.
    const good = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const before = (await client.fineTuning.jobs.list({ limit: 100 })).data.length
    const typos = [
      { model: 'gpt-4o-mini', training_file: good.id, sufix: 'typo' },
      { model: 'gpt-4o-mini', training_file: good.id, hyperparameters: { n_epoch: 3 } },
      { model: 'gpt-4o-mini', training_file: good.id, method: { type: 'supervised', supervised: { hyperparameters: { learning_rate: 0.1 } } } },
    ]
    for (const [i, param] of ['sufix', 'hyperparameters.n_epoch', 'method.supervised.hyperparameters.learning_rate'].entries()) {
      const err = await client.fineTuning.jobs.create(typos[i] as OpenAI.FineTuning.JobCreateParams).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.BadRequestError)
      expect(err).toMatchObject({ param, code: 'unknown_parameter' })
    }
    expect((await client.fineTuning.jobs.list({ limit: 100 })).data).toHaveLength(before)
  })

  it('deploys a succeeded job\'s model as a route at runtime (flag and admin gated), then removes it', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'deploy' })
    const done = await waitFor(job.id, (s) => s === 'succeeded')
    const deploy = () => fetch(`${gw.url}/api/v1/training/jobs/${job.id}/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ route: 'support-bot' }) })

    const off = await deploy()
    expect(off.status).toBe(403)
    expect(((await off.json()) as any).error).toBe('feature_disabled')

    // Turning the flag on is a config change; the deployment itself is not.
    await writeFile(configFile, yaml.replace('custom_models: false', 'custom_models: true'))
    expect((await gw.controller.reload('test')).status).toBe('reloaded')
    const before = gw.controller.current.version
    const on = await deploy()
    expect(on.status).toBe(201)
    const deployed = ((await on.json()) as any).data
    expect(deployed).toMatchObject({ route: 'support-bot', provider: 'openai', model: done.fine_tuned_model })
    expect(deployed.yaml).toContain('model: "support-bot"')
    expect(deployed.yaml).toContain(`model: "${done.fine_tuned_model}"`)

    const end = Date.now() + 10_000
    while (!(await client.models.list()).data.some((m) => m.id === 'support-bot')) {
      if (Date.now() > end) throw new Error('the deployed route never appeared')
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(gw.controller.current.version).toBe(before) // same config, new route table
    const answer = await client.chat.completions.create({ model: 'support-bot', messages: [{ role: 'user', content: 'hi' }] })
    expect(answer.choices[0].message.content).toBe(`answered by ${done.fine_tuned_model}`)
    const routes = await (await fetch(`${gw.url}/api/v1/admin/routes`)).json() as any
    expect(routes.data.find((r: { model: string }) => r.model === 'support-bot')).toMatchObject({ source: 'deployed', targets: [{ provider: 'openai', model: done.fine_tuned_model }] })
    expect(routes.data.find((r: { model: string }) => r.model === 'gpt-4o-mini').source).toBe('config')
    expect((await deploy()).status).toBe(409)

    const removed = await fetch(`${gw.url}/api/v1/training/deployments/support-bot`, { method: 'DELETE' })
    expect(removed.status).toBe(200)
    const gone = Date.now() + 10_000
    while ((await client.models.list()).data.some((m) => m.id === 'support-bot')) {
      if (Date.now() > gone) throw new Error('the removed route is still served')
      await new Promise((r) => setTimeout(r, 50))
    }
    await expect(client.chat.completions.create({ model: 'support-bot', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 404 })

    // Both are in the audit trail: who routed what to which model, and who stopped it.
    const audit = (await (await fetch(`${gw.url}/api/v1/audit?target_id=support-bot`)).json()) as any
    expect(audit.data.map((e: { action: string }) => e.action)).toEqual(['model.undeploy', 'model.deploy'])
    for (const entry of audit.data) expect(entry).toMatchObject({ target: { type: 'route', id: 'support-bot' }, details: { job_id: job.id, provider: 'openai', model: done.fine_tuned_model } })
  })
})
