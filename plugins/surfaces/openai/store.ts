/**
 * `store: true` on /v1/chat/completions, when the gateway keeps chat completions (the
 * StoredCompletions capability): the completion the client gets, a streamed one assembled from its
 * chunks, is handed over to be kept after the answer has gone. `store` and `metadata` are then the
 * gateway's, not the provider's: they are not sent on (Groq refuses both, Anthropic drops them,
 * OpenAI would keep a second copy). A request without `store: true` costs one property read here.
 */
import type { ChatChunk, ChatRequest, ChatResponse, RouteRequest, SseFrame, StageExchange, StreamEncoder } from '../../../plugin-api/index.ts'
import { StreamedAnswer } from '../../contracts/streamed-answer.ts'
import type { StoredCompletions } from '../../contracts/stored-completions.ts'

/** Whether this request asks for its completion to be kept (and the gateway can keep it). */
export const keeps = (stored: StoredCompletions | undefined, body: unknown): stored is StoredCompletions => stored !== undefined && (body as ChatRequest).store === true

/** Once routed: the provider gets the request without `store` and `metadata`, translated (so the answer is in the unified shape, to keep). */
export function routedToKeep(x: StageExchange): void {
  const { store: _store, metadata: _metadata, ...sent } = x.request as ChatRequest
  x.replace(sent as ChatRequest)
  x.requireTranslation()
}

/** Hand `completion` over, with what the request (its wire body) said. */
export function keep(stored: StoredCompletions, req: RouteRequest, x: StageExchange, completion: ChatResponse): void {
  const body = req.body as ChatRequest
  stored.keep({
    owner: { userId: x.principal?.userId ?? null, department: x.principal?.department ?? null },
    requestedModel: x.requestedModel,
    messages: body.messages,
    metadata: (body.metadata as Record<string, string> | null | undefined) ?? {},
    completion,
  })
}

/** `frames` with each chunk also added to the completion kept when the stream ends complete (every choice finished). */
export function keepingStream(frames: StreamEncoder, stored: StoredCompletions, req: RouteRequest, x: StageExchange): StreamEncoder {
  const answer = new StreamedAnswer()
  return {
    chunk(chunk: ChatChunk): readonly SseFrame[] {
      answer.add(chunk)
      return frames.chunk(chunk)
    },
    end(complete) {
      const completion = complete ? answer.completion() : undefined
      if (completion) keep(stored, req, x, completion)
      return frames.end(complete)
    },
    error: (error) => frames.error(error),
  }
}
