/**
 * What the Gemini calls throw, as GatewayErrors: the kit's pooled client on the hot path
 * (wire-client.ts), the SDK for model lists.
 *
 * An error answer is Google's error JSON `{ error: { code, message, status, details } }` (the
 * SDK's ApiError carries it as its message). Its message is kept; a 429's RetryInfo detail
 * (`retryDelay: "12s"`) becomes `retry-after`, as Google sends none in the headers. The SDK is
 * duck-typed here, not imported: it is loaded lazily, on the first model list.
 */
import { GatewayError, isAborted, requestNotSent, upstreamError, type AbortSource } from '../../../plugin-api/index.ts'
import { transportError, UpstreamStatusError } from '../kit/wire-client.ts'

interface GoogleErrorBody {
  error?: {
    message?: unknown
    details?: Array<{ '@type'?: unknown; retryDelay?: unknown }>
  }
}

const MAX_MESSAGE = 1000

function isApiError(err: unknown): err is Error & { status: number } {
  return err instanceof Error && err.name === 'ApiError' && typeof (err as { status?: unknown }).status === 'number'
}

/** Google's error message and retry delay out of the SDK's message (the body, maybe after a prefix). */
export function parseGoogleError(text: string): { message: string; retryAfter?: string } {
  const start = text.indexOf('{')
  let body: GoogleErrorBody | undefined
  if (start >= 0) {
    try { body = JSON.parse(text.slice(start)) as GoogleErrorBody } catch { /* not JSON: keep the text */ }
  }
  return googleErrorOf(body, text)
}

/** The message and retry delay of Google's error body, `text` when it has no message. */
function googleErrorOf(body: GoogleErrorBody | undefined, text: string): { message: string; retryAfter?: string } {
  const message = typeof body?.error?.message === 'string' && body.error.message ? body.error.message : text.slice(0, MAX_MESSAGE)
  const retryInfo = body?.error?.details?.find((d) => typeof d['@type'] === 'string' && d['@type'].endsWith('google.rpc.RetryInfo'))
  const delay = typeof retryInfo?.retryDelay === 'string' ? Number.parseFloat(retryInfo.retryDelay) : Number.NaN
  return { message, retryAfter: Number.isFinite(delay) ? String(Math.max(0, Math.ceil(delay))) : undefined }
}

function describeConnectionFailure(err: Error): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause
  const detail = typeof cause?.message === 'string' ? cause.message : typeof cause?.code === 'string' ? cause.code : ''
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
    // A non-2xx answer (its status), or an error object inside a stream (its `code`).
    const body = typeof err.body === 'object' && err.body !== null ? (err.body as GoogleErrorBody) : undefined
    const { message, retryAfter } = googleErrorOf(body, typeof err.body === 'string' ? err.body : err.message)
    const code = Number((body?.error as { code?: unknown } | undefined)?.code)
    const status = err.status ?? (code >= 400 && code <= 599 ? code : 502)
    return upstreamError(status, message, { provider, retryAfter: status === 429 ? retryAfter : undefined, cause: err })
  }
  if (isApiError(err)) {
    const { message, retryAfter } = parseGoogleError(err.message)
    return upstreamError(err.status, message, { provider, retryAfter: err.status === 429 ? retryAfter : undefined, cause: err })
  }
  if (err instanceof Error && err.name === 'AbortError') return err
  if (err instanceof TypeError) return upstreamError(undefined, describeConnectionFailure(err), { kind: 'connection', provider, cause: err })
  // Before an answer, the SDK throws a plain Error only to refuse a request it will not send
  // ("invalid model parameter", "contents are required"), and serialising an over-deep value
  // overflows the stack (RangeError): nothing reached the upstream.
  if (stage === 'call' && (err instanceof RangeError || (err instanceof Error && err.constructor === Error))) return requestNotSent(provider, err)
  const message = err instanceof Error ? err.message : String(err)
  return upstreamError(502, `unexpected answer: ${message.slice(0, MAX_MESSAGE)}`, { provider, cause: err })
}
