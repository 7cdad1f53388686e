/**
 * Anthropic's stream events → unified chat chunks, as they arrive.
 *
 *   message_start        → a chunk with the assistant role (and the prompt usage, kept for the end)
 *   content_block_start  → for tool_use: a tool-call chunk with its id and name; redacted_thinking: its block
 *   content_block_delta  → text_delta: content; input_json_delta: a piece of the tool arguments;
 *                          thinking_delta: reasoning_content (LiteLLM's field); signature_delta: kept for the block's end
 *   content_block_stop   → for thinking: the whole block, signed, as `thinking_blocks` (to send back on the next turn)
 *   message_delta        → the stop reason (and stop sequence) and the final usage, kept for the end
 *   message_stop         → the finish chunk, then (stream_options.include_usage) the usage chunk
 *
 * Citation deltas have no place in OpenAI's chunk shape and are skipped.
 */
import type { RawMessageStreamEvent, StopReason } from '@anthropic-ai/sdk/resources/messages'
import { abortReason, isAborted, stopSequenceField, upstreamError, type AbortSource, type StopSequenceField } from '../../../plugin-api/index.ts'
import type { ChatChunk } from '../../../plugin-api/index.ts'
import { toFinishReason, toUsage, type UsageCounts } from './response.ts'
import type { Reasoning } from '../../contracts/thinking.ts'

type Delta = ChatChunk['choices'][number]['delta'] & Reasoning

export interface ChunkStreamOptions {
  readonly includeUsage: boolean
  /** What aborts the call: a stream that ends short is checked against it (a timeout, or a client that left). */
  readonly signal: AbortSource
  readonly provider: string
  /** Maps what the SDK throws mid-stream. */
  readonly mapError: (err: unknown) => unknown
}

export async function* toChatChunks(events: AsyncIterable<RawMessageStreamEvent>, options: ChunkStreamOptions): AsyncGenerator<ChatChunk> {
  const created = Math.floor(Date.now() / 1000)
  let id = ''
  let model = ''
  let usage: UsageCounts = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: null, cache_creation_input_tokens: null }
  let stopReason: StopReason | null = null
  let stopSequence: string | null = null
  let stopped = false
  let yielded = false
  /** Anthropic numbers every content block; OpenAI numbers tool calls only. */
  const toolIndexByBlock = new Map<number, number>()
  /** The thinking block open, its text and signature so far. */
  let thinking: { index: number; text: string; signature: string } | undefined

  const chunk = (delta: Delta, finishReason: ChatChunk['choices'][number]['finish_reason'] = null, more: StopSequenceField = {}): ChatChunk => {
    yielded = true
    return { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null, ...more }] }
  }

  try {
    for await (const event of events) {
      switch (event.type) {
        case 'message_start':
          ({ id, model } = event.message)
          usage = event.message.usage
          yield chunk({ role: 'assistant', content: '' })
          break
        case 'content_block_start': {
          const block = event.content_block
          if (block.type === 'tool_use') {
            const index = toolIndexByBlock.size
            toolIndexByBlock.set(event.index, index)
            yield chunk({ tool_calls: [{ index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] })
          } else if (block.type === 'text' && block.text) {
            yield chunk({ content: block.text })
          } else if (block.type === 'thinking') {
            thinking = { index: event.index, text: block.thinking, signature: block.signature }
            if (block.thinking) yield chunk({ reasoning_content: block.thinking })
          } else if (block.type === 'redacted_thinking') {
            yield chunk({ thinking_blocks: [{ type: 'redacted_thinking', data: block.data }] })
          }
          break
        }
        case 'content_block_delta': {
          const delta = event.delta
          if (delta.type === 'text_delta') {
            if (delta.text) yield chunk({ content: delta.text })
          } else if (delta.type === 'input_json_delta') {
            const index = toolIndexByBlock.get(event.index)
            if (index !== undefined && delta.partial_json) yield chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] })
          } else if (delta.type === 'thinking_delta' && thinking?.index === event.index) {
            thinking.text += delta.thinking
            if (delta.thinking) yield chunk({ reasoning_content: delta.thinking })
          } else if (delta.type === 'signature_delta' && thinking?.index === event.index) {
            thinking.signature += delta.signature
          }
          break
        }
        case 'content_block_stop':
          if (thinking?.index === event.index) {
            yield chunk({ thinking_blocks: [{ type: 'thinking', thinking: thinking.text, signature: thinking.signature }] })
            thinking = undefined
          }
          break
        case 'message_delta':
          stopReason = event.delta.stop_reason ?? stopReason
          stopSequence = event.delta.stop_sequence ?? stopSequence
          // Deltas carry cumulative totals; a counter that does not apply is left out (null).
          usage = {
            input_tokens: event.usage.input_tokens ?? usage.input_tokens,
            output_tokens: event.usage.output_tokens,
            cache_read_input_tokens: event.usage.cache_read_input_tokens ?? usage.cache_read_input_tokens,
            cache_creation_input_tokens: event.usage.cache_creation_input_tokens ?? usage.cache_creation_input_tokens,
            output_tokens_details: event.usage.output_tokens_details ?? usage.output_tokens_details,
            // message_delta has no split of the cache writes by lifetime: message_start's stands.
            cache_creation: usage.cache_creation,
          }
          break
        case 'message_stop':
          stopped = true
          // Which stop sequence ended it rides on the finish chunk's choice (unified.ts's StopSequenceField).
          yield chunk({}, toFinishReason(stopReason), stopSequenceField(stopSequence))
          if (options.includeUsage) yield { id, object: 'chat.completion.chunk', created, model, choices: [], usage: toUsage(usage) }
          break
      }
    }
  } catch (err) {
    throw options.mapError(err)
  }
  if (stopped) return
  if (isAborted(options.signal)) {
    // Before the first chunk the kernel can still tell a timeout from a client that left;
    // after it, the stream must end with an error the client can read.
    if (!yielded) throw abortReason(options.signal) ?? new Error('aborted')
    throw upstreamError(undefined, 'the stream was cut off', { kind: 'timeout', provider: options.provider })
  }
  throw upstreamError(undefined, 'the stream ended before message_stop', { kind: 'connection', provider: options.provider })
}
