/**
 * A thin typed client of the gateway's public APIs: the management API under /api/v1 (answers in
 * the envelope `{ success, data, message, error, details, meta }`) and the OpenAI-shaped /v1.
 *
 * Request types come from ./openapi.ts, generated from the gateway's OpenAPI document
 * (GET /api/v1/openapi.json) by openapi-typescript (see ./types.ts), so that a renamed field breaks
 * the console's type-check instead of a page at run time. `api` takes a route as the document
 * names it (`/training/jobs/{id}`) and answers the type the document gives its `data`: no call
 * names its answer's type by hand, and a path or method the document lacks does not compile.
 *
 * The console signs in with a session cookie (HttpOnly, so this code never sees it); every
 * state-changing call carries the session's CSRF token in `x-csrf-token`.
 */
import type { paths } from './openapi'
import type { AnswerOf, MetaOf } from './types'

/**
 * The path the console is served under, from the page's <base href> (service.console writes it):
 * `/`, or `/gateway/` behind a reverse proxy. Every URL of the gateway's this code makes starts here.
 */
export const BASE_PATH: string = new URL(document.baseURI).pathname.replace(/[^/]*$/, '')

/** A gateway path (`/api/v1/...`, `/health`) as this page must request it. */
export function gatewayUrl(path: string): string {
  return `${BASE_PATH}${path.replace(/^\//, '')}`
}

/** A console route (`/keys`) from the address bar's path (`/gateway/keys`). */
export function appPath(pathname: string): string {
  return pathname.startsWith(BASE_PATH) ? `/${pathname.slice(BASE_PATH.length)}` : pathname
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly param: string | null
  readonly requestId: string | null
  /** The envelope's `details` (e.g. a dataset's problems by line), when the API sends them. */
  readonly details: Record<string, unknown> | null

  constructor(message: string, status: number, code: string, param: string | null = null, requestId: string | null = null, details: Record<string, unknown> | null = null) {
    super(message)
    this.status = status
    this.code = code
    this.param = param
    this.requestId = requestId
    this.details = details
  }

  /** The feature's service is not enabled on this gateway (no route answers the path). */
  get notEnabled(): boolean {
    return this.status === 404 && this.code === 'unknown_url'
  }
}

let csrfToken: string | undefined
/** Set from /api/v1/auth/me once signed in; cleared at sign-out. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token
}

/** Told when a call answers 401: the session ended (expired, signed out elsewhere). */
let onUnauthorized: (() => void) | undefined
export function whenUnauthorized(listener: () => void): void {
  onUnauthorized = listener
}

export type Query = Record<string, string | number | boolean | null | undefined>

export interface CallOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  readonly body?: unknown
  readonly query?: Query
  readonly signal?: AbortSignal
  readonly headers?: Record<string, string>
}

export interface Enveloped<T, Meta = Record<string, unknown>> {
  readonly data: T
  readonly message: string
  readonly meta: Meta
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export function requestHeaders(method: string, extra: Record<string, string> = {}, json = false): Headers {
  const headers = new Headers(extra)
  if (json) headers.set('content-type', 'application/json')
  if (!SAFE_METHODS.has(method) && csrfToken) headers.set('x-csrf-token', csrfToken)
  return headers
}

export function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  const text = params.toString()
  return text ? `${path}?${text}` : path
}

async function send(path: string, options: CallOptions): Promise<Response> {
  const method = options.method ?? 'GET'
  // A FormData body (an upload) goes as multipart, with the boundary the browser sets.
  const form = options.body instanceof FormData
  const hasBody = options.body !== undefined
  return fetch(withQuery(gatewayUrl(path), options.query), {
    method,
    headers: requestHeaders(method, options.headers, hasBody && !form),
    body: form ? (options.body as FormData) : hasBody ? JSON.stringify(options.body) : undefined,
    credentials: 'same-origin',
    signal: options.signal,
  })
}

/** The error a failed response carries, in either of the gateway's shapes. */
export async function errorOf(res: Response): Promise<ApiError> {
  const requestId = res.headers.get('x-request-id')
  let body: unknown
  try {
    body = await res.json()
  } catch {
    return new ApiError(`${res.status} ${res.statusText}`, res.status, 'http_error', null, requestId)
  }
  const b = body as { message?: string; error?: unknown; details?: ({ param?: string } & Record<string, unknown>) | null }
  if (b && typeof b.error === 'object' && b.error !== null) {
    const e = b.error as { message?: string; code?: string; param?: string | null }
    return new ApiError(e.message ?? res.statusText, res.status, e.code ?? 'error', e.param ?? null, requestId)
  }
  return new ApiError(b?.message ?? res.statusText, res.status, typeof b?.error === 'string' ? b.error : 'error', b?.details?.param ?? null, requestId, b?.details ?? null)
}

async function checked(res: Response): Promise<Response> {
  if (res.ok) return res
  const error = await errorOf(res)
  if (res.status === 401) onUnauthorized?.()
  throw error
}

type Method = NonNullable<CallOptions['method']>
/** A management-API route as the OpenAPI document names it, without /api/v1: `/training/jobs/{id}`. */
export type ApiPath = { [K in keyof paths]: K extends `/api/v1${infer Rest}` ? Rest : never }[keyof paths]
type ParamNames<P> = P extends `${string}{${infer Name}}${infer Rest}` ? Name | ParamNames<Rest> : never
type LowerMethod = Lowercase<Method>
/** The methods the document has for `P` (a method it lacks would answer `never`, silently). */
type MethodsOf<P extends ApiPath> = { [m in LowerMethod]: paths[`/api/v1${P}`][m] extends undefined ? never : Uppercase<m> }[LowerMethod]
/** The options of a call to `P`: its path parameters (`params`) when it has any; a method `P` lacks is a type error. */
type ApiArgs<P extends ApiPath, M extends Method> = M extends MethodsOf<P>
  ? [ParamNames<P>] extends [never]
    ? [options?: CallOptions & { readonly method?: M }]
    : [options: CallOptions & { readonly method?: M; readonly params: Readonly<Record<ParamNames<P>, string>> }]
  : [options: { readonly method: MethodsOf<P> }]

/**
 * A management-API call: the envelope's data (typed by what the document says `method path`
 * answers, so a renamed field breaks the console's build), message and meta. `path` is the
 * route's template; `params` fill it in, encoded.
 */
export async function api<P extends ApiPath, M extends Method = 'GET'>(path: P, ...[options]: ApiArgs<P, M>): Promise<Enveloped<AnswerOf<`/api/v1${P}`, Lowercase<M>>, MetaOf<`/api/v1${P}`, Lowercase<M>>>> {
  type Data = AnswerOf<`/api/v1${P}`, Lowercase<M>>
  type Meta = MetaOf<`/api/v1${P}`, Lowercase<M>>
  const params = (options as { params?: Record<string, string> } | undefined)?.params ?? {}
  const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''))
  const res = await checked(await send(`/api/v1${filled}`, options ?? {}))
  if (res.status === 204) return { data: undefined as unknown as Data, message: 'ok', meta: {} as Meta }
  const body = (await res.json()) as { data: Data; message: string; meta?: Meta }
  return { data: body.data, message: body.message, meta: body.meta ?? ({} as Meta) }
}

/** A call to the OpenAI-shaped API under /v1: its body as is. */
export async function openai<T>(path: string, options: CallOptions = {}): Promise<T> {
  const res = await checked(await send(`/v1${path}`, options))
  return (await res.json()) as T
}

/** A call outside both APIs (/health): its JSON body. */
export async function plain<T>(path: string, options: CallOptions = {}): Promise<T> {
  const res = await checked(await send(path, options))
  return (await res.json()) as T
}

/** For streams: the raw response of a /v1 call, checked. */
export async function openaiStream(path: string, options: CallOptions): Promise<Response> {
  return checked(await send(`/v1${path}`, options))
}
