/**
 * `client.models.list()` and `client.models.retrieve(id)` as the official openai Node SDK calls
 * them: every name a chat request may use can be retrieved (an alias, a name a glob route
 * answers, a name with a slash), in OpenAI's Model schema; a name the caller may not use is a
 * NotFoundError, as OpenAI answers it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'

const ALICE = 'sk-alice-0123456789abcdef'
const SAM = 'sk-sam-0123456789abcdef0'

let gw: RunningGateway

beforeAll(async () => {
  gw = await startTestGateway(`version: 1
providers:
  m: { plugin: mock }
routes:
  - { model: chat-default, aliases: [default], targets: [ { provider: m } ] }
  - { model: "claude-*", targets: [ { provider: m } ] }
  - { model: openai/gpt-4o, targets: [ { provider: m } ] }
  - { model: secret, targets: [ { provider: m } ] }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: ${ALICE}, user: alice, role: admin, department: research }
        - { key: ${SAM}, user: sam, role: user, department: sales }
departments:
  research: {}
  sales: { models: [chat-default, default, "claude-*", openai/gpt-4o] }
`)
})
afterAll(async () => { await gw?.close() })

const sdk = (apiKey = ALICE) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 })
const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] })

describe('models through the openai SDK', () => {
  it('models.list() answers OpenAI\'s list schema, each entry a Model', async () => {
    const page = await sdk().models.list()
    expectOpenAISchema('ListModelsResponse', { object: 'list', data: page.data })
    expect(page.data.map((m) => m.id)).toEqual(expect.arrayContaining(['chat-default', 'default', 'openai/gpt-4o', 'secret']))
  })

  it.each(['chat-default', 'default', 'openai/gpt-4o', 'claude-3-5-haiku'])('models.retrieve(%j) answers every name chat answers', async (id) => {
    await sdk().chat.completions.create(hello(id))
    const model = await sdk().models.retrieve(id)
    expectOpenAISchema('Model', model)
    expect(model).toMatchObject({ id, object: 'model' })
  })

  it('a name no route answers, or one the caller\'s department may not use, is a NotFoundError with code model_not_found', async () => {
    for (const [key, id] of [[ALICE, 'gpt-9'], [SAM, 'secret']] as const) {
      const err = await sdk(key).models.retrieve(id).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.NotFoundError)
      expect(err).toMatchObject({ code: 'model_not_found', param: 'model' })
    }
    expect((await sdk(SAM).models.list()).data.map((m) => m.id)).not.toContain('secret')
  })
})
