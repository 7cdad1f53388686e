/** The one place errors become wire format. */
import type Koa from 'koa'
import { toGatewayError, type GatewayError } from '../../plugin-api/errors.ts'
import type { ErrorRequest, Surface } from '../../plugin-api/types.ts'

/** Writes an error as a route's wire does. */
export type ErrorBody = (error: GatewayError, requestId: string, request?: ErrorRequest) => unknown

export interface Envelope<T = unknown> {
  success: boolean
  data: T | null
  message: string
  error: string | null
  details: unknown
  /** An error's field at fault (`name`, `params.temperature`, `query.page`), when there is one. */
  param?: string
  meta: Record<string, unknown>
}

export const openAIErrorBody: ErrorBody = (error) => ({ error: { message: error.message, type: error.type, code: error.code, param: error.param } })

/** The management API's envelope, as in the seed design. */
export const ENVELOPE: ErrorBody = (error, requestId): Envelope => ({
  success: false, data: null, message: error.message, error: error.code, details: error.details ?? null, ...(error.param ? { param: error.param } : {}), meta: { request_id: requestId },
})

export function envelope<T>(data: T, requestId: string, message = 'ok', meta: Readonly<Record<string, unknown>> = {}): Envelope<T> {
  return { success: true, data, message, error: null, details: null, meta: { request_id: requestId, ...meta } }
}

/** How errors are written on `path` when no route took the request: the envelope on /api/v1, else the shape of the surface the path names (`/v1/responses/:id` names all under `/v1/responses/`), its `requestIdHeader` told to `idHeader`, else OpenAI's. */
export function errorWriterFor(path: string, surfaces: readonly { readonly surface: Surface }[] = [], idHeader?: (name: string) => void): ErrorBody {
  if (path.startsWith('/api/v1')) return ENVELOPE
  for (const { surface } of surfaces) {
    if (!surface.errorBody || !surface.endpoints.some((e) => path === e.path || path.startsWith(e.path.split('/:')[0] + '/'))) continue
    if (surface.requestIdHeader) idHeader?.(surface.requestIdHeader)
    return surface.errorBody.bind(surface)
  }
  return openAIErrorBody
}

/** Write `err` as the response for this request, in the shape its route calls for. */
export function respondWithError(ctx: Koa.Context, err: unknown): GatewayError {
  const error = toGatewayError(err)
  ctx.state.error = error
  ctx.status = error.status
  if (error.headers) ctx.set(error.headers)
  // A client without valid credentials does not keep the connection (a slow one would hold it).
  if (error.status === 401) ctx.set('connection', 'close')
  ctx.body = ((ctx.state.errorBody as ErrorBody | undefined) ?? errorWriterFor(ctx.path, (ctx.state.snapshot as { surfaces?: readonly { surface: Surface }[] } | undefined)?.surfaces, (name) => ctx.set(name, String(ctx.state.requestId))))(error, String(ctx.state.requestId), ctx.request)
  return error
}
