/**
 * The one place errors become wire format: the OpenAI error shape on /v1 (and everywhere outside
 * /api/v1), Anthropic's on its /v1/messages, the envelope on /api/v1. No stack traces, no
 * internal messages reach a client.
 */
import type Koa from 'koa'
import { GatewayError } from '../errors.ts'
import { anthropicErrorBody } from '../api/anthropic-inbound.ts'

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null }
}

export interface Envelope<T = unknown> {
  success: boolean
  data: T | null
  message: string
  error: string | null
  details: unknown
  meta: Record<string, unknown>
}

/** Anything thrown, as a GatewayError fit to show a client. */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err
  const e = err as { status?: number; expose?: boolean; message?: string; type?: string }
  // Errors from Koa/raw-body carry a status and say whether their message is safe to show.
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    if (e.type === 'entity.too.large') return new GatewayError('Request body is larger than the configured limit (server.body_limit).', { status: 413, code: 'request_too_large' })
    return new GatewayError(e.expose && e.message ? e.message : 'Bad request.', { status: e.status, code: 'invalid_request' })
  }
  return new GatewayError('Internal gateway error.', { status: 500, code: 'internal_error', type: 'api_error' })
}

export function openAIErrorBody(error: GatewayError): OpenAIErrorBody {
  return { error: { message: error.message, type: error.type, code: error.code, param: error.param } }
}

export function envelopeError(error: GatewayError, requestId: string): Envelope {
  return { success: false, data: null, message: error.message, error: error.code, details: error.details ?? null, meta: { request_id: requestId } }
}

export function envelope<T>(data: T, requestId: string, message = 'ok', meta: Record<string, unknown> = {}): Envelope<T> {
  return { success: true, data, message, error: null, details: null, meta: { request_id: requestId, ...meta } }
}

/** `error` as the body a request to `path` gets: the envelope on /api/v1, Anthropic's shape on /v1/messages, else OpenAI's. */
export function errorBodyFor(path: string, error: GatewayError, requestId: string): object {
  if (path.startsWith('/api/v1')) return envelopeError(error, requestId)
  if (path.startsWith('/v1/messages')) return anthropicErrorBody(error, requestId)
  return openAIErrorBody(error)
}

/** Write `err` as the response for this request, in the shape its path calls for. */
export function respondWithError(ctx: Koa.Context, err: unknown): GatewayError {
  const error = toGatewayError(err)
  ctx.state.error = error
  ctx.status = error.status
  if (error.headers) ctx.set(error.headers)
  // A client without valid credentials does not keep the connection (a slow one would hold it).
  if (error.status === 401) ctx.set('connection', 'close')
  ctx.body = errorBodyFor(ctx.path, error, String(ctx.state.requestId))
  return error
}
