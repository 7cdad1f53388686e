/**
 * /api/v1/openapi.json documents what the training routes answer (datasets, jobs, events,
 * checkpoints, deployments): every route has a response schema, and real answers through a whole
 * job against a mock OpenAI fine-tuning upstream validate against it, so a field a view adds or
 * renames without its schema fails here (and the console, typed from the document, sees it at
 * type-check).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { documentedSuite } from '../helpers/documented.ts'
import { mockOpenAITrainer, type MockTrainer } from './upstreams.ts'

const EXAMPLES = ['Where is my order?', 'Can I return it?', 'Do you ship abroad?']
  .map((q, i) => JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: `Answer ${i}.` }] }))

describe('the documented answers of the training routes', () => {
  let trainer: MockTrainer
  beforeAll(async () => { trainer = await mockOpenAITrainer() })
  afterAll(async () => { await trainer?.close() })
  const suite = documentedSuite({
    config: () => `version: 1
store: { plugin: embedded, memory: true, vector: false }
queue: { plugin: memory }
providers:
  openai: { plugin: openai, api_key: sk-test, base_url: "${trainer.url}/v1" }
routes:
  - { model: gpt-4o-mini, targets: [ { provider: openai } ] }
services:
  files: {}
  training: { poll_min_ms: 20, poll_max_ms: 60, lease_ms: 1000, sweep_ms: 200 }
  docs: {}
features: { custom_models: true }
`,
    prefixes: ['/api/v1/training'],
    routes: 9,
  })

  it('answers as documented, from a dataset to a deployed model', async () => {
    const { call } = suite
    const form = new FormData()
    form.append('file', new Blob([`${EXAMPLES.join('\n')}\n`], { type: 'application/jsonl' }), 'orders.jsonl')
    form.append('model', 'gpt-4o-mini')
    form.append('validation_split', '0.34')
    const dataset = await call('POST', '/api/v1/training/datasets', form)
    expect(dataset.split).toMatchObject({ train: { examples: 2 }, validation: { examples: 1 } })
    expect(await call('GET', '/api/v1/training/datasets')).toHaveLength(1)
    await call('GET', `/api/v1/training/datasets/${dataset.id}`)

    const job = await call('POST', '/api/v1/training/jobs', { model: 'gpt-4o-mini', dataset: dataset.id, suffix: 'orders', hyperparameters: { n_epochs: 2 } })
    expect(job).toMatchObject({ status: 'pending', validation_file: dataset.validation_file_id, evaluation: null })
    const done = await vi.waitFor(async () => {
      const got = await call('GET', `/api/v1/training/jobs/${job.id}`)
      if (got.status !== 'succeeded') throw new Error(`the job is ${got.status}`)
      return got
    }, { timeout: 30_000, interval: 100 })
    // The evaluation is documented field by field: it scored the validation side of the split.
    expect(done.evaluation).toMatchObject({ status: 'completed', source: 'validation_file', examples: 1 })
    expect(await call('GET', '/api/v1/training/jobs')).toHaveLength(1)
    const events = await call('GET', `/api/v1/training/jobs/${job.id}/events`)
    expect(events.some((e: { type: string }) => e.type === 'metrics')).toBe(true)
    await call('GET', `/api/v1/training/jobs/${job.id}/checkpoints`)

    const deployed = await call('POST', `/api/v1/training/jobs/${job.id}/deploy`, { route: 'orders-bot' })
    expect(deployed.yaml).toContain(done.fine_tuned_model)
    expect(await call('GET', '/api/v1/training/deployments')).toHaveLength(1)
    expect(await call('DELETE', '/api/v1/training/deployments/orders-bot')).toEqual({ route: 'orders-bot', deleted: true })

    const slow = await call('POST', '/api/v1/training/jobs', { model: 'gpt-4o-mini', training_file: dataset.file_id, suffix: 'slow' })
    expect((await call('POST', `/api/v1/training/jobs/${slow.id}/cancel`, {})).status).toBe('cancelled')
    expect(suite.answers.checked.size).toBe(12)
  }, 60_000)
})
