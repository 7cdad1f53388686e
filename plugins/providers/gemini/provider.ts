/** The Gemini provider: the unified API over one @google/genai client (the Gemini Developer API). */
import type { GoogleGenAI, HttpOptions } from '@google/genai'
import { pathSegments, type ChatRequest, type ChatResult, type EmbeddingRequest, type EmbeddingResponse, type ModelInfo, type Provider, type ProviderCall } from '../../../plugin-api/index.ts'
import { Deadline, embeddingTexts } from '../kit/provider-kit.ts'
import { toEmbeddingResponse } from './embeddings.ts'
import { toGatewayError } from './errors.ts'
import { toGeminiRequest } from './request.ts'
import { toChatResponse, type AnswerContext } from './response.ts'
import { toChatChunks } from './stream.ts'

export interface GeminiProviderOptions {
  /** The instance name in gateway.yaml, for error messages. */
  name: string
  timeoutMs: number
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** Per-call headers (route/target overrides) as SDK request options; undefined when there are none. */
const httpOptionsFor = (call: ProviderCall): HttpOptions | undefined =>
  call.headers && Object.keys(call.headers).length ? { headers: { ...call.headers } } : undefined

export function createGeminiProvider(client: GoogleGenAI, options: GeminiProviderOptions): Provider {
  const { name, timeoutMs } = options

  async function chat(req: ChatRequest, call: ProviderCall): Promise<ChatResult> {
    const { contents, config } = toGeminiRequest(req, call)
    const deadline = new Deadline(call.signal, timeoutMs)
    config.abortSignal = deadline.signal
    config.httpOptions = httpOptionsFor(call)
    // The SDK puts the model into the URL as it is (`models/{model}:generateContent`): escaped here.
    const params = { model: pathSegments(req.model), contents, config }
    const context: AnswerContext = { id: `chatcmpl-${call.requestId}`, created: nowSeconds(), model: req.model, requestId: call.requestId }
    const mapError = (err: unknown): unknown => toGatewayError(err, name, deadline.expired)
    try {
      if (req.stream) {
        const source = await client.models.generateContentStream(params)
        return toChatChunks(source, { ...context, includeUsage: req.stream_options?.include_usage === true }, mapError)
      }
      const response = await client.models.generateContent(params)
      return toChatResponse(response, context)
    } catch (err) {
      throw toGatewayError(err, name, deadline.expired, 'call')
    } finally {
      // Whole answer read, stream started, or failed: the wait is over either way.
      deadline.settle()
    }
  }

  async function embed(req: EmbeddingRequest, call: ProviderCall): Promise<EmbeddingResponse> {
    const texts = embeddingTexts(req.input, 'Gemini')
    if (req.user) call.unsupported('user', 'Gemini has no end-user field')
    const deadline = new Deadline(call.signal, timeoutMs)
    try {
      const response = await client.models.embedContent({
        model: pathSegments(req.model),
        // One Content per text: one embedding each (a list of bare strings would be one multi-part input).
        contents: texts.map((text) => ({ parts: [{ text }] })),
        config: { abortSignal: deadline.signal, outputDimensionality: req.dimensions, httpOptions: httpOptionsFor(call) },
      })
      return toEmbeddingResponse(response, req, texts.length, name)
    } catch (err) {
      throw toGatewayError(err, name, deadline.expired, 'call')
    } finally {
      deadline.settle()
    }
  }

  async function listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    try {
      const pager = await client.models.list({ config: { pageSize: 1000, abortSignal: signal } })
      const models: ModelInfo[] = []
      for await (const model of pager) {
        if (model.name) models.push({ id: model.name.replace(/^models\//, ''), object: 'model', created: 0, owned_by: 'google' })
      }
      return models
    } catch (err) {
      throw toGatewayError(err, name, false)
    }
  }

  return { chat, embed, listModels }
}
