/**
 * What the Mistral calls throw, as GatewayErrors: the kit's pooled client on the hot path
 * (wire-client.ts), the SDK for model lists.
 *
 * An error answer (the kit's UpstreamStatusError; the SDK's MistralError and its subclasses)
 * carries the status and the raw body. Mistral writes its errors in several shapes, all read here for their message:
 *   { "object": "error", "message": "Rate limit exceeded", "type": "rate_limited", ... }
 *   { "object": "error", "message": { "detail": [{ "loc": ["body", "x"], "msg": "..." }] }, ... }
 *   { "detail": "Unauthorized" }   { "detail": [{ "loc": [...], "msg": "..." }] }   { "message": "..." }
 * A validation error's location becomes the error's `param`. The SDK's network errors
 * (ConnectionError, RequestTimeoutError, RequestAbortedError) are told apart by name: the SDK is
 * loaded lazily, so its classes are not imported here.
 */
import { GatewayError, isAborted, requestNotSent, upstreamError, type AbortSource } from '../../../plugin-api/index.ts'
import { transportError, UpstreamStatusError } from '../kit/wire-client.ts'

const MAX_MESSAGE = 1000

interface HttpError extends Error {
  statusCode: number
  body: string
  headers: Headers
}

function isHttpError(err: unknown): err is HttpError {
  const e = err as Partial<HttpError> | null
  return err instanceof Error && typeof e?.statusCode === 'number' && typeof e.body === 'string' && e.headers instanceof Headers
}

interface ValidationDetail {
  loc?: unknown
  msg?: unknown
}

function fromDetails(details: ValidationDetail[]): { message: string; param: string | null } {
  const message = details.map((d) => {
    const loc = Array.isArray(d.loc) ? d.loc.filter((part) => part !== 'body').join('.') : ''
    return `${loc ? `${loc}: ` : ''}${typeof d.msg === 'string' ? d.msg : 'invalid'}`
  }).join('; ')
  const first = details[0]?.loc
  const param = Array.isArray(first) ? first.filter((part) => part !== 'body').join('.') || null : null
  return { message, param }
}

/** The message (and, for validation errors, the field) out of a Mistral error body. */
export function parseMistralError(body: string, status: number): { message: string; param: string | null } {
  let parsed: { message?: unknown; detail?: unknown } | undefined
  try { parsed = JSON.parse(body) as typeof parsed } catch { /* not JSON */ }
  const message = parsed?.message
  if (typeof message === 'string' && message) return { message, param: null }
  const detail = (message as { detail?: unknown } | undefined)?.detail ?? parsed?.detail
  if (typeof detail === 'string' && detail) return { message: detail, param: null }
  if (Array.isArray(detail) && detail.length) return fromDetails(detail as ValidationDetail[])
  return { message: body.trim().slice(0, MAX_MESSAGE) || `HTTP ${status}`, param: null }
}

function causeMessage(err: Error): string {
  const cause = err.cause as { message?: unknown; cause?: { message?: unknown; code?: unknown } } | undefined
  const inner = cause?.cause
  const detail = typeof inner?.message === 'string' ? inner.message : typeof inner?.code === 'string' ? inner.code : typeof cause?.message === 'string' ? cause.message : ''
  return detail ? `${err.message}: ${detail}` : err.message
}

/**
 * `err` as a GatewayError, or unchanged when the caller's signal ended the call (the kernel tells
 * a client that went away from a route timeout). `stage` says where it was thrown: `call` before
 * an answer was read (the SDK building and sending the request), `answer` while reading one.
 */
export function toGatewayError(err: unknown, provider: string, signal: AbortSource | undefined, stage: 'call' | 'answer' = 'answer'): unknown {
  if (err instanceof GatewayError || (signal && isAborted(signal))) return err
  const transport = transportError(err, provider)
  if (transport) return transport
  if (err instanceof UpstreamStatusError) {
    const status = err.status ?? 502
    // Its message is the body as it came.
    const { message, param } = parseMistralError(err.message, status)
    return upstreamError(status, message, { provider, param, retryAfter: err.retryAfter, cause: err })
  }
  if (isHttpError(err)) {
    // A redirect, not followed: upstreamError says so (never its body).
    if (err.statusCode >= 300 && err.statusCode <= 399) return upstreamError(err.statusCode, '', { provider, cause: err })
    // A 2xx the SDK could not read (ResponseValidationError) is the upstream's fault.
    if (err.statusCode < 400) return upstreamError(502, `unreadable answer: ${err.message.slice(0, MAX_MESSAGE)}`, { provider, cause: err })
    const { message, param } = parseMistralError(err.body, err.statusCode)
    return upstreamError(err.statusCode, message, { provider, param, retryAfter: err.headers.get('retry-after'), cause: err })
  }
  if (!(err instanceof Error)) return upstreamError(502, String(err), { provider })
  switch (err.name) {
    case 'RequestAbortedError':
    case 'AbortError':
      return err
    case 'RequestTimeoutError':
    case 'TimeoutError':
      return upstreamError(undefined, '', { kind: 'timeout', provider, cause: err })
    case 'ConnectionError':
      return upstreamError(undefined, causeMessage(err), { kind: 'connection', provider, cause: err })
    case 'SDKValidationError':
      // The SDK checks a request against Mistral's schema before sending it.
      return requestNotSent(provider, new Error(`it does not fit Mistral's API: ${err.message.slice(0, MAX_MESSAGE)}`))
    default:
      // Serialising an over-deep value before sending overflows the stack: nothing was sent.
      if (stage === 'call' && err instanceof RangeError) return requestNotSent(provider, err)
      if (err instanceof TypeError) return upstreamError(undefined, causeMessage(err), { kind: 'connection', provider, cause: err })
      return upstreamError(502, `unexpected answer: ${err.message.slice(0, MAX_MESSAGE)}`, { provider, cause: err })
  }
}
