/**
 * The Training page's fixtures: a signed-in console over a gateway whose OpenAI provider is a mock
 * fine-tuning upstream (test/training/upstreams.ts), a dataset of one repeated example, and jobs
 * made through the API for a test that starts where the page's own flow ends.
 */
import { expect, vi } from 'vitest'
import { mockOpenAITrainer, type MockTrainer } from '../training/upstreams.ts'
import { ADMIN_KEY, startSignIn, type SignInSetup } from './helpers.ts'

export const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` }
/** One example (the mock model learns its answer), three times: the smallest dataset the check accepts with room to spare. */
export const EXAMPLE = JSON.stringify({ messages: [{ role: 'user', content: 'Where is my order?' }, { role: 'assistant', content: 'It ships tomorrow.' }] })
export const DATASET = Buffer.from(`${EXAMPLE}\n${EXAMPLE}\n${EXAMPLE}\n`)

export interface TrainingConsole {
  readonly setup: SignInSetup
  readonly trainer: MockTrainer
  readonly url: string
  /** An admin's call to the gateway: status and JSON body. */
  api(path: string, init?: RequestInit): Promise<{ status: number; body: any }>
  /** A dataset and a job on it, made through the API and waited for until it succeeded; its id. */
  succeededJob(suffix: string): Promise<string>
  close(): Promise<void>
}

/** `more`: YAML lines after the training service (features:, roles:). */
export async function startTrainingConsole(more = ''): Promise<TrainingConsole> {
  const trainer = await mockOpenAITrainer()
  const setup = await startSignIn({
    providers: `  openai: { plugin: openai, api_key: sk-test, base_url: "${trainer.url}/v1" }`,
    routes: '  - { model: gpt-4o-mini, targets: [ { provider: openai } ] }',
    services: `  console: {}\n  files: {}\n  training: { poll_min_ms: 50, poll_max_ms: 200, lease_ms: 2000, sweep_ms: 500 }\n${more}`,
    store: 'store: { plugin: embedded, memory: true, vector: false }\nqueue: { plugin: memory }',
  })
  const url = setup.gw.url
  async function api(path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
    const res = await fetch(`${url}${path}`, { ...init, headers: { ...ADMIN, ...init.headers } })
    return { status: res.status, body: await res.json() }
  }
  async function succeededJob(suffix: string): Promise<string> {
    const form = new FormData()
    form.append('file', new Blob([new Uint8Array(DATASET)], { type: 'application/jsonl' }), `${suffix}.jsonl`)
    const dataset = await api('/api/v1/training/datasets', { method: 'POST', body: form })
    expect(dataset.status, JSON.stringify(dataset.body)).toBe(201)
    const job = await api('/api/v1/training/jobs', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', training_file: dataset.body.data.file_id, suffix }),
    })
    expect(job.status, JSON.stringify(job.body)).toBe(201)
    const id: string = job.body.data.id
    await vi.waitFor(async () => {
      const { status } = (await api(`/api/v1/training/jobs/${id}`)).body.data
      if (status !== 'succeeded') throw new Error(`the job is ${status}`)
    }, { timeout: 30_000, interval: 200 })
    return id
  }
  return { setup, trainer, url, api, succeededJob, close: async () => { await setup.close(); await trainer.close() } }
}
