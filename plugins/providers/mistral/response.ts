/**
 * A Mistral chat completion in the unified (OpenAI) shape. Content may be a string or a list of chunks (text, and `thinking` from reasoning models, which
 * is the model's notes, not its answer); finish reasons and usage are mapped.
 */
import type { ChatResponse, ChatToolCall, Usage } from '../../../plugin-api/index.ts'
import { upstreamError } from '../../../plugin-api/index.ts'
import type { Reasoning } from '../../contracts/thinking.ts'
import type { WireCompletion, WireContentChunk, WireToolCall, WireUsage } from './wire.ts'

export type FinishReason = ChatResponse['choices'][number]['finish_reason']
type FunctionToolCall = Extract<ChatToolCall, { type: 'function' }>

const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  stop: 'stop',
  length: 'length',
  model_length: 'length',
  tool_calls: 'tool_calls',
}

/** Mistral's finish reason in OpenAI's terms; `error` means the generation failed, and is thrown. */
export function finishReason(reason: string, provider: string): FinishReason {
  if (reason === 'error') throw upstreamError(502, 'the model stopped with an error', { provider })
  return FINISH_REASONS[reason] ?? 'stop'
}

export function textOf(content: string | readonly WireContentChunk[] | null | undefined): string {
  if (typeof content === 'string') return content
  let text = ''
  for (const chunk of content ?? []) if (chunk.type === 'text' && typeof chunk.text === 'string') text += chunk.text
  return text
}

/**
 * The text of the `thinking` chunks (Magistral's and other reasoning models' notes), which clients get
 * as `reasoning_content`, as from every provider; none for a string (most answers: nothing to look at).
 */
export function thinkingTextOf(content: string | readonly WireContentChunk[] | null | undefined): string | undefined {
  if (typeof content === 'string' || !content) return undefined
  let text = ''
  for (const chunk of content) {
    if (chunk.type !== 'thinking' || !Array.isArray(chunk.thinking)) continue
    for (const part of chunk.thinking) if (part.type === 'text' && typeof part.text === 'string') text += part.text
  }
  return text || undefined
}

export function toolCallOf(call: WireToolCall, fallbackId: string): FunctionToolCall {
  const args = call.function.arguments
  return {
    id: call.id ?? fallbackId,
    type: 'function',
    function: { name: call.function.name, arguments: typeof args === 'string' ? args : JSON.stringify(args) },
  }
}

/** Mistral's usage; a prompt cache hit comes as `prompt_tokens_details.cached_tokens`. */
export function usageOf(usage: WireUsage | null | undefined): Usage {
  const prompt = usage?.prompt_tokens ?? 0
  const completion = usage?.completion_tokens ?? 0
  const mapped: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: usage?.total_tokens ?? prompt + completion }
  const details = usage?.prompt_tokens_details
  if (typeof details?.cached_tokens === 'number' && details.cached_tokens > 0) mapped.prompt_tokens_details = { cached_tokens: details.cached_tokens }
  return mapped
}

export function toChatResponse(response: WireCompletion, provider: string): ChatResponse {
  return {
    id: response.id,
    object: 'chat.completion',
    created: typeof response.created === 'number' ? response.created : Math.floor(Date.now() / 1000),
    model: response.model,
    choices: response.choices.map((choice) => {
      const toolCalls = (choice.message?.tool_calls ?? []).map((call, n) => toolCallOf(call, `${response.id}-${choice.index}-${n}`))
      const content = choice.message?.content
      const text = textOf(content)
      const thought = thinkingTextOf(content)
      const reasoning: Reasoning = thought ? { reasoning_content: thought } : {}
      return {
        index: choice.index,
        message: {
          role: 'assistant' as const,
          content: text || (toolCalls.length ? null : ''),
          refusal: null,
          ...reasoning,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: finishReason(choice.finish_reason, provider),
        logprobs: null,
      }
    }),
    usage: usageOf(response.usage),
  }
}
