/** The unified API: the OpenAI wire shapes every provider plugin translates to and from. */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionContentPart,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions'
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings'
import type { Model } from 'openai/resources/models'

/** A chat request as the client sent it (model is the route name until routing rewrites it). */
export type ChatRequest = ChatCompletionCreateParams & { metadata?: Record<string, string> | null }
export type ChatResponse = ChatCompletion
export type ChatChunk = ChatCompletionChunk
export type ChatMessage = ChatCompletionMessageParam
export type ChatTool = ChatCompletionTool
export type ChatContentPart = ChatCompletionContentPart
export type ChatToolCall = ChatCompletionMessageToolCall
export type EmbeddingRequest = EmbeddingCreateParams
export type EmbeddingResponse = CreateEmbeddingResponse
export type ModelInfo = Model

/** Token usage in the unified shape. */
export type Usage = NonNullable<ChatCompletion['usage']>

/** A streamed chat result. */
export type ChatStream = AsyncIterable<ChatChunk>

/** What `Provider.chat` resolves to: a whole response, or a stream when the request asked for one. */
export type ChatResult = ChatResponse | ChatStream

export function isChatStream(result: ChatResult): result is ChatStream {
  return typeof (result as ChatStream)[Symbol.asyncIterator] === 'function'
}

/** The final usage chunk the gateway sends itself when the client asked for usage and the upstream sent none: its own count, marked. */
export function countedUsageChunk(last: Pick<ChatChunk, 'id' | 'created' | 'model'>, usage: Usage): ChatChunk {
  return { id: last.id, object: 'chat.completion.chunk', created: last.created, model: last.model, choices: [], usage, x_gateway: { usage: 'counted' } } as ChatChunk
}
