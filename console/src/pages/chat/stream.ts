/**
 * A streamed chat completion from /v1/chat/completions: the server-sent events read as they
 * arrive, each delta handed on at once (a token is on screen in the same task it arrives in).
 */
import { ApiError, errorOf, openaiStream } from '@/api/client'
import { readSse } from '@/api/sse'

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant'
  readonly content: string
}

export interface StreamHandlers {
  onDelta(text: string): void
  onUsage?(usage: { prompt_tokens: number; completion_tokens: number }): void
}

/** Resolves when the stream ends; rejects with the gateway's error (also one sent mid-stream). */
export async function streamChat(model: string, messages: readonly ChatMessage[], handlers: StreamHandlers, signal: AbortSignal): Promise<{ model: string | null; finishReason: string | null }> {
  const res = await openaiStream('/chat/completions', {
    method: 'POST',
    body: { model, messages, stream: true, stream_options: { include_usage: true } },
    signal,
  })
  if (!res.body) throw await errorOf(res)
  let answeredBy: string | null = res.headers.get('x-gateway-model')
  let finishReason: string | null = null
  await readSse(res.body, ({ data }) => {
    if (data === '[DONE]') return
    const chunk = JSON.parse(data) as {
      error?: { message: string; code?: string }
      model?: string
      choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[]
      usage?: { prompt_tokens: number; completion_tokens: number } | null
    }
    // Mid-stream the status is long sent (200): the code says what failed.
    if (chunk.error) throw new ApiError(chunk.error.message, 0, chunk.error.code ?? 'error')
    answeredBy ??= chunk.model ?? null
    const choice = chunk.choices?.[0]
    if (choice?.delta?.content) handlers.onDelta(choice.delta.content)
    if (choice?.finish_reason) finishReason = choice.finish_reason
    if (chunk.usage) handlers.onUsage?.(chunk.usage)
  })
  return { model: answeredBy, finishReason }
}
