/**
 * Anthropic's errors in the gateway's terms: what the kit's pooled client threw on the hot path
 * (fromWireError), and the SDK's errors for the model list (fromSdkError). The upstream's own
 * message is kept (it never carries the key); 429 keeps `retry-after`; 529 "overloaded" is a
 * retryable 503, but stays 529 to a client on Anthropic's own wire (a passed-through call), whose
 * SDK raises it as `OverloadedError`.
 */
import type * as AnthropicSdk from '@anthropic-ai/sdk'
import { GatewayError, isAborted, requestNotSent, upstreamError, type AbortSource } from '../../../plugin-api/index.ts'
import { transportError, UpstreamStatusError } from '../kit/wire-client.ts'
import { tooLargeIn } from '../kit/answer-limit.ts'

/** The SDK's error classes; the SDK is imported lazily, so they arrive with it. */
export type SdkErrors = Pick<typeof AnthropicSdk, 'AnthropicError' | 'APIError' | 'APIUserAbortError' | 'APIConnectionError' | 'APIConnectionTimeoutError'>

/** Anthropic's status for "overloaded": capacity, not the caller's fault. */
const OVERLOADED = 529

/** A stream's `error` event has no HTTP status; its error type says what it would have been. */
const STATUS_BY_ERROR_TYPE: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: OVERLOADED,
}

/**
 * Map what the SDK threw. An abort is returned unchanged: only the kernel knows whether the client
 * left or the route's timeout fired. `stage` says where it was thrown: `call` before an answer was
 * read (the SDK building and sending the request), `answer` while reading one.
 */
export function fromSdkError(err: unknown, sdk: SdkErrors, provider: string, stage: 'call' | 'answer' = 'answer'): unknown {
  if (err instanceof GatewayError || err instanceof sdk.APIUserAbortError) return err
  // Past max_answer_mb (the SDK's fetch, answer-limit.ts), perhaps inside the SDK's connection error.
  if (tooLargeIn(err)) return transportError(err, provider)
  if (err instanceof sdk.APIConnectionTimeoutError) return upstreamError(undefined, 'no answer within timeout_ms', { kind: 'timeout', provider, cause: err })
  if (err instanceof sdk.APIConnectionError) return upstreamError(undefined, err.message, { kind: 'connection', provider, cause: err })
  if (err instanceof sdk.APIError) return statusError(err.status, err.type ?? undefined, err.apiMessage ?? err.message, err.headers?.get('retry-after') ?? null, provider, err)
  // Before an answer, the SDK's own base error is its refusal of a request it will not send (a
  // setting it cannot use), and a RangeError is serialising an over-deep value: nothing was sent.
  if (stage === 'call' && (err instanceof sdk.AnthropicError || err instanceof RangeError)) return requestNotSent(provider, err)
  if (err instanceof sdk.AnthropicError) return new GatewayError(`${provider}: ${err.message}`, { status: 502, code: 'upstream_error', cause: err })
  return err
}

/**
 * Map what the kit's client threw (wire-client.ts), as fromSdkError maps the SDK's: an abort is
 * returned unchanged; `stage` is `call` before an answer was read. `sameWire`: the client speaks
 * Anthropic's wire (a passed-through call), so Anthropic's own 529 "overloaded" reaches it as 529.
 */
export function fromWireError(err: unknown, signal: AbortSource, provider: string, stage: 'call' | 'answer' = 'answer', sameWire = false): unknown {
  if (err instanceof GatewayError || isAborted(signal)) return err
  const transport = transportError(err, provider)
  if (transport) return transport
  if (err instanceof UpstreamStatusError) {
    // An error body (`{ type: 'error', error: { type, message } }`), from a non-2xx answer or a stream's `error` event.
    const detail = (err.body as { error?: { type?: unknown; message?: unknown } } | null)?.error
    const type = typeof detail?.type === 'string' ? detail.type : undefined
    const message = typeof detail?.message === 'string' && detail.message ? detail.message : err.message
    return statusError(err.status, type, message, err.retryAfter, provider, err, sameWire)
  }
  // Serialising an over-deep value threw before anything was sent.
  if (stage === 'call' && err instanceof RangeError) return requestNotSent(provider, err)
  // An answer that is not JSON, or a body cut off mid-read: the upstream failed us.
  return upstreamError(undefined, (err as Error)?.message ?? String(err), { kind: 'connection', provider, cause: err })
}

/** An error answer: its status (or, inside a stream, its error type's), 529 "overloaded" a retryable 503 (529 to a client on Anthropic's wire). */
function statusError(status: number | undefined, type: string | undefined, message: string, retryAfter: string | null, provider: string, cause: unknown, sameWire = false): GatewayError {
  const resolved = status ?? (type ? STATUS_BY_ERROR_TYPE[type] : undefined) ?? 502
  if (resolved === OVERLOADED) {
    return new GatewayError(`${provider}: ${message}`, {
      status: sameWire ? OVERLOADED : 503, code: 'upstream_overloaded', retryable: true, cause, headers: retryAfter ? { 'retry-after': retryAfter } : undefined,
    })
  }
  return upstreamError(resolved, message, { retryAfter, provider, cause })
}
