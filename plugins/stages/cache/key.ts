/**
 * The cache key of a chat request: a fingerprint of its canonical form (tenant, route and its
 * targets, messages, tools, every parameter that changes the answer, a thinking budget; key order, `user`,
 * `metadata` and `stream_options` do not matter), and the same without the messages' text (the
 * context a semantic cache compares prompts within: what the messages hold besides text, images,
 * files, audio, tool calls, is in it, so prompts are alike only when those are the same).
 */
import { hash } from 'node:crypto'
import { canonicalJson, type ChatRequest, type Principal, type StageExchange } from '../../../plugin-api/index.ts'
import { type CacheKey } from '../../contracts/cache.ts'
import { thinkingAskOf } from '../../contracts/thinking.ts'

export type CacheScope = 'department' | 'user' | 'key' | 'global'

/**
 * Parameters that do not change the answer, left out of the fingerprint. Everything else counts,
 * so a parameter the gateway does not know yet can never make two different requests collide.
 */
const NOT_IN_FINGERPRINT: ReadonlySet<string> = new Set([
  'model', 'messages', 'stream', 'stream_options', 'user', 'metadata', 'store', 'service_tier', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention',
])

export function cacheKeyOf(x: StageExchange, body: ChatRequest, scope: CacheScope, embed: (text: string) => Promise<readonly number[]>): CacheKey {
  const params: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(body)) if (!NOT_IN_FINGERPRINT.has(name)) params[name] = value
  const route = x.route!
  const beyondText = beyondTextOf(body.messages)
  // Thinking asked on Anthropic's wire (a budget, or adaptive at an effort) is on a symbol key, which Object.entries skips: it changes the
  // answer (the provider sends it as reasoning_effort, or as the budget itself to Gemini 2.5 and Claude), so it counts too; absent, the key is as before.
  const thinking = thinkingAskOf(body)
  // v 2: entries stored before beyondText was in the context (an answer about an image, under a
  // context that named no image) are never found again.
  const context = sha256(canonicalJson({ v: 2, tenant: tenantOf(x.principal, scope), route: route.name, model: x.requestedModel, targets: route.signature, params, ...(beyondText ? { beyondText } : {}), ...(thinking ? { thinking } : {}) }))
  const fingerprint = sha256(`${context}\n${canonicalJson(body.messages)}`)
  return new RequestCacheKey(fingerprint, context, body, embed)
}

/**
 * A class rather than an object literal with a getter and a method: the literal's closures held the
 * request (and, through `embed`, its exchange), and V8 kept every cache hit's whole request graph
 * alive through two young collections into the old generation (8.2 kB promoted a hit, against
 * 0.3 kB with the class; bench/heap-profile.ts with HEAP_PROFILE_ROW=cache, bench/RESULTS.md).
 */
class RequestCacheKey implements CacheKey {
  readonly fingerprint: string
  readonly context: string
  readonly request: ChatRequest
  readonly #embed: (text: string) => Promise<readonly number[]>
  #prompt: string | undefined
  #embedding: Promise<readonly number[]> | undefined

  constructor(fingerprint: string, context: string, request: ChatRequest, embed: (text: string) => Promise<readonly number[]>) {
    this.fingerprint = fingerprint
    this.context = context
    this.request = request
    this.#embed = embed
  }

  get prompt(): string {
    return (this.#prompt ??= promptText(this.request))
  }

  embedding(): Promise<readonly number[]> {
    return (this.#embedding ??= this.#embed(this.prompt))
  }
}

/** Whose answers a request may share; a caller without a department keeps to its own. */
function tenantOf(p: Principal | undefined, scope: CacheScope): string {
  switch (scope) {
    case 'global': return '*'
    case 'department': return p?.department !== undefined ? `department:${p.department}` : `user:${p?.userId ?? ''}`
    case 'user': return `user:${p?.userId ?? ''}`
    case 'key': return p?.keyId !== undefined ? `key:${p.keyId}` : `user:${p?.userId ?? ''}`
  }
}

/** One-shot: no Hash object per call (two per cached request; half the cost and less garbage). */
const sha256 = (text: string): string => hash('sha256', text, 'base64url')

/**
 * What the messages hold besides the text promptText embeds, as far as it changes the answer:
 * image, file and audio parts, the tools called and with what arguments, names; undefined when
 * they are text alone. A semantic cache compares prompts by their text: without this, one caller's
 * question about their own payslip image was answered with another's answer about theirs. Ids
 * (tool call ids) and what clients echo back of an answer (refusal, annotations) are left out, so
 * agentic conversations alike still meet.
 */
function beyondTextOf(messages: ChatRequest['messages']): unknown[] | undefined {
  let beyond: unknown[] | undefined
  messages.forEach((m, index) => {
    const { content, name, tool_calls: calls } = m as { content?: unknown; name?: unknown; tool_calls?: unknown }
    const parts = Array.isArray(content) ? (content as { type?: string }[]).filter((p) => p?.type !== 'text') : []
    const tools = Array.isArray(calls) ? (calls as { type?: string; function?: { name?: string; arguments?: string } }[]).map((c) => [c.type, c.function?.name, c.function?.arguments]) : []
    if (parts.length === 0 && tools.length === 0 && name === undefined) return
    ;(beyond ??= []).push({ index, parts, tools, name })
  })
  return beyond
}

/** The conversation as one text, one `role: text` line per message: what a semantic cache embeds. */
export function promptText(body: ChatRequest): string {
  return body.messages.map((m) => {
    const content = (m as { content?: unknown }).content
    const text = typeof content === 'string' ? content
      : Array.isArray(content) ? content.map((p: { type?: string; text?: string }) => (p.type === 'text' ? p.text ?? '' : '')).join(' ') : ''
    return `${m.role}: ${text}`
  }).join('\n')
}
