/**
 * What an OpenAI client reads of a streamed answer with thinking: the `reasoning_content` deltas (which
 * must all come before the answer's text), the content, the reasoning tokens of the usage chunk, and
 * whether any delta still carried an upstream's own `reasoning` field.
 */
import type OpenAI from 'openai'

type ThinkingDelta = OpenAI.ChatCompletionChunk.Choice.Delta & { reasoning_content?: string }

export interface StreamedReasoning {
  /** Each `reasoning_content` delta, in order. */
  readonly thoughts: string[]
  readonly content: string
  readonly reasoningTokens: number | undefined
  /** A delta carried `reasoning` (an upstream's field, not the gateway's) or thinking after the text. */
  readonly strayReasoning: boolean
}

export async function readReasoningStream(stream: AsyncIterable<OpenAI.ChatCompletionChunk>): Promise<StreamedReasoning> {
  const thoughts: string[] = []
  let content = ''
  let reasoningTokens: number | undefined
  let strayReasoning = false
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta as ThinkingDelta | undefined
    if (delta && 'reasoning' in delta) strayReasoning = true
    if (delta?.reasoning_content) {
      if (content) strayReasoning = true
      thoughts.push(delta.reasoning_content)
    }
    content += delta?.content ?? ''
    reasoningTokens ??= chunk.usage?.completion_tokens_details?.reasoning_tokens
  }
  return { thoughts, content, reasoningTokens, strayReasoning }
}
