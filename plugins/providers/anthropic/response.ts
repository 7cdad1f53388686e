/** Anthropic Message → unified chat completion: content, tool calls, finish reason, usage. */
import type { Message, MessageDeltaUsage, StopReason, Usage as AnthropicUsage } from '@anthropic-ai/sdk/resources/messages'
import { stopSequenceField, type ChatResponse, type ChatToolCall, type Usage } from '../../../plugin-api/index.ts'
import type { Reasoning, ThinkingBlock } from '../../contracts/thinking.ts'

export type FinishReason = ChatResponse['choices'][number]['finish_reason']

const FINISH_REASON: Readonly<Record<StopReason, FinishReason>> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  // A server-tool loop paused: the turn ended without a client tool call.
  pause_turn: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  refusal: 'content_filter',
}

export function toFinishReason(reason: StopReason | null | undefined): FinishReason {
  return (reason && FINISH_REASON[reason]) || 'stop'
}

/** The usage counters that the message and its stream deltas both carry. */
export type UsageCounts = Pick<AnthropicUsage, 'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens'> &
  Partial<Pick<MessageDeltaUsage, 'output_tokens_details'>> & Partial<Pick<AnthropicUsage, 'cache_creation'>>

/**
 * Anthropic counts cache reads and cache writes apart from `input_tokens`; OpenAI's
 * `prompt_tokens` is every prompt token, with the cached ones detailed. Writes to the 1-hour
 * cache (`cache_creation.ephemeral_1h_input_tokens`) cost more than 5-minute ones: they are told apart.
 */
export function toUsage(usage: UsageCounts): Usage {
  const cached = usage.cache_read_input_tokens ?? 0
  const written = usage.cache_creation_input_tokens ?? 0
  const prompt = usage.input_tokens + cached + written
  const thinking = usage.output_tokens_details?.thinking_tokens
  const written1h = usage.cache_creation?.ephemeral_1h_input_tokens
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.output_tokens,
    total_tokens: prompt + usage.output_tokens,
    prompt_tokens_details: written ? { cached_tokens: cached, cache_write_tokens: written, ...(written1h ? { cache_write_1h_tokens: written1h } : {}) } : { cached_tokens: cached },
    ...(thinking !== undefined ? { completion_tokens_details: { reasoning_tokens: thinking } } : {}),
  }
}

export function toChatCompletion(message: Message): ChatResponse {
  let text = ''
  let thought = ''
  const toolCalls: ChatToolCall[] = []
  const thinking: ThinkingBlock[] = []
  for (const block of message.content) {
    if (block.type === 'text') text += block.text
    else if (block.type === 'tool_use') toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } })
    else if (block.type === 'thinking') {
      thought += block.thinking
      thinking.push({ type: 'thinking', thinking: block.thinking, signature: block.signature })
    } else if (block.type === 'redacted_thinking') thinking.push({ type: 'redacted_thinking', data: block.data })
    // Server-tool blocks have no place in OpenAI's message shape.
  }
  // Thinking as LiteLLM gives it: the text as reasoning_content, the signed blocks to send back on the next turn.
  const reasoning: Reasoning = thinking.length ? { ...(thought ? { reasoning_content: thought } : {}), thinking_blocks: thinking } : {}
  return {
    id: message.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: message.model,
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        content: text || (toolCalls.length ? null : ''),
        refusal: null,
        ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        ...reasoning,
      },
      finish_reason: toFinishReason(message.stop_reason),
      logprobs: null,
      // Which of the request's stop sequences ended it, which OpenAI's shape has no field for (unified.ts).
      ...stopSequenceField(message.stop_sequence),
    }],
    usage: toUsage(message.usage),
  }
}
