/**
 * Stored chat completions (`store: true` on /v1/chat/completions): surface.openai hands each
 * completion it answered with `store: true` to this capability, which service.stored-completions
 * provides (its table, written off the request's path) and surface.stored-completions serves
 * (GET/POST/DELETE /v1/chat/completions...). Without it, `store` goes to the provider as before.
 */
import { token, type ChatMessage, type ChatResponse, type Owner, type Token } from '../../plugin-api/index.ts'

/** A completion to keep, as the client got it, with what its request said. */
export interface CompletionToKeep {
  readonly owner: Owner
  /** The model the client asked for (a route name), besides the completion's `model` (the upstream's). */
  readonly requestedModel: string
  readonly messages: readonly ChatMessage[]
  readonly metadata: Readonly<Record<string, string>>
  readonly completion: ChatResponse
}

export interface StoredCompletions {
  /** Keep it: queued and written after the answer has gone, never on the request's path (a clean shutdown waits for it). */
  keep(completion: CompletionToKeep): void
}

export const StoredCompletions: Token<StoredCompletions> = token<StoredCompletions>('StoredCompletions')
