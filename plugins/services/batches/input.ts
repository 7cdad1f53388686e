/**
 * A batch's input file: JSONL, one request per line (`{ custom_id, method: "POST", url, body }`),
 * checked whole before any line runs, as OpenAI does: every fault with its line number. Each body is
 * checked again when its line runs, as its endpoint checks a request (routedChatRequest): that fault
 * is the line's answer, not the batch's.
 */
import { MAX_JSON_DEPTH, jsonDepthExceeds, type ChatRequest, type GatewayCalls, type RoutingFacts } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import { chatCompletionRequest, dropUnknownChatParameters } from '../../contracts/openai-requests.ts'

/** A fault of an input file, as a failed batch lists it (OpenAI's BatchError). */
export interface BatchError { readonly code: string; readonly message: string; readonly param: string | null; readonly line: number | null }

export interface BatchLine {
  /** 1-based, as editors count. */
  readonly line: number
  readonly customId: string
  readonly body: JsonObject
}

/** The endpoints a batch's lines may call, and what each asks of a body. */
export const ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings'] as const
export type BatchEndpoint = (typeof ENDPOINTS)[number]

/** OpenAI's bound on requests per batch. */
export const MAX_LINES = 50_000
/** Anthropic's bound on requests per message batch (and so the most any batch holds). */
export const MESSAGES_MAX_LINES = 100_000
/** Faults listed on a failed batch; the rest are counted in the last one's message. */
const MAX_ERRORS = 100

/** A fault; a NUL character quoted from the file (a parse error's excerpt) is written as its escape, as the store keeps no NUL. */
const fault = (code: string, message: string, line: number | null, param: string | null = null): BatchError => ({ code, message: message.replaceAll('\u0000', '\\u0000'), param, line })

/** The lines of `text`, or the faults that keep the batch from running. */
export function parseBatchInput(text: string, endpoint: BatchEndpoint): { lines: BatchLine[]; errors: BatchError[] } {
  const lines: BatchLine[] = []
  const errors: BatchError[] = []
  const seen = new Set<string>()
  const raw = text.split('\n')
  raw.forEach((source, index) => {
    const n = index + 1
    if (source.trim() === '') return
    // Checked before parsing: a deeper value would overflow stacks later (the JSON it is sent as).
    if (jsonDepthExceeds(source, MAX_JSON_DEPTH)) return void errors.push(fault('invalid_json_line', `Line ${n} nests deeper than ${MAX_JSON_DEPTH} levels.`, n))
    let value: unknown
    try {
      value = JSON.parse(source)
    } catch (err) {
      errors.push(fault('invalid_json_line', `Line ${n} is not JSON: ${(err as Error).message}`, n))
      return
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return void errors.push(fault('invalid_json_line', `Line ${n} is not a JSON object.`, n))
    const request = value as Record<string, unknown>
    const customId = request.custom_id
    if (typeof customId !== 'string' || customId === '') return void errors.push(fault('missing_required_parameter', `Line ${n} has no custom_id (a non-empty string).`, n, 'custom_id'))
    // Kept as a column (its own, and the output's), where no store takes a NUL character.
    if (customId.includes('\u0000')) return void errors.push(fault('invalid_custom_id', `Line ${n}: custom_id holds a NUL character (\\u0000).`, n, 'custom_id'))
    if (seen.has(customId)) return void errors.push(fault('duplicate_custom_id', `The custom_id '${customId}' of line ${n} is used on an earlier line.`, n, 'custom_id'))
    seen.add(customId)
    if (request.method !== 'POST') return void errors.push(fault('invalid_method', `Line ${n}: method must be POST.`, n, 'method'))
    if (request.url !== endpoint) return void errors.push(fault('mismatched_endpoint', `Line ${n} calls ${String(request.url)}, not the batch's endpoint ${endpoint}.`, n, 'url'))
    const body = request.body
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return void errors.push(fault('missing_required_parameter', `Line ${n} has no body (an object).`, n, 'body'))
    const b = body as Record<string, unknown>
    if (typeof b.model !== 'string' || b.model === '') return void errors.push(fault('missing_required_parameter', `Line ${n}: body.model is required.`, n, 'body.model'))
    if (b.stream === true) return void errors.push(fault('invalid_request', `Line ${n}: a batch's requests cannot stream.`, n, 'body.stream'))
    if (endpoint === '/v1/chat/completions' && !Array.isArray(b.messages)) return void errors.push(fault('missing_required_parameter', `Line ${n}: body.messages is required.`, n, 'body.messages'))
    if (endpoint === '/v1/embeddings' && b.input === undefined) return void errors.push(fault('missing_required_parameter', `Line ${n}: body.input is required.`, n, 'body.input'))
    lines.push({ line: n, customId, body: b as JsonObject })
  })
  if (lines.length === 0 && errors.length === 0) errors.push(fault('empty_file', 'The input file holds no requests.', null))
  if (lines.length > MAX_LINES) errors.push(fault('too_many_tasks', `The input file holds ${lines.length} requests; a batch takes at most ${MAX_LINES}.`, null))
  if (errors.length > MAX_ERRORS) {
    const more = errors.length - MAX_ERRORS + 1
    errors.splice(MAX_ERRORS - 1, errors.length, fault('too_many_errors', `${more} more faults not listed.`, null))
  }
  return { lines, errors }
}

/** The model every line names, when they name one. */
export function commonModel(lines: readonly BatchLine[]): string | null {
  const models = new Set(lines.map((l) => l.body.model as string))
  return models.size === 1 ? [...models][0]! : null
}

/**
 * A chat line's body as /v1/chat/completions takes the same body (a 400 naming the field at fault
 * otherwise): checked, then the fields outside the chat API dropped, or refused on a strict route,
 * as the route that answers its model for the batch's creator (with the line's metadata and the
 * batch's headers) says; `warn` is told what was dropped, which a request's `x-gateway-warning`
 * says and a line's output says in `response.headers`.
 */
export function routedChatRequest(body: JsonObject, calls: GatewayCalls, headers: RoutingFacts['headers'], warn: (text: string) => void): ChatRequest {
  const request = chatCompletionRequest(body)
  // The route the call will take (by the line's metadata and the batch's headers); none: the call is refused for it (404 or 403), as a request is after these checks.
  const route = calls.routes(request.model, { headers, metadata: request.metadata })
  if (route) dropUnknownChatParameters(request, route, warn)
  return request
}

