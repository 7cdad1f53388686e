/**
 * /v1/responses with `include: ['message.output_text.logprobs']` and `top_logprobs`, driven by the
 * official SDK against the mock provider (each word a token, certain): the answer's tokens with
 * their log probabilities in the output_text part, in the streamed deltas and the done events,
 * kept with a stored response and shown by a retrieve that asks for them; an unknown `include` value (on create, retrieve, input items and
 * conversation items) or a `top_logprobs` out of range is a 400 naming it; without either, the chat call asks for none.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'

describe('/v1/responses: log probabilities of the answer', () => {
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    gw = await startTestGateway(`version: 1
store: { plugin: embedded, memory: true, vector: false }
providers:
  mock: { plugin: mock }
routes:
  - { model: mock, targets: [ { provider: mock } ] }
surfaces:
  responses: {}
services:
  conversations: {}
`)
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  }, 60_000)
  afterAll(() => gw?.close())

  const tokensOf = (logprobs: readonly { token: string }[] | undefined) => (logprobs ?? []).map((t) => t.token)

  it('gives each token of the answer with its log probability and alternatives, stored with the response', async () => {
    const answer = await client.responses.create({ model: 'mock', input: 'hello there', include: ['message.output_text.logprobs'], top_logprobs: 2 })
    const part = answer.output[0]?.type === 'message' ? answer.output[0].content[0] : undefined
    expect(part?.type).toBe('output_text')
    if (part?.type !== 'output_text') return
    expect(tokensOf(part.logprobs).join('')).toBe(part.text)
    expect(part.logprobs![0]).toMatchObject({ logprob: 0, bytes: [...Buffer.from(part.logprobs![0]!.token)] })
    expect(part.logprobs![0]!.top_logprobs).toEqual([{ token: part.logprobs![0]!.token, logprob: 0, bytes: part.logprobs![0]!.bytes }])
    expect(answer.top_logprobs).toBe(2)
    const wire = await (await fetch(`${gw.url}/v1/responses/${answer.id}?include[]=message.output_text.logprobs`)).json()
    expectOpenAISchema('Response', wire)
    expect(wire.output[0].content[0].logprobs).toEqual(part.logprobs)

    // Without top_logprobs: the tokens, no alternatives; without include either: none at all.
    const bare = await client.responses.create({ model: 'mock', input: 'hello there', include: ['message.output_text.logprobs'] })
    const barePart = bare.output[0]?.type === 'message' ? bare.output[0].content[0] : undefined
    expect(barePart?.type === 'output_text' && barePart.logprobs?.every((t) => t.top_logprobs.length === 0 && t.logprob === 0)).toBe(true)
    const plain = await client.responses.create({ model: 'mock', input: 'hello there' })
    expect(plain.output[0]?.type === 'message' && plain.output[0].content[0]?.type === 'output_text' && plain.output[0].content[0].logprobs).toEqual([])
  })

  it('shows the stored log probabilities on a retrieve only when its include asks for them, as OpenAI does', async () => {
    const answer = await client.responses.create({ model: 'mock', input: 'hello there', include: ['message.output_text.logprobs'], top_logprobs: 1 })
    const partOf = (response: OpenAI.Responses.Response) => (response.output[0]?.type === 'message' ? response.output[0].content[0] : undefined)
    const asked = partOf(answer)
    expect(asked?.type === 'output_text' && asked.logprobs?.length).toBeGreaterThan(0)
    const plain = partOf(await client.responses.retrieve(answer.id))
    expect(plain?.type === 'output_text' && plain.logprobs).toEqual([])
    const withThem = partOf(await client.responses.retrieve(answer.id, { include: ['message.output_text.logprobs'] }))
    expect(withThem?.type === 'output_text' && withThem.logprobs).toEqual(asked?.type === 'output_text' && asked.logprobs)
    // top_logprobs without include asked the chat call for them: the create shows what it asked for.
    const byTop = await client.responses.create({ model: 'mock', input: 'hello there', top_logprobs: 1 })
    const topPart = partOf(byTop)
    expect(topPart?.type === 'output_text' && topPart.logprobs?.length).toBeGreaterThan(0)
  })

  it('streams the log probabilities with each delta, and all of them in the done events', async () => {
    const stream = await client.responses.create({ model: 'mock', input: 'one two three', include: ['message.output_text.logprobs'], top_logprobs: 1, stream: true })
    const deltas: string[] = []
    let done: { text: string; logprobs: { token: string }[] } | undefined
    let completed: OpenAI.Responses.Response | undefined
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') {
        expect(tokensOf(event.logprobs).join('')).toBe(event.delta)
        deltas.push(...tokensOf(event.logprobs))
      }
      if (event.type === 'response.output_text.done') done = event
      if (event.type === 'response.completed') completed = event.response
    }
    expect(deltas.length).toBeGreaterThan(1)
    expect(tokensOf(done?.logprobs)).toEqual(deltas)
    expect(deltas.join('')).toBe(done?.text)
    const part = completed?.output[0]?.type === 'message' ? completed.output[0].content[0] : undefined
    expect(part?.type === 'output_text' && tokensOf(part.logprobs)).toEqual(deltas)
  })

  it('refuses an include it does not know and a top_logprobs out of range, naming the field', async () => {
    await expect(client.responses.create({ model: 'mock', input: 'x', include: ['message.output_text.nonsense' as 'message.output_text.logprobs'] })).rejects.toMatchObject({ status: 400, param: 'include[0]', code: 'invalid_value' })
    await expect(client.responses.create({ model: 'mock', input: 'x', top_logprobs: 21 })).rejects.toMatchObject({ status: 400, param: 'top_logprobs' })
    // Values that add nothing to this answer (it has no reasoning, no file search) are accepted.
    expect((await client.responses.create({ model: 'mock', input: 'x', include: ['reasoning.encrypted_content', 'file_search_call.results'] })).status).toBe('completed')
  })

  it('checks `include` where OpenAI takes it (retrieve, input items, conversation items) as a create checks it, naming the value\'s place', async () => {
    const bad = 'message.output_text.nonsense' as 'file_search_call.results'
    const refused = { status: 400, param: 'include[1]', code: 'invalid_value' }
    const response = await client.responses.create({ model: 'mock', input: 'x' })
    await expect(client.responses.create({ model: 'mock', input: 'x', include: ['file_search_call.results', bad] })).rejects.toMatchObject(refused)
    await expect(client.responses.retrieve(response.id, { include: ['file_search_call.results', bad] })).rejects.toMatchObject(refused)
    await expect(client.responses.inputItems.list(response.id, { include: ['file_search_call.results', bad] })).rejects.toMatchObject(refused)
    const conversation = await client.conversations.create({ items: [{ type: 'message', role: 'user', content: 'hi' }] })
    await expect(client.conversations.items.list(conversation.id, { include: ['file_search_call.results', bad] })).rejects.toMatchObject(refused)
    const [item] = (await client.conversations.items.list(conversation.id)).data
    await expect(client.conversations.items.retrieve(item!.id!, { conversation_id: conversation.id, include: ['file_search_call.results', bad] })).rejects.toMatchObject(refused)
    await expect(client.conversations.items.create(conversation.id, { items: [{ type: 'message', role: 'user', content: 'again' }], include: ['file_search_call.results', bad] })).rejects.toMatchObject(refused)
    // One value as plain `include=` (curl) is read too; valid values are taken everywhere.
    const plain = await fetch(`${gw.url}/v1/responses/${response.id}?include=${bad}`, { headers: { authorization: 'Bearer unused' } })
    expect(plain.status).toBe(400)
    expect((await plain.json()).error).toMatchObject({ param: 'include[0]', code: 'invalid_value' })
    expect((await client.responses.retrieve(response.id, { include: ['file_search_call.results', 'message.output_text.logprobs'] })).id).toBe(response.id)
    expect((await client.responses.inputItems.list(response.id, { include: ['message.input_image.image_url'] })).data).toHaveLength(1)
  })
})
