/**
 * Response cache backends (`cache:`: memory, redis, semantic) and the cache stage that asks them:
 * the kernel sets a backend up and offers it as `Cache`, and never calls it itself.
 */
import { token, type AnswerOrigin, type ChatRequest, type ChatResponse, type JsonSchema, type Lifecycle, type Token } from '../../plugin-api/index.ts'

/** What a cache is asked about: one chat request, canonicalised by the cache stage. */
export interface CacheKey {
  /** A hash of the request's canonical form (tenant, route and its targets, messages, tools, parameters). */
  readonly fingerprint: string
  /** The same without the messages: a semantic cache compares prompts only within one context. */
  readonly context: string
  readonly request: ChatRequest
  /** The conversation as one text, as it is embedded. */
  readonly prompt: string
  /** The prompt's embedding through the cache's `embeddingRoute` (a child request of this one); computed once. */
  embedding(): Promise<readonly number[]>
}

/**
 * The `cache:` block holds the cache stage's options beside the backend's own: every cache
 * backend's configSchema spreads these into its `properties`, so one block validates as one.
 */
export const CACHE_OPTIONS_SCHEMA: Readonly<Record<string, JsonSchema>> = Object.freeze({
  ttl_s: { type: 'integer', minimum: 1, default: 600, description: 'How long an answer is kept, in seconds (a route\'s `cache: { ttl_s }` overrides it).' },
  scope: {
    enum: ['department', 'user', 'key', 'global'], default: 'department',
    description: 'Whose answers a request may get: its department\'s (callers without one: their own), its user\'s, its key\'s, or everyone\'s.',
  },
  lookup_timeout_ms: { type: 'integer', minimum: 1, default: 1000, description: 'A lookup slower than this counts as a miss (the request goes upstream).' },
})

/**
 * An answer as it is kept: the completion, and the target that produced it (`gateway_origin`, so a
 * hit is accounted to that provider and model). Entries kept before the origin was recorded have
 * none: their hits are accounted with no provider. The cache stage strips it before replaying.
 */
export type CachedAnswer = ChatResponse & { readonly gateway_origin?: AnswerOrigin }

/** A response cache backend (`cache:`). */
export interface Cache extends Lifecycle {
  /** A route of this gateway that embeds text, for caches that compare embeddings. */
  readonly embeddingRoute?: string
  /**
   * A stored answer for this request, or undefined. A backend in this process may answer at once
   * (no promise: the stage then needs no deadline, no timer and no promise); one that fails should
   * throw or reject (counted a miss).
   */
  get(key: CacheKey): CachedAnswer | undefined | Promise<CachedAnswer | undefined>
  set(key: CacheKey, answer: CachedAnswer, ttlSeconds: number): Promise<void>
}

export const Cache: Token<Cache> = token<Cache>('Cache')
