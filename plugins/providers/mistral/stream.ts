/**
 * Mistral's chat stream (SSE `data:` chunks, then `[DONE]`) as OpenAI chunks, forwarded as they
 * arrive. Mistral has no `stream_options`: it puts the usage on its last chunk, so the gateway
 * takes it off there and, when the client asked for `include_usage`, sends it in a final chunk
 * with no choices, as OpenAI does. Tool calls are numbered per choice across chunks.
 */
import type { ChatChunk } from '../../../plugin-api/index.ts'
import type { Reasoning } from '../../contracts/thinking.ts'
import { finishReason, textOf, thinkingTextOf, toolCallOf, usageOf } from './response.ts'
import type { WireCompletionChunk, WireUsage } from './wire.ts'

type ChunkChoice = ChatChunk['choices'][number] & { delta: Reasoning }

export interface StreamContext {
  includeUsage: boolean
  provider: string
}

export async function* toChatChunks(events: AsyncIterable<WireCompletionChunk>, context: StreamContext, mapError: (err: unknown) => unknown): AsyncGenerator<ChatChunk> {
  /** Per choice: the OpenAI index of each tool call id seen so far. */
  const toolIndexes = new Map<number, Map<string, number>>()
  let usage: WireUsage | undefined
  let last: Pick<ChatChunk, 'id' | 'created' | 'model'> | undefined
  try {
    for await (const data of events) {
      if (data.usage) usage = data.usage
      last = { id: data.id, created: data.created ?? Math.floor(Date.now() / 1000), model: data.model }
      const choices = data.choices.map((choice): ChunkChoice => {
        const delta: ChunkChoice['delta'] = {}
        const wire = choice.delta ?? {}
        if (wire.role === 'assistant') delta.role = 'assistant'
        const text = textOf(wire.content)
        const thought = thinkingTextOf(wire.content)
        if (thought) delta.reasoning_content = thought
        if (text || wire.content === '') delta.content = text
        if (wire.tool_calls?.length) {
          let indexes = toolIndexes.get(choice.index)
          if (!indexes) toolIndexes.set(choice.index, (indexes = new Map()))
          delta.tool_calls = wire.tool_calls.map((call) => {
            const key = call.id ?? `#${call.index ?? 0}`
            let index = indexes!.get(key)
            if (index === undefined) indexes!.set(key, (index = indexes!.size))
            return { index, ...toolCallOf(call, `${data.id}-${choice.index}-${index}`) }
          })
        }
        return { index: choice.index, delta, finish_reason: choice.finish_reason ? finishReason(choice.finish_reason, context.provider) : null, logprobs: null }
      })
      yield { id: data.id, object: 'chat.completion.chunk', created: last.created, model: data.model, choices }
    }
  } catch (err) {
    throw mapError(err)
  }
  if (context.includeUsage && last) yield { ...last, object: 'chat.completion.chunk', choices: [], usage: usageOf(usage) }
}
