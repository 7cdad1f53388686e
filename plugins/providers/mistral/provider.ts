/** The Mistral provider: the unified API over one @mistralai/mistralai client. */
import type { Mistral } from '@mistralai/mistralai'
import type { ChatRequest, ChatResult, EmbeddingRequest, EmbeddingResponse, ModelInfo } from '../../../plugin-api/index.ts'
import type { Provider, ProviderCall } from '../../../plugin-api/index.ts'
import { Deadline, embeddingTexts } from '../kit/provider-kit.ts'
import { toEmbeddingResponse } from './embeddings.ts'
import { toGatewayError } from './errors.ts'
import { toMistralRequest } from './request.ts'
import { toChatResponse } from './response.ts'
import { toChatChunks } from './stream.ts'

export interface MistralProviderOptions {
  /** The instance name in gateway.yaml, for error messages. */
  name: string
  timeoutMs: number
  /** Extra headers for every request (the SDK has no client-wide headers option). */
  headers?: Record<string, string>
  safePrompt: boolean
}

/** The gateway owns retries and fallbacks: the SDK makes one attempt. */
const NO_RETRIES = { strategy: 'none' } as const

export function createMistralProvider(client: Mistral, options: MistralProviderOptions): Provider {
  const { name, timeoutMs, safePrompt } = options

  /** Per-call SDK options: one signal (the caller's joined with the timeout), no retries, the headers. */
  const requestOptions = (call: ProviderCall, deadline: Deadline) => {
    const headers = call.headers && Object.keys(call.headers).length ? { ...options.headers, ...call.headers } : options.headers
    return { signal: deadline.signal, retries: NO_RETRIES, ...(headers ? { headers } : {}) }
  }

  async function chat(req: ChatRequest, call: ProviderCall): Promise<ChatResult> {
    const request = toMistralRequest(req, call, { safePrompt })
    const deadline = new Deadline(call.signal, timeoutMs)
    const mapError = (err: unknown): unknown => toGatewayError(err, name, deadline.expired)
    try {
      if (req.stream) {
        const events = await client.chat.stream({ ...request, stream: true }, requestOptions(call, deadline))
        return toChatChunks(events, { includeUsage: req.stream_options?.include_usage === true, provider: name }, mapError)
      }
      return toChatResponse(await client.chat.complete(request, requestOptions(call, deadline)), name)
    } catch (err) {
      throw toGatewayError(err, name, deadline.expired, 'call')
    } finally {
      // Whole answer read, stream started, or failed: the wait is over either way.
      deadline.settle()
    }
  }

  async function embed(req: EmbeddingRequest, call: ProviderCall): Promise<EmbeddingResponse> {
    const inputs = embeddingTexts(req.input, 'Mistral')
    if (req.user) call.unsupported('user', 'Mistral has no end-user field')
    const deadline = new Deadline(call.signal, timeoutMs)
    try {
      const response = await client.embeddings.create(
        { model: req.model, inputs, ...(req.dimensions ? { outputDimension: req.dimensions } : {}) },
        requestOptions(call, deadline),
      )
      return toEmbeddingResponse(response, req)
    } catch (err) {
      throw toGatewayError(err, name, deadline.expired, 'call')
    } finally {
      deadline.settle()
    }
  }

  async function listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
    try {
      const list = await client.models.list(undefined, { retries: NO_RETRIES, ...(signal ? { signal } : {}), ...(options.headers ? { headers: options.headers } : {}) })
      return (list.data ?? []).flatMap((model) => {
        const card = model as { id?: unknown; created?: unknown; ownedBy?: unknown }
        if (typeof card.id !== 'string') return []
        return [{ id: card.id, object: 'model' as const, created: typeof card.created === 'number' ? card.created : 0, owned_by: typeof card.ownedBy === 'string' ? card.ownedBy : 'mistralai' }]
      })
    } catch (err) {
      throw toGatewayError(err, name, false)
    }
  }

  return { chat, embed, listModels }
}
