/**
 * Talking to the limiter backend and to the client: the guard that bounds every check and
 * remembers whether the backend answers (one log line when it goes, one when it returns), and the
 * refusals, OpenAI-shaped 429s with `retry-after` and the `x-ratelimit-*` headers OpenAI's
 * clients read (sent on admitted requests too).
 */
import { GatewayError, withDeadline, type Logger, type Metrics } from '../../../plugin-api/index.ts'
import { type LimitBucket, type LimitDecision, type Limiter } from '../../contracts/limiter.ts'
import type { AppliedLimit } from './rates.ts'

/** A limiter that does not answer within this is treated as down (its plugin should time out sooner). */
const LIMITER_GUARD_MS = 1000

const SCOPE_LABELS: Record<AppliedLimit['scope'], string> = {
  key: 'this API key', user: 'your user', department: 'your department', thread: 'this thread', organization: 'the organization', route: 'this model',
}

/**
 * One per gateway (kept across reloads): whether the limiter backend answers, and a breaker in
 * front of it. A backend that failed a check (an error, or no answer in time) is not asked again
 * for a cool-down (`limits.backend_cooldown_ms`): every request in that time gets its policies'
 * on_backend_failure at once, instead of each waiting for the backend's timeout while it hangs.
 * After the cool-down one request probes it; its answer closes the breaker, its failure starts
 * another cool-down. One log line when it goes, one when it returns.
 */
export class LimiterGuard {
  #state: 'unknown' | 'up' | 'down' = 'unknown'
  #retryAt = 0
  #probing = false
  #limiter: Limiter | undefined
  #backend = 'limiter'
  #cooldownMs = 2000
  #logger: Logger | undefined
  #failures: { inc(labels: Readonly<Record<string, string>>): void } | undefined
  #up: { set(value: number, labels?: Readonly<Record<string, string>>): void; reset(): void } | undefined

  configure(limiter: Limiter, backend: string, cooldownMs: number, logger: Logger, metrics: Metrics): void {
    if (limiter !== this.#limiter) {
      this.#state = 'unknown'
      this.#probing = false
    }
    this.#limiter = limiter
    this.#backend = backend
    this.#cooldownMs = cooldownMs
    this.#logger = logger
    this.#failures = metrics.counter('gateway_limiter_backend_failures_total', 'Limit checks the limiter backend did not answer, by what the policy did (open: admitted, closed: refused).', ['outcome'])
    this.#up = limiterGauge(metrics)
    this.#up.reset()
    this.#up.set(this.#state === 'down' ? 0 : 1, { backend })
  }

  /** The decisions, or undefined when the backend is not answering and every policy admits on failure. */
  take(buckets: readonly LimitBucket[], limits: readonly AppliedLimit[]): LimitDecision[] | undefined | Promise<LimitDecision[] | undefined> {
    return this.call(takeBuckets, limits, buckets)
  }

  /** `check` on the backend, or undefined when it is not answering and every policy in `limits` admits on failure. */
  call<T, A = undefined>(check: (limiter: Limiter, arg: A) => T | Promise<T>, limits: readonly AppliedLimit[], arg?: A): T | undefined | Promise<T | undefined> {
    if (!this.#tryAcquire()) return this.#failure(limits)
    let answer: T | Promise<T>
    try {
      answer = check(this.#limiter!, arg as A)
    } catch (err) {
      return this.#failed(err, limits)
    }
    // An answer given at once (the memory backend) needs no deadline, no timer and no promise.
    return answer instanceof Promise ? this.#settle(answer, limits) : this.#answered(answer)
  }

  async #settle<T>(answer: Promise<T>, limits: readonly AppliedLimit[]): Promise<T | undefined> {
    let decisions: T
    try {
      decisions = await withDeadline(answer, LIMITER_GUARD_MS)
    } catch (err) {
      return this.#failed(err, limits)
    }
    return this.#answered(decisions)
  }

  #failed(err: unknown, limits: readonly AppliedLimit[]): undefined {
    const wasDown = this.#state === 'down'
    this.#state = 'down'
    this.#probing = false
    this.#retryAt = Date.now() + this.#cooldownMs
    this.#up?.set(0, { backend: this.#backend })
    if (!wasDown) this.#logger?.error({ err: (err as Error).message, retry_in_ms: this.#cooldownMs }, 'limiter backend is not answering: policies with on_backend_failure: open admit requests, closed ones refuse them, until it answers again')
    return this.#failure(limits)
  }

  #answered<T>(decisions: T): T {
    if (this.#state !== 'up') {
      if (this.#state === 'down') this.#logger?.info('limiter backend answers again: rate limits are enforced')
      this.#state = 'up'
      this.#up?.set(1, { backend: this.#backend })
    }
    this.#probing = false
    return decisions
  }

  /** May a check go to the backend now? While it is down, only one probe after each cool-down. */
  #tryAcquire(): boolean {
    if (this.#state !== 'down') return true
    if (this.#probing || Date.now() < this.#retryAt) return false
    this.#probing = true
    return true
  }

  /** The limiter did not check this request: each applicable policy's on_backend_failure decides (open admits, closed refuses). */
  #failure(limits: readonly AppliedLimit[]): undefined {
    const closed = limits.filter((l) => l.failClosed)
    this.#failures?.inc({ outcome: closed.length ? 'closed' : 'open' })
    if (closed.length) {
      throw new GatewayError(`Rate limits cannot be checked right now (${SCOPE_LABELS[closed[0].scope]} limit); try again shortly.`, {
        status: 503, code: 'rate_limiter_unavailable', headers: { 'retry-after': '1' },
      })
    }
    return undefined
  }
}

/** The guard's check for a take: a function made once, not a closure per request. */
const takeBuckets = (limiter: Limiter, buckets: readonly LimitBucket[]): LimitDecision[] | Promise<LimitDecision[]> => limiter.take(buckets)

/** `gateway_limiter_backend_up{backend}`: present only while a limiter is configured. */
export function limiterGauge(metrics: Metrics): { set(value: number, labels?: Readonly<Record<string, string>>): void; reset(): void } {
  return metrics.gauge('gateway_limiter_backend_up', '1 while the limiter backend answers, 0 after a failed check until one succeeds; absent when no limiter is configured.', ['backend'])
}

/** Each unit and its headers' names (made once: every admitted request sends them). */
const UNITS = [['requests', 'x-ratelimit-limit-requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-reset-requests'],
  ['tokens', 'x-ratelimit-limit-tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-reset-tokens']] as const

/** Per unit, the bucket closest to its limit: what OpenAI's `x-ratelimit-*` headers describe, each given to `set`. */
export function setRateLimitHeaders(limits: readonly AppliedLimit[], decisions: readonly LimitDecision[], set: (name: string, value: string) => void): void {
  for (const [unit, limitHeader, remainingHeader, resetHeader] of UNITS) {
    let tightest: LimitDecision | undefined
    for (let i = 0; i < decisions.length; i++) {
      if (limits[i].unit === unit && (!tightest || decisions[i].remaining < tightest.remaining)) tightest = decisions[i]
    }
    if (!tightest) continue
    set(limitHeader, String(tightest.limit))
    set(remainingHeader, String(Math.max(0, tightest.remaining)))
    set(resetHeader, formatDuration(tightest.resetMs))
  }
}

/** The same headers as an object (a refusal carries them). */
export function rateLimitHeaders(limits: readonly AppliedLimit[], decisions: readonly LimitDecision[]): Record<string, string> {
  const headers: Record<string, string> = {}
  setRateLimitHeaders(limits, decisions, (name, value) => { headers[name] = value })
  return headers
}

export function rateLimited(limit: AppliedLimit, decision: LimitDecision, headers: Record<string, string>): GatewayError {
  const seconds = decision.retryAfterMs / 1000
  return new GatewayError(
    `Rate limit reached for ${limit.unit} per ${limit.window} (${SCOPE_LABELS[limit.scope]}): limit ${limit.limit}, remaining ${decision.remaining}. Try again in ${formatDuration(decision.retryAfterMs)}.`,
    {
      status: 429,
      code: 'rate_limit_exceeded',
      headers: { ...headers, 'retry-after': String(Math.max(1, Math.ceil(seconds))), 'retry-after-ms': String(Math.ceil(decision.retryAfterMs)) },
    },
  )
}

export function tooLargeForLimit(limit: AppliedLimit, tokens: number): GatewayError {
  return new GatewayError(
    `Request too large for the ${limit.scope} limit of ${limit.limit} ${limit.unit} per ${limit.window}: it needs about ${tokens} (prompt plus max_tokens). Shorten the prompt or lower max_tokens.`,
    { status: 429, code: 'rate_limit_exceeded', headers: { 'x-should-retry': 'false' } },
  )
}

/** A duration as OpenAI writes its reset headers: `250ms`, `1s`, `1.5s`, `6m0s`, `1h2m3s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`
  const totalSeconds = Math.ceil(ms) / 1000
  const hours = Math.floor(totalSeconds / 3600)
  const minutes = Math.floor((totalSeconds % 3600) / 60)
  const seconds = Math.round((totalSeconds % 60) * 1000) / 1000
  if (hours) return `${hours}h${minutes}m${Math.floor(seconds)}s`
  if (minutes) return `${minutes}m${Math.floor(seconds)}s`
  return `${seconds}s`
}
