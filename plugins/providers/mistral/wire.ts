/**
 * Mistral's wire, written and read by the official SDK's own schemas: the SDK's types are
 * camelCase (`maxTokens`, `toolCalls`, `schemaDefinition`) and its schemas map them to and from
 * what the API speaks (`max_tokens`, `tool_calls`, `schema`), so the translation stays the SDK's.
 * Only the schemas are used, not the SDK's fetch path, which cost about six times the gateway's
 * CPU per request (bench/providers.ts); they cost ~30-45 µs a call of their own (zod).
 */
import type { ChatCompletionRequest } from '@mistralai/mistralai/models/components/chatcompletionrequest.js'
import type { ChatCompletionResponse } from '@mistralai/mistralai/models/components/chatcompletionresponse.js'
import type { CompletionEvent } from '@mistralai/mistralai/models/components/completionevent.js'
import type { EmbeddingRequest } from '@mistralai/mistralai/models/components/embeddingrequest.js'
import type { EmbeddingResponse } from '@mistralai/mistralai/models/components/embeddingresponse.js'
import { requestNotSent, upstreamError } from '../../../plugin-api/index.ts'
import { DONE, type EventData } from '../kit/wire-client.ts'

const MAX_MESSAGE = 1000

/** A request the SDK's schema refuses was never sent: the client's 400, not the upstream's failure. */
function written(provider: string, write: () => unknown): string {
  let body: unknown
  try {
    body = write()
  } catch (err) {
    if (err instanceof RangeError) throw requestNotSent(provider, err)
    throw requestNotSent(provider, new Error(`it does not fit Mistral's API: ${(err as Error).message.slice(0, MAX_MESSAGE)}`))
  }
  return JSON.stringify(body)
}

/** An answer the SDK's schema cannot read is the upstream's fault. */
function read<T>(provider: string, parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    throw upstreamError(502, `unreadable answer: ${(err as Error).message.slice(0, MAX_MESSAGE)}`, { provider, cause: err })
  }
}

/** Mistral's requests as JSON text and its answers as the SDK's types, by the SDK's schemas. */
export interface MistralWire {
  chatRequestJson(request: ChatCompletionRequest, provider: string): string
  streamRequestJson(request: ChatCompletionRequest, provider: string): string
  embeddingRequestJson(request: EmbeddingRequest, provider: string): string
  chatResponseOf(bytes: Buffer, provider: string): ChatCompletionResponse
  embeddingResponseOf(bytes: Buffer, provider: string): EmbeddingResponse
  completionEvents(data: EventData, provider: string): AsyncGenerator<CompletionEvent>
}

/** The schemas, imported when a Mistral provider is set up: a gateway without one never loads them. */
export async function mistralWire(): Promise<MistralWire> {
  const [request, streamRequest, response, event, embeddingRequest, embeddingResponse] = await Promise.all([
    import('@mistralai/mistralai/models/components/chatcompletionrequest.js'),
    import('@mistralai/mistralai/models/components/chatcompletionstreamrequest.js'),
    import('@mistralai/mistralai/models/components/chatcompletionresponse.js'),
    import('@mistralai/mistralai/models/components/completionevent.js'),
    import('@mistralai/mistralai/models/components/embeddingrequest.js'),
    import('@mistralai/mistralai/models/components/embeddingresponse.js'),
  ])
  return {
    chatRequestJson: (body, provider) => written(provider, () => request.ChatCompletionRequest$outboundSchema.parse(body)),
    streamRequestJson: (body, provider) => written(provider, () => streamRequest.ChatCompletionStreamRequest$outboundSchema.parse({ ...body, stream: true })),
    embeddingRequestJson: (body, provider) => written(provider, () => embeddingRequest.EmbeddingRequest$outboundSchema.parse(body)),
    chatResponseOf: (bytes, provider) => read(provider, () => response.ChatCompletionResponse$inboundSchema.parse(JSON.parse(bytes.toString('utf8')))),
    embeddingResponseOf: (bytes, provider) => read(provider, () => embeddingResponse.EmbeddingResponse$inboundSchema.parse(JSON.parse(bytes.toString('utf8')))),
    async *completionEvents(data, provider) {
      for await (const text of data) {
        if (text === DONE) continue
        yield read(provider, () => event.CompletionEvent$inboundSchema.parse({ data: text }))
      }
    },
  }
}
