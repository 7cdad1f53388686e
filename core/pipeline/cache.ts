/**
 * The cache stage, after the limits: decide whether a chat request may be answered from the
 * cache, look it up, and keep the answer that comes back (a stream is assembled into a completion
 * first, and kept only if it ended normally). A hit is replayed as the client asked: a completion,
 * or a stream of chunks. Every chat response says `x-gateway-cache: hit | miss | bypass`.
 *
 * What is cacheable by default: deterministic requests (temperature 0); a route's `cache: true`
 * opts every request in, `cache: false` out. `Cache-Control: no-store` bypasses the cache both
 * ways; `no-cache` skips the lookup but keeps the fresh answer. Answers are partitioned by tenant
 * (`cache.scope`, the caller's department by default), so they do not cross departments.
 */
import { createHash } from 'node:crypto'
import type { ChatChunk, ChatRequest, ChatResponse, ChatResult, ChatStream, ChatToolCall } from '../api/types.ts'
import { isChatStream } from '../api/types.ts'
import type { Cache, CacheKey, ProviderCall } from '../plugins/types.ts'
import type { CacheSettings } from '../runtime/policies.ts'
import type { Exchange } from './exchange.ts'
import { withDeadline } from '../deadline.ts'

export type CacheResult = 'hit' | 'miss' | 'bypass'

/** A request the cache may answer or learn from. */
export interface CachePlan {
  readonly cache: Cache
  readonly key: CacheKey
  readonly ttlS: number
  /** False for `Cache-Control: no-cache`: go upstream, but keep the fresh answer. */
  readonly lookup: boolean
}

export const CACHE_HEADER = 'x-gateway-cache'

/**
 * Parameters that do not change the answer, left out of the fingerprint. Everything else counts,
 * so a parameter the gateway does not know yet can never make two different requests collide.
 */
const NOT_IN_FINGERPRINT: ReadonlySet<string> = new Set([
  'model', 'messages', 'stream', 'stream_options', 'user', 'metadata', 'store', 'service_tier', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention',
])
/** Saving an answer must not hold anything up for long; a slower backend loses that answer. */
const SET_TIMEOUT_MS = 5000
const EMBED_TIMEOUT_MS = 10_000

/** Whether this request may use the cache; undefined (and `bypass`) when not. */
export function planCache(x: Exchange, body: ChatRequest): CachePlan | undefined {
  const cache = x.snapshot.cache
  const settings = x.snapshot.policies.cache
  const route = settings.route(x.route!.index)
  const cacheControl = x.ctx.get('cache-control').toLowerCase()
  const cacheable = cache !== undefined
    && route.mode !== 'never'
    && (route.mode === 'always' || body.temperature === 0)
    && !cacheControl.includes('no-store')
  if (!cacheable) {
    report(x, 'bypass')
    return undefined
  }
  return { cache, key: cacheKeyOf(x, body, settings, route.signature), ttlS: route.ttlS, lookup: !cacheControl.includes('no-cache') }
}

/** A stored answer for the plan's request, replayed as the client asked; undefined on a miss. */
export async function lookupCache(x: Exchange, plan: CachePlan): Promise<ChatResult | undefined> {
  if (!plan.lookup) {
    report(x, 'bypass')
    return undefined
  }
  let answer: ChatResponse | undefined
  try {
    answer = await withDeadline(plan.cache.get(plan.key), x.snapshot.policies.cache.lookupTimeoutMs)
  } catch (err) {
    cacheFailed(x, 'get', err as Error)
  }
  if (!answer) {
    report(x, 'miss')
    return undefined
  }
  report(x, 'hit')
  x.cacheHit = true
  x.usage = answer.usage
  x.upstreamModel = answer.model
  x.ttftMs = performance.now() - x.startedAt
  const id = `chatcmpl-cache-${x.requestId}`
  const created = Math.floor(Date.now() / 1000)
  return x.streaming ? replay(answer, id, created) : { ...answer, id, created }
}

/** Keep the answer that came back (a stream once it has ended normally); returns what the client gets. */
export function keepAnswer(x: Exchange, plan: CachePlan | undefined, result: ChatResult): ChatResult {
  if (!plan) return result
  if (isChatStream(result)) return keepWhenComplete(x, plan, result)
  save(x, plan, result)
  return result
}

function report(x: Exchange, result: CacheResult): void {
  x.ctx.set(CACHE_HEADER, result)
  x.snapshot.services.metrics.cacheLookups.inc({ route: x.route?.name ?? '', result })
}

/** Failures are logged once per minute per operation (a dead backend must not flood the log). */
const lastLogged = new Map<string, number>()
function cacheFailed(x: Exchange, op: 'get' | 'set', err: Error): void {
  const { metrics } = x.snapshot.services
  metrics.cacheErrors.inc({ op })
  const now = Date.now()
  if ((lastLogged.get(op) ?? 0) + 60_000 > now) return
  lastLogged.set(op, now)
  x.snapshot.policies.logger.warn({ op, err: err.message }, op === 'get' ? 'cache lookup failed: served as a miss' : `cache ${op} failed`)
}

function save(x: Exchange, plan: CachePlan, answer: ChatResponse): void {
  withDeadline(plan.cache.set(plan.key, answer, plan.ttlS), SET_TIMEOUT_MS).catch((err: Error) => cacheFailed(x, 'set', err))
}

async function* keepWhenComplete(x: Exchange, plan: CachePlan, stream: ChatStream): ChatStream {
  const assembled = new StreamedAnswer()
  for await (const chunk of stream) {
    assembled.add(chunk)
    yield chunk
  }
  const answer = assembled.completion()
  if (answer) save(x, plan, answer)
}

// ---------------------------------------------------------------------------------------------
// the key

function cacheKeyOf(x: Exchange, body: ChatRequest, settings: CacheSettings, routeSignature: string): CacheKey {
  const params: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(body)) if (!NOT_IN_FINGERPRINT.has(name)) params[name] = value
  const context = sha256(canonicalJson({ tenant: tenantOf(x, settings.scope), route: x.route!.name, model: x.requestedModel, targets: routeSignature, params }))
  const fingerprint = sha256(`${context}\n${canonicalJson(body.messages)}`)
  let prompt: string | undefined
  let embedding: Promise<readonly number[]> | undefined
  return {
    fingerprint,
    context,
    request: body,
    get prompt() {
      return (prompt ??= promptText(body))
    },
    embedding() {
      embedding ??= embedThroughRoute(x, this.prompt)
      return embedding
    },
  }
}

/** Whose answers a request may share; a caller without a department keeps to its own. */
function tenantOf(x: Exchange, scope: CacheSettings['scope']): string {
  const p = x.principal
  switch (scope) {
    case 'global': return '*'
    case 'department': return p?.department !== undefined ? `department:${p.department}` : `user:${p?.userId ?? ''}`
    case 'user': return `user:${p?.userId ?? ''}`
    case 'key': return p?.keyId !== undefined ? `key:${p.keyId}` : `user:${p?.userId ?? ''}`
  }
}

/**
 * JSON with object keys in sorted order and null/undefined members left out, so two requests
 * that mean the same thing have the same text whatever order their client wrote the keys in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const entries = Object.keys(value).sort()
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined && (value as Record<string, unknown>)[k] !== null)
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
  return `{${entries.join(',')}}`
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url')

/** The conversation as one text, one `role: text` line per message: what a semantic cache embeds. */
export function promptText(body: ChatRequest): string {
  return body.messages.map((m) => {
    const content = (m as { content?: unknown }).content
    const text = typeof content === 'string' ? content
      : Array.isArray(content) ? content.map((p: { type?: string; text?: string }) => (p.type === 'text' ? p.text ?? '' : '')).join(' ') : ''
    return `${m.role}: ${text}`
  }).join('\n')
}

/** Embed through the cache's embeddings route: its targets in order, the first that answers. */
async function embedThroughRoute(x: Exchange, text: string): Promise<readonly number[]> {
  const name = x.snapshot.cache?.embeddingRoute
  if (!name) throw new Error('this cache has no embedding route')
  const resolved = x.snapshot.routes.resolve(name, { principal: x.principal, headers: x.ctx.headers, metadata: undefined })
  if (!resolved) throw new Error(`no route answers '${name}' for this caller`)
  const call: ProviderCall = { signal: AbortSignal.any([x.signal, AbortSignal.timeout(EMBED_TIMEOUT_MS)]), requestId: x.requestId, unsupported: () => undefined }
  let last: unknown = new Error(`route '${name}' has no target with embeddings`)
  for (const target of resolved.route.targets) {
    if (!target.instance.embed) continue
    try {
      const result = await target.instance.embed({ model: target.model ?? name, input: text }, call)
      const vector = result.data[0]?.embedding
      if (Array.isArray(vector) && vector.length > 0) return vector
      last = new Error(`${target.provider} returned no embedding`)
    } catch (err) {
      last = err
    }
  }
  throw last
}

// ---------------------------------------------------------------------------------------------
// streams: replay a completion, assemble a completion

/** A stored completion as a stream: per choice its role, its text, its tool calls, its finish; then usage. */
async function* replay(answer: ChatResponse, id: string, created: number): ChatStream {
  const base = { id, object: 'chat.completion.chunk' as const, created, model: answer.model, ...(answer.system_fingerprint ? { system_fingerprint: answer.system_fingerprint } : {}) }
  const chunk = (index: number, delta: ChatChunk['choices'][number]['delta'], finish: ChatChunk['choices'][number]['finish_reason'] = null): ChatChunk =>
    ({ ...base, choices: [{ index, delta, finish_reason: finish, logprobs: null }] })
  for (const choice of answer.choices) {
    const { message } = choice
    yield chunk(choice.index, { role: 'assistant', content: '' })
    if (message.content) yield chunk(choice.index, { content: message.content })
    if (message.refusal) yield chunk(choice.index, { refusal: message.refusal })
    const calls = (message.tool_calls ?? []).filter((c): c is Extract<ChatToolCall, { type: 'function' }> => c.type === 'function')
    if (calls.length) {
      yield chunk(choice.index, { tool_calls: calls.map((c, index) => ({ index, id: c.id, type: 'function' as const, function: { name: c.function.name, arguments: c.function.arguments } })) })
    }
    yield chunk(choice.index, {}, choice.finish_reason)
  }
  if (answer.usage) yield { ...base, choices: [], usage: answer.usage }
}

interface ChoiceParts {
  content: string
  refusal: string
  calls: Map<number, { id: string; name: string; arguments: string }>
  finish: ChatResponse['choices'][number]['finish_reason'] | null
}

/** A completion assembled from a stream's chunks; `completion()` is undefined unless every choice finished. */
export class StreamedAnswer {
  #head: ChatChunk | undefined
  #usage: ChatResponse['usage']
  readonly #choices = new Map<number, ChoiceParts>()

  add(chunk: ChatChunk): void {
    this.#head ??= chunk
    if (chunk.usage) this.#usage = chunk.usage
    for (const choice of chunk.choices) {
      let parts = this.#choices.get(choice.index)
      if (!parts) this.#choices.set(choice.index, (parts = { content: '', refusal: '', calls: new Map(), finish: null }))
      const { delta } = choice
      if (delta.content) parts.content += delta.content
      if (delta.refusal) parts.refusal += delta.refusal
      for (const call of delta.tool_calls ?? []) {
        const known = parts.calls.get(call.index)
        if (!known) parts.calls.set(call.index, { id: call.id ?? '', name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' })
        else {
          if (call.id) known.id = call.id
          if (call.function?.name) known.name += call.function.name
          if (call.function?.arguments) known.arguments += call.function.arguments
        }
      }
      if (choice.finish_reason) parts.finish = choice.finish_reason
    }
  }

  completion(): ChatResponse | undefined {
    const head = this.#head
    if (!head || this.#choices.size === 0) return undefined
    const choices: ChatResponse['choices'] = []
    for (const [index, parts] of [...this.#choices].sort((a, b) => a[0] - b[0])) {
      if (!parts.finish) return undefined
      const calls = [...parts.calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } }))
      choices.push({
        index,
        message: { role: 'assistant', content: parts.content || (calls.length ? null : ''), refusal: parts.refusal || null, ...(calls.length ? { tool_calls: calls } : {}) },
        finish_reason: parts.finish,
        logprobs: null,
      })
    }
    return {
      id: head.id,
      object: 'chat.completion',
      created: head.created,
      model: head.model,
      choices,
      ...(this.#usage ? { usage: this.#usage } : {}),
      ...(head.system_fingerprint ? { system_fingerprint: head.system_fingerprint } : {}),
    }
  }
}
