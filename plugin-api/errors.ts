/** Errors are values: a machine-readable code, an HTTP status, the field at fault. */

/** OpenAI's error `type` values, which OpenAI clients switch on. */
export type ErrorType = 'invalid_request_error' | 'authentication_error' | 'permission_error' | 'not_found_error' | 'rate_limit_error'
  | 'insufficient_quota' | 'api_error' | 'timeout_error' | 'upstream_error' | 'service_unavailable'

export interface GatewayErrorOptions {
  status: number
  code: string
  type?: ErrorType
  /** The request field (or config path) at fault. */
  param?: string | null
  /** Extra response headers, e.g. `retry-after`. */
  headers?: Record<string, string>
  /** Extra details for the management API envelope. */
  details?: unknown
  /** Whether the routing layer may try again or elsewhere (upstream errors). */
  retryable?: boolean
  /** The status the upstream answered with, when it did (the gateway may report another). */
  upstreamStatus?: number
  /** Logged already by the plugin that raised it (at its own rate: once a minute through an outage): the kernel writes no line of its own. */
  logged?: boolean
  cause?: unknown
}

const TYPE_BY_STATUS: Record<number, ErrorType> = {
  400: 'invalid_request_error', 401: 'authentication_error', 402: 'insufficient_quota', 403: 'permission_error', 404: 'not_found_error',
  408: 'timeout_error', 413: 'invalid_request_error', 415: 'invalid_request_error', 422: 'invalid_request_error', 429: 'rate_limit_error',
  502: 'upstream_error', 503: 'service_unavailable', 504: 'timeout_error',
}

export class GatewayError extends Error {
  readonly status: number
  readonly code: string
  readonly type: ErrorType
  readonly param: string | null
  readonly headers: Record<string, string> | undefined
  readonly details: unknown
  readonly retryable: boolean
  readonly upstreamStatus: number | undefined
  readonly logged: boolean

  constructor(message: string, options: GatewayErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'GatewayError'
    this.status = options.status
    this.code = options.code
    this.type = options.type ?? TYPE_BY_STATUS[options.status] ?? (options.status >= 500 ? 'api_error' : 'invalid_request_error')
    this.param = options.param ?? null
    this.headers = options.headers
    this.details = options.details
    this.retryable = options.retryable ?? false
    this.upstreamStatus = options.upstreamStatus
    this.logged = options.logged ?? false
  }
}

/** 400. Mind the order: the field at fault, then the code (notFound and conflict take the code first). */
export const badRequest = (message: string, param: string | null = null, code = 'invalid_request'): GatewayError =>
  new GatewayError(message, { status: 400, code, param })

/** 404: the code, then the field at fault. */
export const notFound = (message: string, code = 'not_found', param: string | null = null): GatewayError =>
  new GatewayError(message, { status: 404, code, param })

/** 401: the code (default `invalid_api_key`). */
export const unauthorized = (message = 'Missing or invalid credentials.', code = 'invalid_api_key'): GatewayError =>
  new GatewayError(message, { status: 401, code })

/** 403: the code (default `forbidden`). */
export const forbidden = (message: string, code = 'forbidden'): GatewayError =>
  new GatewayError(message, { status: 403, code })

/** The client went before its answer (nginx's 499): what is logged and accounted, never sent. */
export const clientClosed = (cause?: unknown): GatewayError =>
  new GatewayError('The client closed the connection.', { status: 499, code: 'client_closed_request', cause })

/** Every target of `route` is failing (its circuits open): the wait is until one would be tried again. */
export function circuitOpen(route: string, waitMs: number): GatewayError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000))
  return new GatewayError(`Every target of route '${route}' is failing (circuit open); try again in ${seconds} s.`, { status: 503, code: 'circuit_open', headers: { 'retry-after': String(seconds) } })
}

/** JS engine errors: their messages ("Maximum call stack size exceeded") are internals, never shown to a client. */
const ENGINE_ERRORS: readonly (new (...args: never[]) => Error)[] = [RangeError, TypeError, ReferenceError, SyntaxError, URIError, EvalError]

/** A request a provider could not send (it failed while being built): the caller's 400, never retried nor counted by a breaker; engine errors are not quoted. */
export function requestNotSent(provider: string, cause: unknown): GatewayError {
  const engine = ENGINE_ERRORS.some((E) => cause instanceof E)
  const reason = cause instanceof RangeError ? 'it is nested too deeply or too large to serialise'
    : !engine && cause instanceof Error && cause.message ? cause.message.slice(0, 500)
    : 'it could not be built'
  return new GatewayError(`${provider} could not send this request: ${reason}.`, { status: 400, code: 'request_not_sent', cause })
}

/** Upstream status codes the routing layer may retry or fall back on. */
/** An error's `retry-after` (seconds or an HTTP date) in milliseconds, if it has one. */
export function retryAfterMs(error: GatewayError): number | undefined {
  const value = error.headers?.['retry-after']
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500
}

/** An upstream's failure in the gateway's terms: 4xx keep their status, but 401/403 (the gateway's own credentials) are 502; dead is 502, slow 504. */
/** What the client is told of an upstream's redirect: its status and, when known, its target without the query (which may carry a sign-in flow's parameters). */
export function redirectMessage(status: number, location?: string): string {
  const target = location?.split(/[?#]/)[0]
  return `the upstream answered ${status}, a redirect, which the gateway does not follow: set the provider's base_url to where it points${target ? ` (${target})` : ''}`
}

/** The start of an HTML or XML document, as an error page begins. */
const WEB_PAGE = /^\s*<(?:!doctype|html|head|body|\?xml|title|h1|pre)\b/i

/** A page's title or first heading, else the start of its text: what a person reading it would see first, never the whole page. */
function pageHeadline(page: string): string {
  const headline = /<(?:title|h1)[^>]*>([^<]+)/i.exec(page)?.[1] ?? page.replace(/<[^>]*>/g, ' ')
  const words = headline.replace(/\s+/g, ' ').trim().slice(0, 80)
  return words ? ` ("${words}")` : ''
}

export function upstreamError(
  status: number | undefined,
  message: string,
  options: { retryAfter?: string | null; provider?: string; cause?: unknown; param?: string | null; kind?: 'timeout' | 'connection' } = {},
): GatewayError {
  const prefix = options.provider ? `${options.provider}: ` : ''
  if (options.kind === 'timeout') {
    return new GatewayError(`${prefix}upstream timed out${message ? `: ${message}` : ''}`, { status: 504, code: 'upstream_timeout', retryable: true, cause: options.cause })
  }
  if (options.kind === 'connection' || status === undefined) {
    return new GatewayError(`${prefix}upstream unreachable${message ? `: ${message}` : ''}`, { status: 502, code: 'upstream_unreachable', retryable: true, cause: options.cause })
  }
  // A redirect is not followed (a request and the provider's key sent on to an address nobody
  // configured), and a 3xx without its Location would mean nothing to the client.
  if (status >= 300 && status <= 399) {
    // Never the answer's body (an HTML page, a sign-in URL with its parameters): what the kit said of it, or the status alone.
    return new GatewayError(`${prefix}${message.startsWith(redirectMessage(status)) ? message : redirectMessage(status)}`, {
      status: 502, code: 'upstream_redirect', upstreamStatus: status, cause: options.cause,
    })
  }
  // The credentials the upstream refused are the gateway's own: a client told 401 or 403 would think
  // its own key is wrong. Not retryable, as before: retrying the same credentials cannot help, and
  // `x-should-retry: false` tells the providers' official SDKs so (they retry any 5xx otherwise).
  if (status === 401 || status === 403) {
    return new GatewayError(
      `${prefix}the provider refused the gateway's credentials (upstream ${status}${message ? `: ${message}` : ''}). This is the gateway's provider configuration, not the key you sent; tell the gateway's operators.`,
      { status: 502, code: 'upstream_auth_failed', upstreamStatus: status, headers: { 'x-should-retry': 'false' }, cause: options.cause },
    )
  }
  // A web page (a proxy's or load balancer's error page, a framework's traceback) is not a message: the
  // console showed a member the upstream's HTML and stack trace. Said in words; the log keeps the cause.
  if (WEB_PAGE.test(message)) message = `answered with a web page${pageHeadline(message)}, not an API error (a proxy or load balancer in front of the provider?)`
  const headers = options.retryAfter ? { 'retry-after': options.retryAfter } : undefined
  const CODE_BY_STATUS: Record<number, string> = { 400: 'upstream_bad_request', 404: 'upstream_not_found', 413: 'upstream_payload_too_large', 422: 'upstream_unprocessable', 429: 'upstream_rate_limited' }
  // 5xx from upstream is reported as 502 (bad gateway) except 503/504 which keep their meaning.
  const mapped = status >= 500 ? (status === 503 || status === 504 ? status : 502) : status
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'upstream_error' : 'upstream_client_error')
  return new GatewayError(`${prefix}${message}`, { status: mapped, code, param: options.param ?? null, headers, retryable: isRetryableStatus(status), upstreamStatus: status, cause: options.cause })
}

/** Anything thrown, as a GatewayError fit to show a client. */
export function toGatewayError(err: unknown): GatewayError {
  const shaped = fromShape(err)
  if (shaped) return shaped
  const e = err as { status?: unknown; message?: unknown; expose?: boolean }
  // Errors from Koa/raw-body carry a status and say whether their message is safe to show.
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    if ((e as { type?: string }).type === 'entity.too.large') return new GatewayError('Request body is larger than the configured limit (server.body_limit).', { status: 413, code: 'request_too_large' })
    return new GatewayError(e.expose && typeof e.message === 'string' && e.message ? e.message : 'Bad request.', { status: e.status, code: 'invalid_request' })
  }
  return new GatewayError('Internal gateway error.', { status: 500, code: 'internal_error', type: 'api_error', cause: err })
}

/** `err` as a GatewayError when it has the shape of one (a numeric `status` 400-599 and a string `code`), else undefined. */
export function fromShape(err: unknown): GatewayError | undefined {
  if (err instanceof GatewayError) return err
  const e = err as { status?: unknown; code?: unknown; message?: unknown; param?: unknown; type?: unknown; retryable?: unknown; headers?: unknown; logged?: unknown }
  if (!(typeof e?.status === 'number' && e.status >= 400 && e.status <= 599 && typeof e.code === 'string' && e.code)) return undefined
  return new GatewayError(typeof e.message === 'string' && e.message ? e.message : e.code, {
    status: e.status,
    code: e.code,
    param: typeof e.param === 'string' ? e.param : null,
    type: typeof e.type === 'string' ? (e.type as ErrorType) : undefined,
    retryable: e.retryable === true,
    headers: isStringRecord(e.headers) ? e.headers : undefined,
    logged: e.logged === true,
    cause: err,
  })
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string')
}

/** 409: the request conflicts with the record's state; the code, then the field at fault. */
export const conflict = (message: string, code = 'conflict', param: string | null = null): GatewayError =>
  new GatewayError(message, { status: 409, code, param })
