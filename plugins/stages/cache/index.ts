/**
 * stage.cache: answers repeated chat requests from the cache backend (`cache:`, the Cache
 * capability) without calling the provider. In the access phase it decides whether a request may
 * use the cache and looks it up (a hit is replayed as the client asked: a completion, or a stream
 * of chunks); in the response phase it keeps the answer that came back (a stream is assembled
 * into a completion first, and kept only if it ended normally). Every chat response says
 * `x-gateway-cache: hit | miss | bypass`.
 *
 * Cacheable by default: deterministic requests (temperature 0); a route's `cache: true` opts
 * every request in, `cache: false` out. `Cache-Control: no-store` bypasses the cache both ways;
 * `no-cache` skips the lookup but keeps the fresh answer. Answers are partitioned by tenant
 * (`cache.scope`, the caller's department by default). A semantic backend's embeddings go
 * through the gateway's own embeddings route, as child requests (routed, limited, accounted).
 */
import { completionStream, definePlugin, isChatStream, ThrottledLog, withDeadline, type ChatRequest, type ChatResponse, type ChatResult, type Stage, type StageExchange } from '../../../plugin-api/index.ts'
import { CACHE_OPTIONS_SCHEMA, Cache, type CachedAnswer, type CacheKey } from '../../contracts/cache.ts'
import { StreamedAnswer } from '../../contracts/streamed-answer.ts'
import { cacheKeyOf, type CacheScope } from './key.ts'

interface CacheStageConfig {
  ttl_s: number
  scope: CacheScope
  lookup_timeout_ms: number
}

type CacheResult = 'hit' | 'miss' | 'bypass'

interface CachePlan {
  readonly key: CacheKey
  readonly ttlS: number
}

export const CACHE_HEADER = 'x-gateway-cache'
/** Saving an answer must not hold anything up for long; a slower backend loses that answer. */
const SET_TIMEOUT_MS = 5000
/** Failures are logged at most once a minute per operation (a dead backend must not flood the log). */
const LOG_EVERY_MS = 60_000

export default definePlugin<CacheStageConfig, Stage>({
  id: 'stage.cache',
  kind: 'stage',
  description: 'Response caching on the cache backend: lookups before the call, answers kept after it.',
  configSchema: { type: 'object', properties: { ...CACHE_OPTIONS_SCHEMA } },
  uses: [Cache],
  // `cache:` holds the backend (`plugin:` and its options) beside this stage's options (CACHE_OPTIONS_SCHEMA).
  enabledByDefault: { at: ['cache'], omit: ['plugin'] },
  setup(ctx, config) {
    const backend = ctx.tryGet(Cache)
    // Without a cache backend every chat response still says so.
    if (!backend) return { priority: 100, access: (x) => x.setHeader(CACHE_HEADER, 'bypass') }
    const cache = backend
    const lookups = ctx.metrics.counter('gateway_cache_lookups_total', 'Chat requests by cache result: hit, miss, or bypass (not cacheable or the client said no-cache).', ['route', 'result'])
    const errors = ctx.metrics.counter('gateway_cache_errors_total', 'Cache operations that failed or timed out (a failed lookup is served as a miss).', ['op'])
    const failures = new ThrottledLog(LOG_EVERY_MS)
    const plans = new WeakMap<StageExchange, CachePlan>()

    const report = (x: StageExchange, result: CacheResult): void => {
      x.setHeader(CACHE_HEADER, result)
      lookups.inc({ route: x.route?.name ?? '', result })
    }
    const failed = (op: 'get' | 'set', err: Error): void => {
      errors.inc({ op })
      failures.note(op, (times) => ctx.logger.warn({ op, err: err.message, times }, op === 'get' ? 'cache lookup failed: served as a miss' : 'cache set failed'))
    }
    /** Kept with the target that answered, so a hit is accounted to it. */
    const save = (x: StageExchange, plan: CachePlan, answer: ChatResponse): void => {
      const kept: CachedAnswer = x.provider && x.upstreamModel ? { ...answer, gateway_origin: { provider: x.provider, model: x.upstreamModel } } : answer
      withDeadline(cache.set(plan.key, kept, plan.ttlS), SET_TIMEOUT_MS).catch((err: Error) => failed('set', err))
    }
    /** The lookup's outcome: a miss, or the stored answer replayed as the client asked (a completion, or a stream of chunks). */
    const answerWith = (x: StageExchange, found: CachedAnswer | undefined): ChatResult | void => {
      if (!found) return report(x, 'miss')
      report(x, 'hit')
      plans.delete(x)
      // An entry kept before origins were recorded has none: its hit is accounted with no provider.
      const { gateway_origin: origin, ...answer } = found
      x.markCacheHit(answer, origin)
      const id = `chatcmpl-cache-${x.requestId}`
      const created = Math.floor(Date.now() / 1000)
      return x.streaming ? completionStream(answer, { id, created }) : { ...answer, id, created }
    }
    /** A backend that answers later (redis, semantic) is given `lookup_timeout_ms`; a failure or a timeout is a miss. */
    const lookedUp = async (x: StageExchange, lookup: Promise<CachedAnswer | undefined>): Promise<ChatResult | void> => {
      let answer: CachedAnswer | undefined
      try {
        answer = await withDeadline(lookup, config.lookup_timeout_ms)
      } catch (err) {
        failed('get', err as Error)
      }
      return answerWith(x, answer)
    }

    return {
      priority: 100,
      check(routes) {
        const name = cache.embeddingRoute
        if (name === undefined) return
        const route = routes.resolve(name)
        if (!route) throw Object.assign(new Error(`no route answers '${name}' (the semantic cache embeds prompts through it; add it under routes:)`), { path: ['embedding_route'] })
        if (!route.targets.some((t) => t.embeddings)) throw Object.assign(new Error(`route '${name}' has no target whose provider makes embeddings`), { path: ['embedding_route'] })
      },
      access(x): ChatResult | void | Promise<ChatResult | void> {
        const body = x.request as ChatRequest
        const setting = x.route!.settings.cache as boolean | { ttl_s?: number } | undefined
        const cacheControl = String(x.headers['cache-control'] ?? '').toLowerCase()
        const cacheable = setting !== false && (setting !== undefined || body.temperature === 0) && !cacheControl.includes('no-store')
        if (!cacheable) return report(x, 'bypass')
        // The answer is read and kept in the unified shape: no same-wire passthrough for it.
        x.requireTranslation()
        const ttlS = typeof setting === 'object' && setting.ttl_s !== undefined ? setting.ttl_s : config.ttl_s
        const embeddingRoute = cache.embeddingRoute
        const key = cacheKeyOf(x, body, config.scope, async (text) => {
          const call = await x.gateway.embed({ model: embeddingRoute!, input: text })
          const vector = call.result.data[0]?.embedding
          if (!Array.isArray(vector) || vector.length === 0) throw new Error(`route '${embeddingRoute}' returned no embedding`)
          return vector
        })
        plans.set(x, { key, ttlS })
        if (cacheControl.includes('no-cache')) return report(x, 'bypass')
        let found: CachedAnswer | undefined | Promise<CachedAnswer | undefined>
        try {
          found = cache.get(key)
        } catch (err) {
          failed('get', err as Error)
          return report(x, 'miss')
        }
        // The memory backend answers at once: no deadline, no timer, no promise on a hit.
        return found instanceof Promise ? lookedUp(x, found) : answerWith(x, found)
      },
      response(x, result) {
        const plan = plans.get(x)
        if (!plan) return
        if (!isChatStream(result as ChatResult)) {
          save(x, plan, result as ChatResponse)
          return
        }
        const assembled = new StreamedAnswer()
        x.observe((chunk) => assembled.add(chunk), (complete) => {
          const answer = complete ? assembled.completion() : undefined
          if (answer) save(x, plan, answer)
        })
      },
    }
  },
})
