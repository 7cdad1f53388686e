/**
 * Gemini's streamGenerateContent (SSE, each event a partial GenerateContentResponse) as OpenAI
 * chunks, forwarded as they arrive. Per choice it remembers whether the role was sent and how
 * many tool calls were seen (they are numbered across chunks, and turn STOP into `tool_calls`).
 * Gemini's usage is a running total on each event: the last one is the answer's usage, sent in a
 * final chunk with no choices when the client asked for `stream_options.include_usage`.
 */
import type { GenerateContentResponse, GenerateContentResponseUsageMetadata } from '@google/genai'
import type { ChatChunk } from '../../../plugin-api/index.ts'
import { candidateIndex, finishReason, readParts, signatureBlock, usageOf, type AnswerContext } from './response.ts'
import type { Reasoning } from '../../contracts/thinking.ts'

type ChunkChoice = ChatChunk['choices'][number] & { delta: Reasoning }

interface ChoiceState {
  roleSent: boolean
  toolCalls: number
}

export interface StreamContext extends AnswerContext {
  includeUsage: boolean
}

export async function* toChatChunks(
  source: AsyncIterable<GenerateContentResponse>,
  context: StreamContext,
  mapError: (err: unknown) => unknown,
): AsyncGenerator<ChatChunk> {
  const states = new Map<number, ChoiceState>()
  let usage: GenerateContentResponseUsageMetadata | undefined
  let model: string | undefined
  const chunk = (choices: ChunkChoice[]): ChatChunk => ({ id: context.id, object: 'chat.completion.chunk', created: context.created, model: model!, choices })
  try {
    for await (const response of source) {
      // Every chunk names the same model: the version the first event reports.
      model ??= response.modelVersion ?? context.model
      if (response.usageMetadata) usage = response.usageMetadata
      const choices: ChunkChoice[] = []
      ;(response.candidates ?? []).forEach((candidate, position) => {
        const index = candidateIndex(candidate, position)
        let state = states.get(index)
        if (!state) states.set(index, (state = { roleSent: false, toolCalls: 0 }))
        const { text, thought, toolCalls, signature } = readParts(candidate.content?.parts, (n) => `${context.requestId}:${index}:${n}`, state.toolCalls)
        const delta: ChunkChoice['delta'] = {}
        if (!state.roleSent) {
          delta.role = 'assistant'
          delta.content = ''
          state.roleSent = true
        }
        if (thought) delta.reasoning_content = thought
        if (signature) delta.thinking_blocks = [signatureBlock(signature)]
        if (text) delta.content = text
        if (toolCalls.length) {
          // Gemini sends each function call whole: one delta carries its name and all its arguments.
          delta.tool_calls = toolCalls.map((call, n) => ({ index: state.toolCalls + n, ...call }))
          state.toolCalls += toolCalls.length
        }
        const finish = candidate.finishReason ? finishReason(candidate.finishReason, state.toolCalls > 0) : null
        if (delta.content === undefined && !delta.reasoning_content && !delta.tool_calls && !delta.thinking_blocks && !finish) return
        choices.push({ index, delta, finish_reason: finish, logprobs: null })
      })
      if (choices.length === 0 && response.promptFeedback?.blockReason) {
        choices.push({ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: 'content_filter', logprobs: null })
      }
      if (choices.length) yield chunk(choices)
    }
  } catch (err) {
    throw mapError(err)
  }
  if (context.includeUsage) {
    model ??= context.model
    yield { ...chunk([]), usage: usageOf(usage) }
  }
}
