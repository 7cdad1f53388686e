/**
 * Gemini's generateContent answer in the unified (OpenAI) shape: candidates become choices,
 * function calls become tool calls, finish reasons and usage are mapped.
 */
import type { Candidate, GenerateContentResponse, GenerateContentResponseUsageMetadata, Part } from '@google/genai'
import type { ChatResponse, ChatToolCall, Usage } from '../../../plugin-api/index.ts'
import { toolCallId } from './tool-ids.ts'
import type { Reasoning, ThinkingBlock } from '../../contracts/thinking.ts'

export type FinishReason = ChatResponse['choices'][number]['finish_reason']
type FunctionToolCall = Extract<ChatToolCall, { type: 'function' }>

/** Gemini finish reasons with an OpenAI counterpart; any other (OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL...) is `stop`. */
const FINISH_REASONS: Readonly<Record<string, FinishReason>> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  IMAGE_SAFETY: 'content_filter',
  IMAGE_PROHIBITED_CONTENT: 'content_filter',
  IMAGE_RECITATION: 'content_filter',
}

/** Gemini ends a turn that calls functions with STOP; OpenAI says `tool_calls`. */
export function finishReason(reason: string | undefined, calledTools: boolean): FinishReason {
  if (calledTools && (!reason || reason === 'STOP')) return 'tool_calls'
  return FINISH_REASONS[reason ?? ''] ?? 'stop'
}

/**
 * Gemini's token counts in OpenAI's terms. Thinking tokens are output the caller pays for, so
 * they count in `completion_tokens` (as OpenAI counts reasoning tokens) and are itemised in
 * `completion_tokens_details.reasoning_tokens`; tokens of tool-use prompts count as prompt tokens.
 */
export function usageOf(meta: GenerateContentResponseUsageMetadata | undefined): Usage {
  const prompt = (meta?.promptTokenCount ?? 0) + (meta?.toolUsePromptTokenCount ?? 0)
  const reasoning = meta?.thoughtsTokenCount ?? 0
  const completion = (meta?.candidatesTokenCount ?? 0) + reasoning
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: meta?.totalTokenCount ?? prompt + completion }
  if (meta?.cachedContentTokenCount) usage.prompt_tokens_details = { cached_tokens: meta.cachedContentTokenCount }
  if (reasoning) usage.completion_tokens_details = { reasoning_tokens: reasoning }
  return usage
}

/**
 * The text, thought summaries (the model's notes, not its answer: `reasoning_content`), function calls
 * and the thought signature of the answer's text (Gemini 3 signs its last part; returning it is
 * recommended, not required: a function call's is carried in its id, tool-ids.ts) of some parts.
 */
export function readParts(parts: readonly Part[] | undefined, callSeed: (position: number) => string, firstPosition = 0): { text: string; thought: string; toolCalls: FunctionToolCall[]; signature?: string } {
  let text = ''
  let thought = ''
  let signature: string | undefined
  const toolCalls: FunctionToolCall[] = []
  for (const part of parts ?? []) {
    if (part.thoughtSignature && !part.functionCall && !part.thought) signature = part.thoughtSignature
    if (part.thought) {
      thought += part.text ?? ''
    } else if (part.functionCall) {
      const { id, name, args } = part.functionCall
      toolCalls.push({
        id: toolCallId(callSeed(firstPosition + toolCalls.length), { id, thoughtSignature: part.thoughtSignature }),
        type: 'function',
        function: { name: name ?? '', arguments: JSON.stringify(args ?? {}) },
      })
    } else if (part.text) {
      text += part.text
    }
  }
  return { text, thought, toolCalls, signature }
}

/** A text part's thought signature as a thinking block marked Gemini's (contracts/thinking.ts: Claude is never sent it). */
export const signatureBlock = (signature: string): ThinkingBlock => ({ type: 'thinking', thinking: '', signature, origin: 'gemini' })

export interface AnswerContext {
  id: string
  created: number
  /** The model asked for, when the answer does not name its version. */
  model: string
  /** Seeds stable tool call ids. */
  requestId: string
}

export const candidateIndex = (candidate: Candidate, position: number): number => candidate.index ?? position

export function toChatResponse(response: GenerateContentResponse, context: AnswerContext): ChatResponse {
  const candidates = response.candidates ?? []
  const choices: ChatResponse['choices'] = candidates.map((candidate, position) => {
    const index = candidateIndex(candidate, position)
    const { text, thought, toolCalls, signature } = readParts(candidate.content?.parts, (n) => `${context.requestId}:${index}:${n}`)
    const reasoning: Reasoning = { ...(thought ? { reasoning_content: thought } : {}), ...(signature ? { thinking_blocks: [signatureBlock(signature)] } : {}) }
    return {
      index,
      message: {
        role: 'assistant',
        content: text || (toolCalls.length ? null : ''),
        refusal: null,
        ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        ...reasoning,
      },
      finish_reason: finishReason(candidate.finishReason, toolCalls.length > 0),
      logprobs: null,
    }
  })
  // A blocked prompt comes back with no candidates and a block reason.
  if (choices.length === 0) {
    choices.push({ index: 0, message: { role: 'assistant', content: null, refusal: null }, finish_reason: response.promptFeedback?.blockReason ? 'content_filter' : 'stop', logprobs: null })
  }
  return {
    id: context.id,
    object: 'chat.completion',
    created: context.created,
    model: response.modelVersion ?? context.model,
    choices,
    usage: usageOf(response.usageMetadata),
  }
}
