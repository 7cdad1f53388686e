import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import { postJson } from '../../helpers/gateway.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { EMBEDDING_MODEL, gatewayConfig, embedPath, startGeminiUpstream } from './gemini-upstream.ts'

/** batchEmbedContents answers one `{ values }` per request, in order. */
const VECTORS = [[0.25, -0.5, 0.125], [1, 0, -1]]

describe('gemini: embeddings through batchEmbedContents', () => {
  let upstream: Awaited<ReturnType<typeof startGeminiUpstream>>
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    upstream = await startGeminiUpstream({
      [embedPath()]: (req, res) => sendJson(res, 200, { embeddings: (req.body.requests as unknown[]).map((_r, i) => ({ values: VECTORS[i] })) }),
    })
    gw = await startTestGateway(gatewayConfig(upstream.url))
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gw.close()
    await upstream.close()
  })
  beforeEach(() => { upstream.requests.length = 0 })

  it('embeds each input as its own request and answers float vectors in order', async () => {
    const res = await client.embeddings.create({ model: 'embed', input: ['first text', 'second text'], encoding_format: 'float', dimensions: 3 })
    expect(upstream.requests.at(-1)!.body).toEqual({
      requests: [
        { model: `models/${EMBEDDING_MODEL}`, content: { parts: [{ text: 'first text' }] }, outputDimensionality: 3 },
        { model: `models/${EMBEDDING_MODEL}`, content: { parts: [{ text: 'second text' }] }, outputDimensionality: 3 },
      ],
    })
    expect(res.data.map((d) => [d.index, d.embedding])).toEqual([[0, VECTORS[0]], [1, VECTORS[1]]])
    expect(res.model).toBe(EMBEDDING_MODEL)
    expectOpenAISchema('CreateEmbeddingResponse', res)
  })

  it('encodes vectors as little-endian float32 base64 when asked', async () => {
    const { status, body } = await postJson(`${gw.url}/v1/embeddings`, { model: 'embed', input: 'first text', encoding_format: 'base64' })
    expect(status).toBe(200)
    const bytes = Buffer.from(body.data[0].embedding, 'base64')
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))).toEqual(VECTORS[0])
  })

  it('rejects token-array input, which Gemini cannot embed', async () => {
    const err = await client.embeddings.create({ model: 'embed', input: [[1, 2, 3]] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ code: 'unsupported_input', param: 'input[0]' })
    expect(upstream.requests).toHaveLength(0)
  })
})
