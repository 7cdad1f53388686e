/**
 * `GET /v1/models` is one path for two wires: OpenAI's SDKs and Anthropic's both call it. A request
 * with `anthropic-version` (Anthropic's SDKs always send it; OpenAI's never do) gets Anthropic's
 * shapes, so `client.models.list()` / `retrieve()` read every field they expect, its errors in
 * Anthropic's envelope, and `request-id` (where the SDK reads `requestID` from); everything else
 * gets OpenAI's. The routes carry no limits, so those are null.
 */
import type { ModelInfo } from '@anthropic-ai/sdk/resources/models'
import { badRequest, reply, toGatewayError, type ErrorRequest, type GatewayError, type JsonReply } from '../../../plugin-api/index.ts'
import { anthropicErrorBody } from '../../contracts/anthropic.ts'

export const wantsAnthropicShape = (headers: Readonly<Record<string, string | string[] | undefined>>): boolean => headers['anthropic-version'] !== undefined

/**
 * This surface's errors: OpenAI's shape, but Anthropic's on /v1/models to an Anthropic client, the
 * errors the kernel raises before a handler runs (a refused key) included. A key in `x-api-key`
 * names such a client too (OpenAI's SDKs send theirs as a bearer token).
 */
export function surfaceErrorBody(error: GatewayError, requestId: string, request?: ErrorRequest): unknown {
  const anthropicClient = request !== undefined && MODELS_PATH.test(request.path) && (wantsAnthropicShape(request.headers) || request.headers['x-api-key'] !== undefined)
  if (anthropicClient) return anthropicErrorBody(error, requestId)
  return { error: { message: error.message, type: error.type, code: error.code, param: error.param } }
}

const MODELS_PATH = /^\/v1\/models(\/|$)/

/** `created`: seconds since the epoch, the provider's release date where its list has one, else when the gateway started. */
export function anthropicModel(id: string, created: number): ModelInfo {
  return {
    id, type: 'model', display_name: id, created_at: new Date(created * 1000).toISOString(),
    capabilities: null, deprecated_at: null, lifecycle: 'active', line: null, max_input_tokens: null, max_tokens: null, retires_at: null,
  }
}

/** Anthropic's page size when the request names none, and the largest it takes. */
const DEFAULT_LIMIT = 20
const MAX_LIMIT = 1000

/**
 * One page of the list, as Anthropic's API pages it: `limit` models (1 to 1000, default 20) after the
 * one `after_id` names, or before the one `before_id` names; `has_more` says whether there are more
 * that way, which the SDK's `hasNextPage()` and auto-pagination follow (with `last_id`, or `first_id`).
 */
export function anthropicModelList(models: readonly ModelInfo[], query: Readonly<Record<string, unknown>> = {}): { data: ModelInfo[]; has_more: boolean; first_id: string | null; last_id: string | null } {
  const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badRequest(`Input should be a whole number from 1 to ${MAX_LIMIT}, not ${JSON.stringify(query.limit)}.`, 'limit', 'invalid_limit')
  const cursor = (field: 'after_id' | 'before_id'): number | undefined => {
    const id = query[field]
    if (id === undefined) return undefined
    const at = models.findIndex((m) => m.id === id)
    if (at < 0) throw badRequest(`No model '${String(id)}' in the list to page from (the list may have changed: start again without it).`, field, 'invalid_cursor')
    return at
  }
  const before = cursor('before_id')
  const after = cursor('after_id')
  const start = before !== undefined ? Math.max(0, before - limit) : after !== undefined ? after + 1 : 0
  const end = before !== undefined ? before : Math.min(models.length, start + limit)
  const data = models.slice(start, end)
  return { data, has_more: before !== undefined ? start > 0 : end < models.length, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }
}

/**
 * What a handler answers an Anthropic client, with `request-id`; an error it throws in Anthropic's
 * envelope (one the kernel raises before the handler, a refused credential, is written by `surfaceErrorBody`).
 */
export async function anthropicAnswer(requestId: string, answer: () => unknown): Promise<JsonReply> {
  const headers = { 'request-id': requestId }
  try {
    return reply(await answer(), { headers })
  } catch (err) {
    const error = toGatewayError(err)
    return reply(anthropicErrorBody(error, requestId), { status: error.status, headers: { ...error.headers, ...headers } })
  }
}
