import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { postJson, startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { EMBEDDINGS_PATH, EMBEDDING_MODEL, gatewayConfig, startMistralUpstream } from './mistral-upstream.ts'

const VECTORS = [[0.25, -0.5, 0.125], [1, 0, -1]]

describe('mistral: embeddings', () => {
  let upstream: Awaited<ReturnType<typeof startMistralUpstream>>
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    upstream = await startMistralUpstream({
      [EMBEDDINGS_PATH]: (req, res) => {
        const inputs: string[] = Array.isArray(req.body.input) ? req.body.input : [req.body.input]
        sendJson(res, 200, {
          id: 'embd-0001', object: 'list', model: EMBEDDING_MODEL,
          data: inputs.map((_text, index) => ({ object: 'embedding', embedding: VECTORS[index], index })),
          usage: { prompt_tokens: 9, total_tokens: 9, completion_tokens: 0 },
        })
      },
    })
    gw = await startTestGateway(gatewayConfig(upstream.url))
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gw.close()
    await upstream.close()
  })
  beforeEach(() => { upstream.requests.length = 0 })

  it('embeds the inputs with mistral-embed and answers float vectors with Mistral\'s usage', async () => {
    const res = await client.embeddings.create({ model: 'embed', input: ['first text', 'second text'], encoding_format: 'float' })
    expect(upstream.requests.at(-1)!.body).toEqual({ model: EMBEDDING_MODEL, input: ['first text', 'second text'] })
    expect(res.data.map((d) => [d.index, d.embedding])).toEqual([[0, VECTORS[0]], [1, VECTORS[1]]])
    expect(res.usage).toEqual({ prompt_tokens: 9, total_tokens: 9 })
    expectOpenAISchema('CreateEmbeddingResponse', res)
  })

  it('computes base64 (little-endian float32) itself, always asking Mistral for floats', async () => {
    const { status, body } = await postJson(`${gw.url}/v1/embeddings`, { model: 'embed', input: 'first text', encoding_format: 'base64', dimensions: 3 })
    expect(status).toBe(200)
    expect(upstream.requests.at(-1)!.body).toEqual({ model: EMBEDDING_MODEL, input: ['first text'], output_dimension: 3 })
    const bytes = Buffer.from(body.data[0].embedding, 'base64')
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))).toEqual(VECTORS[0])
  })

  it('decodes right in the official SDK, which asks for base64 by default', async () => {
    const res = await client.embeddings.create({ model: 'embed', input: 'first text' })
    expect(res.data[0].embedding).toEqual(VECTORS[0])
  })

  it('rejects token-array input, which Mistral cannot embed', async () => {
    // [1, 2, 3] is one text as token ids: `input` itself is the token array.
    const err = await client.embeddings.create({ model: 'embed', input: [1, 2, 3] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ code: 'unsupported_input', param: 'input', message: 'input is a token array; Mistral embeds text only.' })
    expect(upstream.requests).toHaveLength(0)
  })
})
