/**
 * A job left evaluating by a gateway that stopped is evaluated by the next one at its start: the
 * step its sweep queues at setup waits for the gateway to serve (routing the model's temporary
 * evaluation route before then threw 'ReloadController.start() has not completed', and the step
 * waited for the queue's retry). A third-party surface set up after the services
 * (test/fixtures/slow-setup-surface) holds the start open long enough for the step to run in it.
 */
import OpenAI, { toFile } from 'openai'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import path from 'node:path'
import { startTestGateway } from '../helpers/gateway.ts'
import { DATABASE_URL, POSTGRES_ENABLED, dropSchema, uniqueSchema } from '../store/helpers.ts'
import { mockOpenAITrainer } from './upstreams.ts'

const line = (q: string, a: string) => JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] })
const DATA = `${[line('2+2?', '4'), line('Hi', 'Hello!')].join('\n')}\n`
const ENDED = ['succeeded', 'failed', 'cancelled']
const FIXTURES = path.resolve('test/fixtures')

describe.runIf(POSTGRES_ENABLED)('a training job resumed by a restarted gateway', () => {
  it('evaluates a job left evaluating as soon as the new gateway serves, not after a queue retry', async () => {
    const schema = uniqueSchema('training_resume')
    const upstream = await mockOpenAITrainer()
    // A failed step is retried only after a minute, and stalled jobs are swept for once a minute: only a step that works at the start ends the job within the test.
    // A surface set up for 1.5 s after the services: the step the start's sweep queues runs while the gateway does not serve yet.
    const yaml = `version: 1
plugins: [ ./slow-setup-surface ]
store: { plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }
queue: { plugin: memory, retry_delay_ms: 60000, max_retry_delay_ms: 60000 }
providers:
  openai: { plugin: openai, api_key: sk-test, base_url: "${upstream.url}/v1" }
routes:
  - { model: gpt-4o-mini, targets: [ { provider: openai } ] }
services:
  files: {}
  training: { poll_min_ms: 100, poll_max_ms: 200, lease_ms: 1500, sweep_ms: 60000 }
surfaces:
  slow: { plugin: slow-setup-ts, ms: 1500 }
`
    let gw = await startTestGateway(yaml, { dir: FIXTURES })
    const db = new pg.Client({ connectionString: DATABASE_URL })
    await db.connect()
    try {
      let client = new OpenAI({ apiKey: 'x', baseURL: `${gw.url}/v1`, maxRetries: 0 })
      const file = await client.files.create({ file: await toFile(Buffer.from(DATA), 'train.jsonl'), purpose: 'fine-tune' })
      const job = await client.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: file.id })
      const until = async (c: OpenAI, ok: (status: string) => boolean, ms: number) => {
        const end = Date.now() + ms
        for (;;) {
          const j = await c.fineTuning.jobs.retrieve(job.id)
          if (ok(j.status)) return j
          if (Date.now() > end) return j
          await new Promise((r) => setTimeout(r, 50))
        }
      }
      const trained = await until(client, (s) => ENDED.includes(s), 20_000)
      expect(trained.status).toBe('succeeded')
      await gw.close()
      // As a gateway stopped mid-evaluation leaves it: trained, evaluating, its step gone with the process.
      await db.query(`UPDATE "${schema}".training_jobs SET status = 'evaluating', evaluation = NULL, result_file = NULL, finished_at = NULL, lease_until = NULL WHERE id = $1`, [job.id])
      const chatsBefore = upstream.chats.length

      gw = await startTestGateway(yaml, { dir: FIXTURES })
      client = new OpenAI({ apiKey: 'x', baseURL: `${gw.url}/v1`, maxRetries: 0 })
      const done = await until(client, (s) => ENDED.includes(s), 10_000)
      expect(done.status).toBe('succeeded')
      const managed = (await (await fetch(`${gw.url}/api/v1/training/jobs/${job.id}`)).json() as { data: { evaluation: { status: string; examples: number } } }).data
      expect(managed.evaluation).toMatchObject({ status: 'completed', examples: 2 })
      expect(upstream.chats.length - chatsBefore).toBe(2)
    } finally {
      await db.end()
      await gw.close()
      await upstream.close()
      await dropSchema(schema)
    }
  }, 60_000)
})
