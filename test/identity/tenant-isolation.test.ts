/**
 * Tenant isolation as an attacker tries it: Bob (sales) holds the ids of Alice's objects (research)
 * and sends them to every OpenAI-shaped route that takes one, through the official SDK. Someone
 * else's object is answered exactly as an id that never existed (404, the same code): a 403 would
 * confirm to Bob that the id is real. Indirect paths (a batch from Alice's file, a vector store or
 * a fine-tuning job over it, a response continuing hers, her conversation) are refused the same way,
 * and lists show Bob none of hers. A department admin of research still reaches them.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { mockOpenAITrainer, type MockTrainer } from '../training/upstreams.ts'

const KEYS = {
  admin: 'isolation-admin-key-0123456789abcdef',
  alice: 'isolation-alice-key-0123456789abcdef',
  bob: 'isolation-bob-key-0123456789abcdef',
  lead: 'isolation-lead-key-0123456789abcdef',
}
const EXAMPLE = JSON.stringify({ messages: [{ role: 'user', content: 'Capital of France?' }, { role: 'assistant', content: 'Paris.' }] })
const BATCH_LINE = JSON.stringify({ custom_id: '1', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } })

let trainer: MockTrainer
let gw: RunningGateway
const client = (who: keyof typeof KEYS) => new OpenAI({ apiKey: KEYS[who], baseURL: `${gw.url}/v1`, maxRetries: 0 })

beforeAll(async () => {
  trainer = await mockOpenAITrainer()
  gw = await startTestGateway(`version: 1
store: { plugin: embedded, memory: true, vector: true }
queue: { plugin: memory }
providers:
  openai: { plugin: openai, api_key: sk-test, base_url: "${trainer.url}/v1" }
  mock: { plugin: mock }
routes:
  - { model: gpt-4o-mini, targets: [ { provider: openai } ] }
  - { model: mock, targets: [ { provider: mock } ] }
  - { model: 'claude-*', targets: [ { provider: mock } ] }
departments:
  research: { models: [gpt-4o-mini, mock, 'claude-*'] }
  sales: { models: [gpt-4o-mini, mock] }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: "${KEYS.admin}", user: admin, role: admin }
        - { key: "${KEYS.alice}", user: alice, role: trainer, department: research }
        - { key: "${KEYS.bob}", user: bob, role: trainer, department: sales }
        - { key: "${KEYS.lead}", user: lead, role: lead, department: research }
roles:
  trainer: { permissions: [chat, manage_training, manage_keys], scope: own_data }
  lead: { permissions: [chat, manage_training], scope: department_data }
services:
  keys: {}
  files: {}
  batches: {}
  training: { poll_min_ms: 20, poll_max_ms: 60, lease_ms: 1000, sweep_ms: 200 }
  rag: { embedding_route: mock }
  conversations: {}
surfaces:
  responses: {}
`)
}, 60_000)
afterAll(async () => {
  await gw?.close()
  await trainer?.close()
})

/** What the SDK throws, as status and code. */
async function refusal(promise: Promise<unknown>): Promise<{ status: number; code: unknown }> {
  try {
    await promise
  } catch (err) {
    if (err instanceof OpenAI.APIError) return { status: err.status ?? 0, code: err.code }
    throw err
  }
  throw new Error('expected a refusal, got an answer')
}

describe("another user's objects, by id", () => {
  let alice: OpenAI
  let bob: OpenAI
  beforeAll(() => {
    alice = client('alice')
    bob = client('bob')
  })

  it("answers Bob about Alice's file exactly as about a file that never existed", async () => {
    const file = await alice.files.create({ file: await toFile(Buffer.from('the research budget is 42'), 'notes.txt'), purpose: 'user_data' })
    const unknown = 'file-000000000000000000000000'
    for (const [what, call] of [
      ['retrieve', (id: string) => bob.files.retrieve(id)],
      ['content', (id: string) => bob.files.content(id)],
      ['delete', (id: string) => bob.files.delete(id)],
    ] as const) {
      const theirs = await refusal(call(file.id))
      expect(theirs, what).toEqual({ status: 404, code: 'file_not_found' })
      expect(await refusal(call(unknown)), what).toEqual(theirs)
    }
    // The management API's view of files says the same.
    const managed = await fetch(`${gw.url}/api/v1/files/${file.id}`, { headers: { authorization: `Bearer ${KEYS.bob}` } })
    expect([managed.status, ((await managed.json()) as { error: string }).error]).toEqual([404, 'file_not_found'])
    expect((await bob.files.list()).data.map((f) => f.id)).not.toContain(file.id)
    // Still there for Alice, and for her department's lead.
    expect((await alice.files.retrieve(file.id)).id).toBe(file.id)
    expect((await client('lead').files.retrieve(file.id)).id).toBe(file.id)
  })

  it("answers Bob about Alice's upload as about one that never existed", async () => {
    const upload = await alice.uploads.create({ filename: 'big.txt', purpose: 'user_data', bytes: 5, mime_type: 'text/plain' })
    const part = await alice.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('hello'), 'blob') })
    const unknown = 'upload_00000000000000000000000000000000'
    for (const [what, call] of [
      ['add a part', async (id: string) => bob.uploads.parts.create(id, { data: await toFile(Buffer.from('x'), 'x') })],
      ['complete', (id: string) => bob.uploads.complete(id, { part_ids: [part.id] })],
      ['cancel', (id: string) => bob.uploads.cancel(id)],
    ] as const) {
      const theirs = await refusal(call(upload.id))
      expect(theirs, what).toEqual({ status: 404, code: 'upload_not_found' })
      expect(await refusal(call(unknown)), what).toEqual(theirs)
    }
    expect((await alice.uploads.complete(upload.id, { part_ids: [part.id] })).status).toBe('completed')
  })

  it("answers Bob about Alice's fine-tuning job, and refuses her training file, as if neither existed", async () => {
    const training = await alice.files.create({ file: await toFile(Buffer.from(`${EXAMPLE}\n${EXAMPLE}\n`), 'train.jsonl'), purpose: 'fine-tune' })
    const job = await alice.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: training.id, suffix: 'slow' })
    const unknown = 'ftjob-000000000000000000000000'
    for (const [what, call] of [
      ['retrieve', (id: string) => bob.fineTuning.jobs.retrieve(id)],
      ['events', (id: string) => bob.fineTuning.jobs.listEvents(id)],
      ['checkpoints', (id: string) => bob.fineTuning.jobs.checkpoints.list(id)],
      ['cancel', (id: string) => bob.fineTuning.jobs.cancel(id)],
      ['pause', (id: string) => bob.fineTuning.jobs.pause(id)],
    ] as const) {
      const theirs = await refusal(call(job.id))
      expect(theirs, what).toEqual({ status: 404, code: 'job_not_found' })
      expect(await refusal(call(unknown)), what).toEqual(theirs)
    }
    expect((await bob.fineTuning.jobs.list()).data.map((j) => j.id)).not.toContain(job.id)
    // Her training file as Bob's own job's: no file, as an unknown id.
    const theirs = await refusal(bob.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: training.id }))
    expect(theirs).toEqual({ status: 404, code: 'file_not_found' })
    expect(await refusal(bob.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: 'file-000000000000000000000000' }))).toEqual(theirs)
    expect(await refusal(bob.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: training.id.replace(/.$/, '0'), validation_file: training.id }))).toEqual(theirs)
    // The datasets of the management API too.
    const datasets = (await (await fetch(`${gw.url}/api/v1/training/datasets`, { headers: { authorization: `Bearer ${KEYS.alice}` } })).json()) as { data: { id: string; file_id: string }[] }
    const dataset = datasets.data.find((d) => d.file_id === training.id)!
    const asBob = await fetch(`${gw.url}/api/v1/training/datasets/${dataset.id}`, { headers: { authorization: `Bearer ${KEYS.bob}` } })
    expect([asBob.status, ((await asBob.json()) as { error: string }).error]).toEqual([404, 'dataset_not_found'])
    expect((await client('lead').fineTuning.jobs.retrieve(job.id)).id).toBe(job.id)
    await alice.fineTuning.jobs.cancel(job.id)
  })
})

describe("another user's fine-tuned model", () => {
  it('is no model to Bob: deleting it is answered as for a name no job made', { timeout: 90_000 }, async () => {
    const alice = client('alice')
    const training = await alice.files.create({ file: await toFile(Buffer.from(`${EXAMPLE}\n${EXAMPLE}\n`), 'train.jsonl'), purpose: 'fine-tune' })
    let job = await alice.fineTuning.jobs.create({ model: 'gpt-4o-mini', training_file: training.id })
    for (const end = Date.now() + 60_000; job.status !== 'succeeded' && Date.now() < end;) {
      await new Promise((resolve) => setTimeout(resolve, 25))
      job = await alice.fineTuning.jobs.retrieve(job.id)
    }
    const model = job.fine_tuned_model!
    expect(model).toMatch(/^ft:/)
    const theirs = await refusal(client('bob').models.delete(model))
    expect(theirs).toEqual({ status: 404, code: 'model_not_found' })
    expect(await refusal(client('bob').models.delete(`${model}x`))).toEqual(theirs)
    expect(trainer.deletedModels).not.toContain(model)
    expect(await alice.models.delete(model)).toMatchObject({ id: model, deleted: true })
  })
})

describe("another user's objects, through other objects", () => {
  it("refuses a batch, a vector store and a response built on Alice's objects", async () => {
    const alice = client('alice')
    const bob = client('bob')
    const input = await alice.files.create({ file: await toFile(Buffer.from(`${BATCH_LINE}\n`), 'in.jsonl'), purpose: 'batch' })
    expect(await refusal(bob.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' }))).toEqual({ status: 404, code: 'file_not_found' })

    const notes = await alice.files.create({ file: await toFile(Buffer.from('zebras are striped'), 'notes.txt'), purpose: 'assistants' })
    expect(await refusal(bob.vectorStores.create({ name: 'mine', file_ids: [notes.id] }))).toEqual({ status: 404, code: 'file_not_found' })
    const store = await alice.vectorStores.create({ name: 'hers', file_ids: [notes.id] })
    expect(await refusal(bob.vectorStores.retrieve(store.id))).toEqual({ status: 404, code: 'vector_store_not_found' })
    expect(await refusal(bob.vectorStores.search(store.id, { query: 'zebras' }))).toEqual({ status: 404, code: 'vector_store_not_found' })
    expect(await refusal(bob.responses.create({ model: 'mock', input: 'zebras?', tools: [{ type: 'file_search', vector_store_ids: [store.id] }] }))).toEqual({ status: 404, code: 'vector_store_not_found' })
    expect((await bob.vectorStores.list()).data.map((s) => s.id)).not.toContain(store.id)

    const first = await alice.responses.create({ model: 'mock', input: 'my secret plan' })
    expect(await refusal(bob.responses.create({ model: 'mock', input: 'go on', previous_response_id: first.id }))).toEqual({ status: 404, code: 'response_not_found' })
    expect(await refusal(bob.responses.retrieve(first.id))).toEqual({ status: 404, code: 'response_not_found' })
    expect(await refusal(bob.responses.inputItems.list(first.id))).toEqual({ status: 404, code: 'response_not_found' })
    expect(await refusal(bob.responses.create({ model: 'mock', input: [{ role: 'user', content: [{ type: 'input_file', file_id: notes.id }] }] }))).toEqual({ status: 404, code: 'file_not_found' })

    const conversation = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'between us' }] })
    expect(await refusal(bob.conversations.items.list(conversation.id))).toEqual({ status: 404, code: 'conversation_not_found' })
    expect(await refusal(bob.responses.create({ model: 'mock', input: 'x', conversation: conversation.id }))).toEqual({ status: 404, code: 'conversation_not_found' })
  })
})

describe('models a caller may not use', () => {
  it('refuses a background response for one at once, as the same request in the foreground is refused, instead of queueing it to fail', { timeout: 60_000 }, async () => {
    const bob = client('bob')
    // Sales may not use claude-*: refused in the foreground...
    expect(await refusal(bob.responses.create({ model: 'claude-3-5-haiku', input: 'hi' }))).toMatchObject({ status: 403, code: 'model_not_allowed' })
    // ...and in the background, before anything is queued or stored.
    expect(await refusal(bob.responses.create({ model: 'claude-3-5-haiku', input: 'hi', background: true }))).toEqual({ status: 404, code: 'model_not_found' })
    // A key's allow-list the same way.
    const made = await fetch(`${gw.url}/api/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'mock-only', allowed_models: ['mock'] }) })
    const limited = new OpenAI({ apiKey: ((await made.json()) as { data: { key: string } }).data.key, baseURL: `${gw.url}/v1`, maxRetries: 0 })
    expect(await refusal(limited.responses.create({ model: 'claude-3-5-haiku', input: 'hi', background: true }))).toEqual({ status: 404, code: 'model_not_found' })
    // What the caller may use still runs in the background: a glob route's name included.
    for (const [who, model] of [[limited, 'mock'], [client('alice'), 'claude-3-5-haiku']] as const) {
      const queued = await who.responses.create({ model, input: 'hi', background: true })
      let done = queued
      for (const end = Date.now() + 30_000; ['queued', 'in_progress'].includes(done.status!) && Date.now() < end;) {
        await new Promise((resolve) => setTimeout(resolve, 25))
        done = await who.responses.retrieve(queued.id)
      }
      expect(done.status, model).toBe('completed')
    }
  })
})
