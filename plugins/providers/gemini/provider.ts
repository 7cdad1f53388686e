/**
 * The Gemini provider: the unified API over Gemini's REST wire (the Gemini Developer API). Chat and
 * embeddings go over the kit's pooled keep-alive client (wire-client.ts), as JSON text read back
 * as bytes; model lists through @google/genai, imported on the first list.
 */
import type { EmbedContentResponse, GenerateContentResponse, GoogleGenAI } from '@google/genai'
import { pathSegments, requestNotSent, type ChatRequest, type ChatResult, type EmbeddingRequest, type EmbeddingResponse, type ModelInfo, type Provider, type ProviderCall } from '../../../plugin-api/index.ts'
import { embeddingTexts } from '../kit/provider-kit.ts'
import { withinOutputCap, type OutputCap } from '../kit/output-cap.ts'
import type { WireClient } from '../kit/wire-client.ts'
import { toEmbeddingResponse } from './embeddings.ts'
import { toGatewayError } from './errors.ts'
import { toGeminiRequest } from './request.ts'
import { toChatResponse, type AnswerContext } from './response.ts'
import { toChatChunks } from './stream.ts'

export interface GeminiProviderOptions {
  /** The instance name in gateway.yaml, for error messages. */
  name: string
  /** The API version path segment (v1beta). */
  apiVersion: string
  /** The target model's output cap (output-cap.ts): an answer bound above it is lowered to it. */
  outputCap?: OutputCap
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/**
 * A model's resource name, as the SDK makes it: `models/{model}` unless it names one already (a
 * tuned model), escaped for the URL. A name with `..` is refused before sending, as the SDK does.
 */
function resourceName(model: string, provider: string): string {
  if (model.includes('..')) throw requestNotSent(provider, new Error('invalid model parameter'))
  const escaped = pathSegments(model)
  return escaped.startsWith('models/') || escaped.startsWith('tunedModels/') ? escaped : `models/${escaped}`
}

export function createGeminiProvider(client: WireClient, sdk: () => Promise<GoogleGenAI>, options: GeminiProviderOptions): Provider {
  const { name, apiVersion } = options
  const path = (model: string, method: string): string => `/${apiVersion}/${model}:${method}`

  async function chat(req: ChatRequest, call: ProviderCall): Promise<ChatResult> {
    const body = toGeminiRequest(withinOutputCap(req, options.outputCap, call), call)
    const model = resourceName(req.model, name)
    const context: AnswerContext = { id: `chatcmpl-${call.requestId}`, created: nowSeconds(), model: req.model, requestId: call.requestId }
    let answer: unknown
    try {
      answer = req.stream
        ? await client.post(path(model, 'streamGenerateContent?alt=sse'), body, { signal: call, headers: call.headers, stream: true })
        : await client.postForObject(path(model, 'generateContent'), body, { signal: call, headers: call.headers })
    } catch (err) {
      throw toGatewayError(err, name, call, 'call')
    }
    if (!req.stream) return toChatResponse(answer as GenerateContentResponse, context)
    const source = answer as AsyncIterable<GenerateContentResponse>
    return toChatChunks(source, { ...context, includeUsage: req.stream_options?.include_usage === true }, (err) => toGatewayError(err, name, call))
  }

  async function embed(req: EmbeddingRequest, call: ProviderCall): Promise<EmbeddingResponse> {
    const texts = embeddingTexts(req.input, 'Gemini')
    if (req.user) call.unsupported('user', 'Gemini has no end-user field')
    const model = resourceName(req.model, name)
    // One request per text: one embedding each (a list of bare strings would be one multi-part input).
    const requests = texts.map((text) => ({ content: { parts: [{ text }] }, ...(req.dimensions != null ? { outputDimensionality: req.dimensions } : {}), model }))
    let answer: EmbedContentResponse
    try {
      answer = await client.postForObject(path(model, 'batchEmbedContents'), { requests }, { signal: call, headers: call.headers }) as EmbedContentResponse
    } catch (err) {
      throw toGatewayError(err, name, call, 'call')
    }
    return toEmbeddingResponse(answer, req, texts.length, name)
  }

  async function listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    try {
      const pager = await (await sdk()).models.list({ config: { pageSize: 1000, abortSignal: signal } })
      const models: ModelInfo[] = []
      for await (const model of pager) {
        if (model.name) models.push({ id: model.name.replace(/^models\//, ''), object: 'model', created: 0, owned_by: 'google' })
      }
      return models
    } catch (err) {
      throw toGatewayError(err, name, signal)
    }
  }

  return { chat, embed, listModels, dispose: () => client.close() }
}
