/**
 * Embeddings as the official openai Node SDK asks for them. Left to itself the SDK sends
 * `encoding_format: base64` and decodes every vector from base64 without looking; whatever the
 * route's provider answers (OpenAI's base64, a compatible server's floats, a translated
 * provider's vectors), the SDK must get the vectors the upstream computed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { startOpenAIUpstream, type OpenAIUpstream } from '../../helpers/openai-upstream.ts'
import { sendJson, startUpstream, type MockUpstream } from '../../helpers/upstream.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'

/** The vector both upstreams compute: exact in float32, so a decoded base64 vector compares equal. */
const vectorFor = (dimensions = 4): number[] => Array.from({ length: dimensions }, (_, i) => (i + 1) / 8 - 0.25)

let gw: RunningGateway
let openai: OpenAIUpstream
/** A compatible server (Ollama-like) that answers floats whatever `encoding_format` asks; `proxied` reaches it through provider.openai's passthrough. */
let floatsOnly: MockUpstream

beforeAll(async () => {
  openai = await startOpenAIUpstream({ embed: (_text, dimensions) => vectorFor(dimensions) })
  floatsOnly = await startUpstream((req, res) => {
    const inputs: string[] = Array.isArray(req.body.input) ? req.body.input : [req.body.input]
    sendJson(res, 200, {
      object: 'list', model: req.body.model,
      data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: vectorFor(req.body.dimensions) })),
      usage: { prompt_tokens: 2, total_tokens: 2 },
    })
  })
  gw = await startTestGateway(`version: 1
providers:
  oa: { plugin: openai, api_key: sk-test, base_url: "${openai.url}/v1" }
  local: { plugin: openai-compatible, base_url: "${floatsOnly.url}/v1" }
  proxied: { plugin: openai, api_key: sk-test, base_url: "${floatsOnly.url}/v1" }
  m: { plugin: mock, embedding_dimensions: 6 }
routes:
  - { model: openai-embed, targets: [ { provider: oa, model: text-embedding-3-small } ] }
  - { model: local-embed, targets: [ { provider: local, model: nomic-embed-text } ] }
  - { model: proxied-embed, targets: [ { provider: proxied, model: nomic-embed-text } ] }
  - { model: mock-embed, targets: [ { provider: m } ] }
`)
})
afterAll(async () => {
  await gw?.close()
  await openai?.close()
  await floatsOnly?.close()
})

const sdk = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })

describe('embeddings through the openai SDK', () => {
  it.each(['openai-embed', 'local-embed', 'proxied-embed'])('%s: the SDK default (base64) decodes to the upstream\'s vectors, one per input', async (model) => {
    const answer = await sdk().embeddings.create({ model, input: ['first text', 'second text'] })
    expect(answer.data.map((d) => Array.from(d.embedding))).toEqual([vectorFor(), vectorFor()])
    expect(answer.data.map((d) => d.index)).toEqual([0, 1])
  })

  it('a compatible server that ignores encoding_format still gives a base64 client base64', async () => {
    const { data: raw } = await sdk().embeddings.create({ model: 'local-embed', input: 'x', encoding_format: 'base64' }).withResponse()
    const embedding = raw.data[0].embedding as unknown as string
    expect(typeof embedding).toBe('string')
    expect(Array.from(new Float32Array(Uint8Array.from(Buffer.from(embedding, 'base64')).buffer))).toEqual(vectorFor())
  })

  it.each(['openai-embed', 'local-embed'])('%s: dimensions reaches the upstream and shapes the vector', async (model) => {
    const answer = await sdk().embeddings.create({ model, input: 'hello', dimensions: 2 })
    expect(Array.from(answer.data[0].embedding)).toEqual(vectorFor(2))
    const seen = model === 'openai-embed' ? openai.embeddings().at(-1)! : floatsOnly.requests.at(-1)!
    expect(seen.body.dimensions).toBe(2)
  })

  it.each(['openai-embed', 'local-embed', 'mock-embed'])('%s: encoding_format float answers floats in OpenAI\'s schema', async (model) => {
    const answer = await sdk().embeddings.create({ model, input: 'hello', encoding_format: 'float' })
    expectOpenAISchema('CreateEmbeddingResponse', answer)
    expect(answer.data[0].embedding.every((v) => typeof v === 'number')).toBe(true)
  })

  it('the mock provider: the SDK default decodes to unit vectors of the asked dimensions', async () => {
    const six = await sdk().embeddings.create({ model: 'mock-embed', input: 'hello' })
    expect(six.data[0].embedding).toHaveLength(6)
    expect(Math.hypot(...six.data[0].embedding)).toBeCloseTo(1, 5)
    const three = await sdk().embeddings.create({ model: 'mock-embed', input: 'hello', dimensions: 3 })
    expect(three.data[0].embedding).toHaveLength(3)
  })
})

describe('the mock provider reads input as every provider does (embeddingInputs)', () => {
  it('[1, 2, 3] is one tokenised input: one embedding, three tokens', async () => {
    const answer = await sdk().embeddings.create({ model: 'mock-embed', input: [1, 2, 3], encoding_format: 'float' })
    expect(answer.data).toHaveLength(1)
    expect(answer.data[0].embedding).toHaveLength(6)
    expect(answer.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 })
  })

  it('[[1, 2], [3, 4, 5]] is two: two embeddings, five tokens; texts count their words', async () => {
    const tokens = await sdk().embeddings.create({ model: 'mock-embed', input: [[1, 2], [3, 4, 5]], encoding_format: 'float' })
    expect(tokens.data.map((d) => d.index)).toEqual([0, 1])
    expect(tokens.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 })
    const texts = await sdk().embeddings.create({ model: 'mock-embed', input: ['two words', 'three more words'], encoding_format: 'float' })
    expect(texts.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 })
  })
})
