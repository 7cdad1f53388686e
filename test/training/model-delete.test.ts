/**
 * Deleting a fine-tuned model the gateway trained, with the openai SDK's `client.models.delete`
 * (OpenAI's DELETE /v1/models/{model}): deleted at the provider, then neither listed, retrieved,
 * called nor deployed here, whatever route takes its name; only by a caller who may manage the
 * job (its owner, or within a role's data scope); a base model or a route is 403, a name no one
 * knows (or a model already deleted) 404.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { ADMIN, ADMIN_KEY, apiKeyStrategy, bearer, call, config } from '../identity/helpers.ts'
import { mockMistralTrainer, mockOpenAITrainer, type MockTrainer } from './upstreams.ts'

const ALICE = 'ftdel-alice-key-0123456789abcdef'
const BOB = 'ftdel-bob-key-0123456789abcdef01'
const CAROL = 'ftdel-carol-key-0123456789abcdef'
const LEAD = 'ftdel-lead-key-0123456789abcdef0'
const CHATTER = 'ftdel-chatter-key-0123456789abcd'

const GOOD = `${JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })}\n`
const ENDED = ['succeeded', 'failed', 'cancelled']

describe('deleting a fine-tuned model: client.models.delete', () => {
  let gw: RunningGateway
  let openaiUp: MockTrainer
  let mistralUp: MockTrainer
  const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 })

  beforeAll(async () => {
    openaiUp = await mockOpenAITrainer()
    mistralUp = await mockMistralTrainer()
    gw = await startTestGateway(config({
      // Fine-tuned models are routed, and listed from the provider's list, by a glob: only the gateway can stop that for a deleted one.
      routes: `providers:
  openai: { plugin: openai, api_key: sk-test, base_url: "${openaiUp.url}/v1" }
  mistral: { plugin: mistral, api_key: mk-test, base_url: "${mistralUp.url}" }
routes:
  - { model: gpt-4o-mini, targets: [ { provider: openai } ] }
  - { model: 'ft:gpt-*', targets: [ { provider: openai } ] }
  - { model: open-mistral-nemo, targets: [ { provider: mistral } ] }
`,
      auth: apiKeyStrategy([
        `        - { key: "${ALICE}", user: alice, role: trainer, department: research }\n`,
        `        - { key: "${BOB}", user: bob, role: trainer, department: research }\n`,
        `        - { key: "${CAROL}", user: carol, role: trainer, department: sales }\n`,
        `        - { key: "${LEAD}", user: lead, role: lead_trainer, department: research }\n`,
        `        - { key: "${CHATTER}", user: chatter, role: user, department: research }\n`,
      ].join('')),
      extra: `roles:
  trainer: { permissions: [chat, manage_training], scope: own_data }
  lead_trainer: { permissions: [chat, manage_training], scope: department_data }
queue: { plugin: memory, retry_delay_ms: 20, max_retry_delay_ms: 50 }
services:
  files: {}
  training: { poll_min_ms: 20, poll_max_ms: 60, lease_ms: 1000, sweep_ms: 200, eval_examples: 1 }
features: { custom_models: true }
`,
    }))
  }, 120_000)
  afterAll(async () => {
    await gw?.close()
    await openaiUp?.close()
    await mistralUp?.close()
  })

  /** A succeeded job of `key`'s on `model`; its fine-tuned model and id. */
  const trained = async (key: string, suffix: string, model = 'gpt-4o-mini') => {
    const c = client(key)
    const file = await c.files.create({ file: await toFile(Buffer.from(GOOD), 'train.jsonl'), purpose: 'fine-tune' })
    let job = await c.fineTuning.jobs.create({ model, training_file: file.id, suffix })
    const end = Date.now() + 20_000
    while (!ENDED.includes(job.status)) {
      if (Date.now() > end) throw new Error(`job ${job.id} stuck in ${job.status}`)
      await new Promise((r) => setTimeout(r, 30))
      job = await c.fineTuning.jobs.retrieve(job.id)
    }
    expect(job.status).toBe('succeeded')
    return { id: job.id, model: job.fine_tuned_model! }
  }
  const chat = (key: string, model: string) => client(key).chat.completions.create({ model, messages: [{ role: 'user', content: 'hello?' }] })
  const listed = async (key: string) => (await client(key).models.list()).data.map((m) => m.id)

  it('deletes the model at the provider and here: no longer listed, retrieved, called or deployed; a second delete is a 404', async () => {
    const { id, model } = await trained(ALICE, 'gone')
    const alice = client(ALICE)
    // Routed and listed through the glob route (the provider lists it), and deployed under a route name.
    expect(await listed(ALICE)).toContain(model)
    expect((await chat(ALICE, model)).choices[0].message.content).toBe(`answered by ${model}`)
    const deploy = await call(gw, 'POST', `/api/v1/training/jobs/${id}/deploy`, { headers: ADMIN, body: { route: 'gone-bot' } })
    expect(deploy.status).toBe(201)
    expect((await chat(ALICE, 'gone-bot')).choices[0].message.content).toBe(`answered by ${model}`)
    const chatsBefore = openaiUp.chats.filter((c) => c.model === model).length

    const deleted = await alice.models.delete(model)
    expect(deleted).toEqual({ id: model, object: 'model', deleted: true })
    expectOpenAISchema('DeleteModelResponse', deleted)
    // The provider was asked to delete it, once.
    expect(openaiUp.deletedModels).toEqual([model])
    expect(openaiUp.calls.filter((c) => c.startsWith('DELETE /v1/models/'))).toHaveLength(1)

    // Neither listed (the provider's list is kept 5 minutes and still names it) nor retrieved...
    expect(await listed(ALICE)).not.toContain(model)
    expect(await listed(ADMIN_KEY)).not.toContain('gone-bot')
    await expect(alice.models.retrieve(model)).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
    // ...nor called, by its name through the glob or by its deployment; the provider is not asked.
    await expect(chat(ALICE, model)).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
    await expect(chat(ADMIN_KEY, model)).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
    await expect(chat(ALICE, 'gone-bot')).rejects.toMatchObject({ status: 404 })
    expect(openaiUp.chats.filter((c) => c.model === model)).toHaveLength(chatsBefore)
    // Nor deployed again.
    const again = await call(gw, 'POST', `/api/v1/training/jobs/${id}/deploy`, { headers: ADMIN, body: { route: 'gone-bot-2' } })
    expect(again.status).toBe(409)
    expect(again.body.error).toBe('model_deleted')

    // In the audit trail: who deleted which model, of which job, where, and the deployment it took.
    const audit = await call(gw, 'GET', `/api/v1/audit?target_id=${encodeURIComponent(model)}`, { headers: ADMIN })
    expect(audit.body.data).toMatchObject([{
      action: 'model.delete', target: { type: 'model', id: model }, department: 'research', actor: { role: 'trainer' },
      details: { job_id: id, provider: 'openai', deleted_at_provider: true, routes_removed: ['gone-bot'] },
    }])

    // Deleting twice: a 404, the provider not asked again.
    await expect(alice.models.delete(model)).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
    expect(openaiUp.deletedModels).toEqual([model])

    // The job keeps its model's name (as OpenAI's does) and says when it was deleted.
    expect((await alice.fineTuning.jobs.retrieve(id)).fine_tuned_model).toBe(model)
    const managed = await call(gw, 'GET', `/api/v1/training/jobs/${id}`, { headers: bearer(ALICE) })
    expect(Date.parse(managed.body.data.model_deleted_at)).toBeGreaterThan(Date.now() - 60_000)
    const events = (await alice.fineTuning.jobs.listEvents(id, { limit: 100 })).data.map((e) => e.message)
    expect(events).toContain(`The model ${model} was deleted, here and on openai.`)
  })

  it('deletes a checkpoint model (ft:...:ckpt-step-N) as it deletes the final model, with its audit record; the final model stays', async () => {
    const { id, model } = await trained(ALICE, 'ckpt')
    const alice = client(ALICE)
    const checkpoints = (await alice.fineTuning.jobs.checkpoints.list(id)).data
    const step1 = checkpoints.find((c) => c.step_number === 1)!.fine_tuned_model_checkpoint
    expect(step1).toBe(`${model}:ckpt-step-1`)
    expect((await chat(ALICE, step1)).choices[0].message.content).toBe(`answered by ${step1}`)
    // Another trainer cannot, as for the final model.
    await expect(client(CAROL).models.delete(step1)).rejects.toMatchObject({ status: 403, code: 'out_of_scope' })

    expect(await alice.models.delete(step1)).toEqual({ id: step1, object: 'model', deleted: true })
    expect(openaiUp.deletedModels).toContain(step1)
    expect(await listed(ALICE)).not.toContain(step1)
    await expect(alice.models.retrieve(step1)).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
    await expect(chat(ALICE, step1)).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
    await expect(alice.models.delete(step1)).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
    // The final model and the other checkpoint still answer; the job's model is not marked deleted.
    expect((await chat(ALICE, model)).choices[0].message.content).toBe(`answered by ${model}`)
    expect((await chat(ALICE, `${model}:ckpt-step-2`)).choices[0].message.content).toBe(`answered by ${model}:ckpt-step-2`)
    expect((await call(gw, 'GET', `/api/v1/training/jobs/${id}`, { headers: bearer(ALICE) })).body.data.model_deleted_at).toBeNull()

    const audit = await call(gw, 'GET', `/api/v1/audit?target_id=${encodeURIComponent(step1)}`, { headers: ADMIN })
    expect(audit.body.data).toMatchObject([{
      action: 'model.delete', target: { type: 'model', id: step1 }, department: 'research', actor: { role: 'trainer' },
      details: { job_id: id, provider: 'openai', deleted_at_provider: true, routes_removed: [], checkpoint: { step: 1 } },
    }])
    const events = (await alice.fineTuning.jobs.listEvents(id, { limit: 100 })).data.map((e) => e.message)
    expect(events).toContain(`The checkpoint model ${step1} (step 1) was deleted, here and on openai.`)

    // The job's checkpoints list only those ready to use, as OpenAI's: the deleted one is left
    // out (on /api/v1 too), and pages do not count it (the newest, alone, is the last page).
    const left = (await alice.fineTuning.jobs.checkpoints.list(id)).data
    expect(left.map((c) => c.fine_tuned_model_checkpoint)).toEqual(checkpoints.map((c) => c.fine_tuned_model_checkpoint).filter((m) => m !== step1))
    expectOpenAISchema('ListFineTuningJobCheckpointsResponse', { object: 'list', data: left, first_id: left[0]?.id ?? null, last_id: left.at(-1)?.id ?? null, has_more: false })
    const managed = await call(gw, 'GET', `/api/v1/training/jobs/${id}/checkpoints`, { headers: bearer(ALICE) })
    expect(managed.body.data.map((c: { fine_tuned_model_checkpoint: string }) => c.fine_tuned_model_checkpoint)).not.toContain(step1)
    expect(checkpoints.map((c) => c.step_number)).toEqual([2, 1])
    const first = await alice.fineTuning.jobs.checkpoints.list(id, { limit: 1 })
    expect([first.data.map((c) => c.step_number), first.has_more]).toEqual([[2], false])
    expect((await alice.fineTuning.jobs.checkpoints.list(id, { after: checkpoints[0].id })).data).toEqual([])
  })

  it('lets only a caller who may manage the job delete its model: its owner, or a role whose data scope reaches it', async () => {
    const { model } = await trained(BOB, 'bobs')
    // Another trainer of the same department (own_data), one of another department: out of scope.
    await expect(client(ALICE).models.delete(model)).rejects.toMatchObject({ status: 403, code: 'out_of_scope' })
    await expect(client(CAROL).models.delete(model)).rejects.toMatchObject({ status: 403, code: 'out_of_scope' })
    // A role without manage_training.
    await expect(client(CHATTER).models.delete(model)).rejects.toMatchObject({ status: 403, code: 'permission_denied' })
    expect(openaiUp.deletedModels).not.toContain(model)
    expect((await chat(BOB, model)).choices[0].message.content).toBe(`answered by ${model}`)
    // The department's lead reaches it (department_data).
    expect(await client(LEAD).models.delete(model)).toEqual({ id: model, object: 'model', deleted: true })
    expect(openaiUp.deletedModels).toContain(model)
    await expect(chat(BOB, model)).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
  })

  it('refuses a base model or a route no job made (403), and a name nothing answers (404), asking the provider nothing', async () => {
    const admin = client(ADMIN_KEY)
    const asked = openaiUp.calls.filter((c) => c.startsWith('DELETE')).length
    await expect(admin.models.delete('gpt-4o-mini')).rejects.toMatchObject({ status: 403, code: 'model_not_deletable' })
    // A name the glob route takes, but no job here made.
    await expect(admin.models.delete('ft:gpt-4o-mini:org-x:someone-else:abc123')).rejects.toMatchObject({ status: 403, code: 'model_not_deletable' })
    await expect(admin.models.delete('no-such-model')).rejects.toMatchObject({ status: 404, code: 'model_not_found' })
    const wire = await fetch(`${gw.url}/v1/models/no-such-model`, { method: 'DELETE', headers: ADMIN })
    expect(await wire.json()).toMatchObject({ error: { code: 'model_not_found', param: 'model', type: expect.any(String), message: expect.any(String) } })
    expect(openaiUp.calls.filter((c) => c.startsWith('DELETE'))).toHaveLength(asked)
    expect((await chat(ADMIN_KEY, 'gpt-4o-mini')).choices[0].message.content).toBe('answered by gpt-4o-mini')
  })

  it('keeps a model the provider failed to delete, saying so (502), so the delete can be asked again', async () => {
    const { id, model } = await trained(ALICE, 'undeletable')
    await expect(client(ALICE).models.delete(model)).rejects.toMatchObject({ status: 502, code: 'model_delete_failed' })
    expect(openaiUp.deletedModels).not.toContain(model)
    expect((await chat(ALICE, model)).choices[0].message.content).toBe(`answered by ${model}`)
    expect((await call(gw, 'GET', `/api/v1/training/jobs/${id}`, { headers: bearer(ALICE) })).body.data.model_deleted_at).toBeNull()
  })

  it('deletes a Mistral fine-tuned model at Mistral too', async () => {
    const { id, model } = await trained(ALICE, 'mdel', 'open-mistral-nemo')
    expect(await client(ALICE).models.delete(model)).toEqual({ id: model, object: 'model', deleted: true })
    expect(mistralUp.deletedModels).toEqual([model])
    const events = (await client(ALICE).fineTuning.jobs.listEvents(id, { limit: 100 })).data.map((e) => e.message)
    expect(events).toContain(`The model ${model} was deleted, here and on mistral.`)
  })
})
