/** The unified API: the OpenAI wire shapes every provider plugin translates to and from. */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionContentPart,
  ChatCompletionMessageToolCall,
  ChatCompletionMessageFunctionToolCall,
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
export type Usage = NonNullable<ChatCompletion['usage']> & { prompt_tokens_details?: PromptTokensDetails }

/**
 * OpenAI's prompt details, and `cache_write_1h_tokens`: of `cache_write_tokens`, those written to a
 * 1-hour cache (Anthropic bills them at 2x input, its 5-minute writes at 1.25x), where the provider says.
 */
export type PromptTokensDetails = NonNullable<NonNullable<ChatCompletion['usage']>['prompt_tokens_details']> & { cache_write_1h_tokens?: number }

/** A streamed chat result. */
export type ChatStream = AsyncIterable<ChatChunk>

/** What `Provider.chat` resolves to: a whole response, or a stream when the request asked for one. */
export type ChatResult = ChatResponse | ChatStream

export function isChatStream(result: ChatResult): result is ChatStream {
  return typeof (result as ChatStream)[Symbol.asyncIterator] === 'function'
}

/**
 * Which stop sequence ended a choice, where the upstream says: `stop_reason` on the choice (a stream's
 * on its finish chunk), as vLLM writes it: one of the request's `stop` strings (a token id or null
 * when something else stopped it). OpenAI does not say; provider.anthropic sets it from Anthropic's
 * `stop_sequence`, so a Claude-native client still gets `stop_reason: 'stop_sequence'` translated.
 */
export interface StopSequenceField {
  stop_reason?: string | number | null
}

/** The stop sequence that ended `choice` (`StopSequenceField`), if the upstream said. */
export function stopSequenceOf(choice: object | undefined): string | null {
  const value = (choice as StopSequenceField | undefined)?.stop_reason
  return typeof value === 'string' ? value : null
}

/** The field to spread into a choice for the stop sequence that ended it; none without one. */
export const stopSequenceField = (sequence: string | null | undefined): StopSequenceField => (sequence ? { stop_reason: sequence } : {})

/** The final usage chunk the gateway sends itself when the client asked for usage and the upstream sent none: its own count, marked. */
export function countedUsageChunk(last: Pick<ChatChunk, 'id' | 'created' | 'model'>, usage: Usage): ChatChunk {
  return { id: last.id, object: 'chat.completion.chunk', created: last.created, model: last.model, choices: [], usage, x_gateway: { usage: 'counted' } } as ChatChunk
}

/**
 * A whole completion as the chunks a client that streams expects: per choice its role, its text
 * (or refusal), its tool calls, its finish; then, when the answer has usage, a usage-only chunk.
 * For a stored answer replayed to a streaming client (a cache hit), and an upstream that answered a
 * stream request whole. `envelope` sets the chunks' id and created (the answer's by default).
 */
export async function* completionStream(answer: ChatResponse, envelope: Pick<ChatChunk, 'id' | 'created'> = answer): ChatStream {
  const base = { id: envelope.id, object: 'chat.completion.chunk' as const, created: envelope.created, model: answer.model, ...(answer.system_fingerprint ? { system_fingerprint: answer.system_fingerprint } : {}) }
  const chunk = (index: number, delta: ChatChunk['choices'][number]['delta'], finish: ChatChunk['choices'][number]['finish_reason'] = null, more: StopSequenceField = {}): ChatChunk =>
    ({ ...base, choices: [{ index, delta, finish_reason: finish, logprobs: null, ...more }] })
  for (const choice of answer.choices) {
    const { message } = choice
    yield chunk(choice.index, { role: 'assistant', content: '' })
    // The model's thinking, where the answer carries it (`reasoning_content`, and Claude's signed `thinking_blocks`), before its text.
    const { reasoning_content: reasoning, thinking_blocks: blocks } = message as { reasoning_content?: unknown; thinking_blocks?: unknown }
    if (reasoning || blocks) yield chunk(choice.index, { ...(reasoning ? { reasoning_content: reasoning } : {}), ...(blocks ? { thinking_blocks: blocks } : {}) } as ChatChunk['choices'][number]['delta'])
    if (message.content) yield chunk(choice.index, { content: message.content })
    if (message.refusal) yield chunk(choice.index, { refusal: message.refusal })
    // Function calls, also from servers that leave out their `type`.
    const calls = (message.tool_calls ?? []).filter((c): c is ChatCompletionMessageFunctionToolCall => (c as { type?: string }).type !== 'custom' && 'function' in c)
    if (calls.length) {
      yield chunk(choice.index, { tool_calls: calls.map((c, index) => ({ index, id: c.id, type: 'function' as const, function: { name: c.function.name, arguments: c.function.arguments } })) })
    }
    yield chunk(choice.index, {}, choice.finish_reason, stopSequenceField(stopSequenceOf(choice)))
  }
  if (answer.usage) yield { ...base, choices: [], usage: answer.usage }
}
