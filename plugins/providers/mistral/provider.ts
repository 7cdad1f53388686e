/**
 * The Mistral provider: the unified API over Mistral's wire. Chat and embeddings go over the kit's
 * pooled keep-alive client (wire-client.ts), written in the SDK's wire types and read as JSON
 * (wire.ts); model lists through the @mistralai/mistralai client, imported on the first list.
 */
import type { Mistral } from '@mistralai/mistralai'
import type { ChatRequest, ChatResult, EmbeddingRequest, EmbeddingResponse, ModelInfo } from '../../../plugin-api/index.ts'
import type { Provider, ProviderCall } from '../../../plugin-api/index.ts'
import { embeddingTexts } from '../kit/provider-kit.ts'
import { withinOutputCap, type OutputCap } from '../kit/output-cap.ts'
import type { WireClient } from '../kit/wire-client.ts'
import { toEmbeddingResponse } from './embeddings.ts'
import { toGatewayError } from './errors.ts'
import { toMistralRequest } from './request.ts'
import { carriesFileTexts, withFileTextsAsText } from '../../contracts/file-text.ts'
import { toChatResponse } from './response.ts'
import { toChatChunks } from './stream.ts'
import { chatRequestJson, chatResponseOf, completionEvents, embeddingRequestJson, embeddingResponseOf } from './wire.ts'

export interface MistralProviderOptions {
  /** The instance name in gateway.yaml, for error messages. */
  name: string
  /** Extra headers for every request (the SDK client has no client-wide headers option: its model list takes them per call). */
  headers?: Record<string, string>
  safePrompt: boolean
  /** The target model's output cap (output-cap.ts): an answer bound above it is lowered to it. */
  outputCap?: OutputCap
}

/** The gateway owns retries and fallbacks: the SDK makes one attempt. */
const NO_RETRIES = { strategy: 'none' } as const

/** A stream is asked for as the SDK asks for it. */
const STREAM_HEADERS: Readonly<Record<string, string>> = { accept: 'text/event-stream' }

export function createMistralProvider(client: WireClient, sdk: () => Promise<Mistral>, options: MistralProviderOptions): Provider {
  const { name, safePrompt } = options

  async function chat(req: ChatRequest, call: ProviderCall): Promise<ChatResult> {
    // Mistral's chat takes no file part: a chat's attached PDF goes as its text (file-text.ts).
    const asked = carriesFileTexts(req) ? await withFileTextsAsText(req) : req
    const request = toMistralRequest(withinOutputCap(asked, options.outputCap, call), call, { safePrompt })
    try {
      const payload = chatRequestJson(request, name)
      if (req.stream) {
        const data = await client.send('/chat/completions', payload, { signal: call, headers: call.headers ? { ...STREAM_HEADERS, ...call.headers } : STREAM_HEADERS })
        return toChatChunks(completionEvents(data, name), { includeUsage: req.stream_options?.include_usage === true, provider: name }, (err) => toGatewayError(err, name, call))
      }
      const answer = await client.sendWhole('/chat/completions', payload, { signal: call, headers: call.headers })
      return toChatResponse(chatResponseOf(answer.bytes, name), name)
    } catch (err) {
      throw toGatewayError(err, name, call, 'call')
    }
  }

  async function embed(req: EmbeddingRequest, call: ProviderCall): Promise<EmbeddingResponse> {
    const inputs = embeddingTexts(req.input, 'Mistral')
    if (req.user) call.unsupported('user', 'Mistral has no end-user field')
    try {
      const payload = embeddingRequestJson({ model: req.model, input: inputs, ...(req.dimensions ? { output_dimension: req.dimensions } : {}) }, name)
      const answer = await client.sendWhole('/embeddings', payload, { signal: call, headers: call.headers })
      return toEmbeddingResponse(embeddingResponseOf(answer.bytes, name), req)
    } catch (err) {
      throw toGatewayError(err, name, call, 'call')
    }
  }

  async function listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    try {
      const list = await (await sdk()).models.list(undefined, { retries: NO_RETRIES, ...(signal ? { signal } : {}), ...(options.headers ? { headers: options.headers } : {}) })
      return (list.data ?? []).flatMap((model) => {
        const card = model as { id?: unknown; created?: unknown; ownedBy?: unknown }
        if (typeof card.id !== 'string') return []
        return [{ id: card.id, object: 'model' as const, created: typeof card.created === 'number' ? card.created : 0, owned_by: typeof card.ownedBy === 'string' ? card.ownedBy : 'mistralai' }]
      })
    } catch (err) {
      throw toGatewayError(err, name, signal)
    }
  }

  return { chat, embed, listModels, dispose: () => client.close() }
}
