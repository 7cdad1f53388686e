/**
 * Workers apart from the gateway, as deployed: a gateway with `runsJobs: false` (`gateway start
 * --no-jobs`) takes the request, a worker (`gateway worker`) runs the job, sharing PostgreSQL (a
 * schema of this run's own) and RabbitMQ (a queue prefix of its own). A worker stopped mid-job
 * is replaced, and the job still ends once (restart recovery). Needs both services: skipped
 * locally without them, failing when CI=true.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWorker, type RunningWorker } from '../../core/gateway.ts'
import { startTestGateway, testLogger, withUsage, type RunningGateway } from '../helpers/gateway.ts'
import { DATABASE_URL, POSTGRES_ENABLED, dropSchema, uniqueSchema } from '../store/helpers.ts'
import { RABBITMQ_ENABLED, RABBITMQ_URL, deleteQueues, uniquePrefix } from '../queue/helpers.ts'
import { waitFor } from '../helpers/wait.ts'
import { mockOpenAITrainer, type MockTrainer } from './upstreams.ts'

const GOOD = `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })}\n`

describe.runIf(POSTGRES_ENABLED && RABBITMQ_ENABLED)('training with separate workers (PostgreSQL + RabbitMQ)', () => {
  const schema = uniqueSchema('training')
  const prefix = uniquePrefix('training')
  let upstream: MockTrainer
  let gw: RunningGateway
  const workers: RunningWorker[] = []
  let yaml: string

  beforeAll(async () => {
    upstream = await mockOpenAITrainer()
    yaml = withUsage(`version: 1
store: { plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }
queue: { plugin: rabbitmq, url: "${RABBITMQ_URL}", prefix: "${prefix}", retry_delay_ms: 50, max_retry_delay_ms: 100, stop_grace_ms: 200, metrics_interval_ms: 200 }
providers:
  openai: { plugin: openai, api_key: sk-test, base_url: "${upstream.url}/v1" }
routes:
  - { model: gpt-4o-mini, targets: [ { provider: openai } ] }
services:
  files: {}
  training: { poll_min_ms: 100, poll_max_ms: 200, lease_ms: 1500, sweep_ms: 300 }
`)
    gw = await startTestGateway(yaml, { runsJobs: false })
  }, 120_000)
  afterAll(async () => {
    for (const w of workers) await w.close()
    await gw?.close()
    await upstream?.close()
    await dropSchema(schema)
    await deleteQueues(prefix, ['training.jobs'], [100, 200, 1500, 50])
  })

  const worker = async () => {
    const w = await startWorker({ source: { text: yaml, label: 'worker.yaml', dir: process.cwd() }, logger: testLogger(), watch: false, metricsPort: 0, metricsHost: '127.0.0.1' })
    workers.push(w)
    return w
  }

  it('leaves the job to a worker, and a replacement worker finishes a job its predecessor held', async () => {
    const client = new OpenAI({ apiKey: 'x', baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id, suffix: 'w' })
    await new Promise((r) => setTimeout(r, 700))
    // The gateway runs no jobs: nothing reached the provider.
    expect((await client.fineTuning.jobs.retrieve(job.id)).status).toBe('validating_files')
    expect(upstream.calls.filter((c) => c.includes('fine_tuning'))).toHaveLength(0)

    const first = await worker()
    const end = Date.now() + 20_000
    while ((await client.fineTuning.jobs.retrieve(job.id)).status === 'validating_files') {
      if (Date.now() > end) throw new Error('the worker never started the job')
      await new Promise((r) => setTimeout(r, 50))
    }
    // The first worker goes away mid-job; another takes over from the job's state.
    await first.close()
    workers.splice(workers.indexOf(first), 1)
    const handedOver = upstream.calls.length
    await worker()
    let status = ''
    while (!['succeeded', 'failed', 'cancelled'].includes(status)) {
      if (Date.now() > end + 20_000) throw new Error(`the job is stuck in ${status}`)
      status = (await client.fineTuning.jobs.retrieve(job.id)).status
      await new Promise((r) => setTimeout(r, 50))
    }
    if (status !== 'succeeded') console.log(JSON.stringify(await client.fineTuning.jobs.retrieve(job.id)), JSON.stringify((await client.fineTuning.jobs.listEvents(job.id, { limit: 100 })).data.map((e) => e.message)))
    expect(status).toBe('succeeded')
    // Started upstream once: no worker repeated the start.
    expect(upstream.calls.filter((c) => c === 'POST /v1/fine_tuning/jobs')).toHaveLength(1)
    const events = await client.fineTuning.jobs.listEvents(job.id, { limit: 100 })
    expect(events.data.filter((e) => e.message.startsWith('The job succeeded'))).toHaveLength(1)
    // The worker, serving no HTTP, evaluated the model through its own pipeline: one call per example.
    const done = await client.fineTuning.jobs.retrieve(job.id)
    const managed = (await (await fetch(`${gw.url}/api/v1/training/jobs/${job.id}`)).json() as { data: { evaluation: Record<string, unknown>; provider_job_id: string } }).data
    expect(managed.evaluation).toMatchObject({ status: 'completed', examples: 1, exact_match: 0 })
    expect(upstream.chats.filter((c) => c.model === done.fine_tuned_model).map((c) => c.user)).toEqual(['hi'])
    expect(done.result_files).toHaveLength(1)

    // The worker's own /metrics shows what its consumers did (no gateway's /metrics can), /ready its broker and store.
    const replacement = workers.at(-1)!
    // Nothing left in flight once the job is over. Not at once: the step that ended the job is
    // acked after it wrote the status, and a stale step (a lease retry queued while the first
    // worker held the job) may still come in and be dropped; a loaded machine drew out both.
    const metrics = (await waitFor(async () => {
      const text = await (await fetch(`${replacement.metricsUrl}/metrics`)).text()
      return /gateway_queue_in_flight\{backend="rabbitmq",topic="training\.jobs"\} 0\n/.test(text) ? text : ''
    }, 10_000, 50)).value
    const pickups = /gateway_queue_pickup_seconds_count\{backend="rabbitmq",topic="training\.jobs"\} (\d+)/.exec(metrics)
    // Every provider poll after the handover was a step the replacement picked up, and so was the evaluation.
    const polls = upstream.calls.slice(handedOver).filter((c) => c === `GET /v1/fine_tuning/jobs/${managed.provider_job_id}`).length
    expect(polls).toBeGreaterThan(0)
    expect(Number(pickups?.[1])).toBeGreaterThanOrEqual(polls + 1)
    expect(metrics).toMatch(/gateway_queue_in_flight\{backend="rabbitmq",topic="training\.jobs"\} 0/)
    expect(metrics).toMatch(/gateway_queue_depth\{backend="rabbitmq",topic="training\.jobs"\} \d+/)
    expect(metrics).toContain('# TYPE gateway_queue_dead_letters_total counter')
    expect(metrics).toContain('# TYPE gateway_queue_retries_total counter')
    const ready = await fetch(`${replacement.metricsUrl}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready', backends: { store: 'ok', queue: 'ok' } })
    expect((await fetch(`${replacement.metricsUrl}/v1/models`)).status).toBe(404) // no API on a worker
  })
})

describe.runIf(POSTGRES_ENABLED && RABBITMQ_ENABLED)('training: a job whose key is revoked before a worker takes it', () => {
  const schema = uniqueSchema('training_revoked')
  const prefix = uniquePrefix('training-revoked')
  const ADMIN = 'training-admin-key-0123456789abcdef'
  let upstream: MockTrainer
  let gw: RunningGateway
  let worker: RunningWorker | undefined
  let yaml: string

  beforeAll(async () => {
    upstream = await mockOpenAITrainer()
    yaml = withUsage(`version: 1
store: { plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }
queue: { plugin: rabbitmq, url: "${RABBITMQ_URL}", prefix: "${prefix}", retry_delay_ms: 50, max_retry_delay_ms: 100, stop_grace_ms: 200 }
providers:
  openai: { plugin: openai, api_key: sk-test, base_url: "${upstream.url}/v1" }
routes:
  - { model: gpt-4o-mini, targets: [ { provider: openai } ] }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: "${ADMIN}", user: root, role: admin }
services:
  files: {}
  keys: {}
  training: { poll_min_ms: 100, poll_max_ms: 200, lease_ms: 1500, sweep_ms: 300 }
`)
    gw = await startTestGateway(yaml, { runsJobs: false })
  }, 120_000)
  afterAll(async () => {
    await worker?.close()
    await gw?.close()
    await upstream?.close()
    await dropSchema(schema)
    await deleteQueues(prefix, ['training.jobs'], [100, 200, 1500, 50])
  })

  it('is cancelled by the worker, and nothing is started at the provider', async () => {
    const minted = await fetch(`${gw.url}/api/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'trainer' }) })
    const key = ((await minted.json()) as { data: { id: string; key: string } }).data
    const client = new OpenAI({ apiKey: key.key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const file = await client.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    const job = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id })
    expect((await fetch(`${gw.url}/api/v1/keys/${key.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200)
    worker = await startWorker({ source: { text: yaml, label: 'worker.yaml', dir: process.cwd() }, logger: testLogger(), watch: false, metricsPort: 0, metricsHost: '127.0.0.1' })
    const admin = new OpenAI({ apiKey: ADMIN, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const ended = (await waitFor(async () => {
      const current = await admin.fineTuning.jobs.retrieve(job.id)
      return current.status === 'cancelled' || current.status === 'succeeded' || current.status === 'failed' ? current : undefined
    }, 20_000, 50)).value!
    expect(ended.status).toBe('cancelled')
    expect(upstream.calls.filter((c) => c === 'POST /v1/fine_tuning/jobs')).toHaveLength(0)
  }, 60_000)
})
