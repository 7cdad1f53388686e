/**
 * Anthropic's Message Batches (`/v1/messages/batches`, service.batches) run each request as a
 * `/v1/messages` body, which only surface.anthropic knows how to read and answer: it offers that
 * translation as `MessagesCodec`, so the batch worker runs a line as the surface runs a request,
 * without importing the surface's code.
 */
import { token, type ChatRequest, type ChatResponse, type GatewayError, type Token } from '../../plugin-api/index.ts'
import type { JsonObject } from './capabilities.ts'

export interface MessagesCodec {
  /** Throws the 400 that `POST /v1/messages` answers for `body` (with the client's `anthropic-version`). */
  check(body: unknown, version: string | undefined): void
  /** `body` (checked) as the unified request, what the translation dropped, and why it cannot be translated at all, if so. */
  decode(body: JsonObject): { readonly request: ChatRequest; readonly warnings: readonly string[]; readonly untranslatable?: GatewayError }
  /** The unified answer to `body` as Anthropic's Message. */
  encode(result: ChatResponse, body: JsonObject): JsonObject
}

/** Provided by surface.anthropic. */
export const MessagesCodec: Token<MessagesCodec> = token<MessagesCodec>('MessagesCodec')
