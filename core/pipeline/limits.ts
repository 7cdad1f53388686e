/**
 * The limits stage, after the route is resolved and authorized: budgets first (spend so far plus
 * this request's estimated cost), then every applicable rate-limit bucket in one atomic take
 * (one round trip to a shared limiter). Tokens are estimated before the call (ceil(bytes / 4) of
 * the prompt, plus max_tokens × n: cheap and bounded, core/usage/tokens.ts) and corrected with
 * the actual usage when the exchange ends; the exchange's cost accrues to its budgets then.
 *
 * Refusals are OpenAI-shaped 429s with `retry-after` and the `x-ratelimit-*` headers OpenAI's
 * clients read (also sent on admitted requests); a budget refusal is 402 (or 429) `budget_exceeded`.
 */
import type { ChatRequest, EmbeddingRequest } from '../api/types.ts'
import { withDeadline } from '../deadline.ts'
import { GatewayError } from '../errors.ts'
import type { LimitBucket, LimitDecision } from '../plugins/types.ts'
import { endOfPeriod, type AppliedBudget, type AppliedLimit, type GatewayPolicies, type LimitFacts } from '../runtime/policies.ts'
import { estimatePromptTokens, estimateTextTokens } from '../usage/tokens.ts'
import type { Exchange } from './exchange.ts'

/** A token estimate made before the call. */
export interface TokenEstimate {
  readonly prompt: number
  /** The most the answer may use (max_tokens × n), 0 when the client set no bound. */
  readonly completion: number
}

/** A limiter that does not answer within this is treated as down (its plugin should time out sooner: limiter.redis's timeout_ms). */
const LIMITER_GUARD_MS = 1000
const THREAD_HEADER = 'x-thread-id'

/** Check budgets and rate limits for `x`; throws the refusal, or arranges the corrections at the end of the exchange. */
export async function enforceLimits(x: Exchange, estimate: () => TokenEstimate, metadata?: Readonly<Record<string, unknown>> | null): Promise<void> {
  const policies = x.snapshot.policies
  if (!policies.active) return
  const facts: LimitFacts = { principal: x.principal, route: x.route!.name, thread: threadOf(x, metadata) }
  const limits = policies.limitsFor(facts)
  const budgets = policies.budgetsFor(facts)
  if (limits.length === 0 && budgets.length === 0) return

  const tokens = budgets.length > 0 || limits.some((l) => l.unit === 'tokens') ? estimate() : { prompt: 0, completion: 0 }
  const estimated = tokens.prompt + tokens.completion
  if (budgets.length) await checkBudgets(x, policies, budgets, tokens)
  const taken = limits.length ? await takeLimits(x, policies, limits, estimated) : false

  x.onEnd.push((done, outcome) => {
    if (budgets.length) policies.ledger.accrue(budgets, outcome.costUsd)
    // Tokens a cache hit did not spend upstream are not held against the caller's token limits.
    const actual = done.cacheHit ? 0 : outcome.promptTokens + outcome.completionTokens
    const tokenBuckets = taken ? limits.filter((l) => l.unit === 'tokens') : []
    if (tokenBuckets.length && actual !== estimated) {
      const correction = tokenBuckets.map((l) => bucket(l, actual - estimated))
      x.snapshot.limiter!.adjust(correction).catch((err: Error) => policies.logger.debug({ err: err.message }, 'token limit correction failed'))
    }
  })
}

/** A chat request's estimated prompt tokens and the most its answer may use. */
export function estimateChat(body: ChatRequest): () => TokenEstimate {
  return () => {
    const bound = positive(body.max_completion_tokens) ?? positive(body.max_tokens) ?? 0
    return { prompt: estimatePromptTokens(body), completion: bound * (positive(body.n) ?? 1) }
  }
}

const positive = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined)

/** Estimated tokens of an embeddings request's inputs (token-id inputs count as given). */
export function estimateEmbeddings(body: EmbeddingRequest): () => TokenEstimate {
  return () => {
    const input: unknown = body.input
    // One token array is one input; a list of strings or token arrays is several.
    const inputs: unknown[] = Array.isArray(input) && !input.every((i) => typeof i === 'number') ? input : [input]
    let prompt = 0
    for (const item of inputs) prompt += typeof item === 'string' ? estimateTextTokens(item) : Array.isArray(item) ? item.length : 0
    return { prompt, completion: 0 }
  }
}

function threadOf(x: Exchange, metadata: Readonly<Record<string, unknown>> | null | undefined): string | undefined {
  const header = x.ctx.get(THREAD_HEADER)
  if (header) return header
  const fromBody = metadata?.thread_id
  return typeof fromBody === 'string' && fromBody.length > 0 ? fromBody : undefined
}

const bucket = (limit: AppliedLimit, cost: number): LimitBucket => ({ key: limit.key, limit: limit.limit, windowMs: limit.windowMs, cost })

// ---------------------------------------------------------------------------------------------
// rate limits

/** Take the request's buckets; true when the limiter counted them (false: it failed open). */
async function takeLimits(x: Exchange, policies: GatewayPolicies, limits: readonly AppliedLimit[], tokens: number): Promise<boolean> {
  const limiter = x.snapshot.limiter!
  const buckets = limits.map((l) => bucket(l, l.unit === 'requests' ? 1 : tokens))
  // A request larger than a whole window of a token limit can never be admitted: say so, do not ask to retry.
  const tooLarge = limits.find((l, i) => buckets[i].cost > l.limit)
  if (tooLarge) {
    policies.metrics.limiterRejections.inc({ scope: tooLarge.scope, kind: tooLarge.unit })
    throw new GatewayError(
      `Request too large for the ${tooLarge.scope} limit of ${tooLarge.limit} ${tooLarge.unit} per ${tooLarge.window}: it needs about ${tokens} (prompt plus max_tokens). Shorten the prompt or lower max_tokens.`,
      { status: 429, code: 'rate_limit_exceeded', headers: { 'x-should-retry': 'false' } },
    )
  }

  const health = x.snapshot.services.limiterHealth.get(limiter)
  // While the backend is down, requests do not wait for it: only one probe after each cool-down.
  if (!health.tryAcquire()) {
    applyBackendFailure(policies, limits)
    return false
  }
  let decisions: LimitDecision[]
  try {
    decisions = await withDeadline(limiter.take(buckets), LIMITER_GUARD_MS)
  } catch (err) {
    if (health.failed(policies.limiterCooldownMs)) {
      policies.logger.error({ err: (err as Error).message, retry_in_ms: policies.limiterCooldownMs }, 'limiter backend is not answering: policies with on_backend_failure: open admit requests, closed ones refuse them, until it answers again')
    }
    applyBackendFailure(policies, limits)
    return false
  }
  if (health.answered()) policies.logger.info('limiter backend answers again: rate limits are enforced')

  const headers = rateLimitHeaders(limits, decisions)
  const refused = decisions.map((d, i) => [d, limits[i]] as const).filter(([d]) => !d.allowed)
  if (refused.length === 0) {
    x.ctx.set(headers)
    return true
  }
  // Admitted only once every refusing bucket would admit it.
  const [decision, limit] = refused.reduce((a, b) => (b[0].retryAfterMs > a[0].retryAfterMs ? b : a))
  policies.metrics.limiterRejections.inc({ scope: limit.scope, kind: limit.unit })
  const seconds = decision.retryAfterMs / 1000
  throw new GatewayError(
    `Rate limit reached for ${limit.unit} per ${limit.window} (${scopeLabel(limit.scope)}): limit ${limit.limit}, remaining ${decision.remaining}. Try again in ${formatDuration(decision.retryAfterMs)}.`,
    {
      status: 429,
      code: 'rate_limit_exceeded',
      headers: { ...headers, 'retry-after': String(Math.max(1, Math.ceil(seconds))), 'retry-after-ms': String(Math.ceil(decision.retryAfterMs)) },
    },
  )
}

/** Per unit, the bucket closest to its limit: what OpenAI's `x-ratelimit-*` headers describe. */
function rateLimitHeaders(limits: readonly AppliedLimit[], decisions: readonly LimitDecision[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const unit of ['requests', 'tokens'] as const) {
    let tightest: LimitDecision | undefined
    decisions.forEach((d, i) => {
      if (limits[i].unit === unit && (!tightest || d.remaining < tightest.remaining)) tightest = d
    })
    if (!tightest) continue
    headers[`x-ratelimit-limit-${unit}`] = String(tightest.limit)
    headers[`x-ratelimit-remaining-${unit}`] = String(Math.max(0, tightest.remaining))
    headers[`x-ratelimit-reset-${unit}`] = formatDuration(tightest.resetMs)
  }
  return headers
}

/** The limiter did not check this request: each applicable policy's on_backend_failure decides (open admits, closed refuses). */
function applyBackendFailure(policies: GatewayPolicies, limits: readonly AppliedLimit[]): void {
  const closed = limits.filter((l) => l.failClosed)
  policies.metrics.limiterBackendFailures.inc({ outcome: closed.length ? 'closed' : 'open' })
  if (closed.length) {
    throw new GatewayError(`Rate limits cannot be checked right now (${scopeLabel(closed[0].scope)} limit); try again shortly.`, {
      status: 503, code: 'rate_limiter_unavailable', headers: { 'retry-after': '1' },
    })
  }
}

// ---------------------------------------------------------------------------------------------
// budgets

async function checkBudgets(x: Exchange, policies: GatewayPolicies, budgets: readonly AppliedBudget[], tokens: TokenEstimate): Promise<void> {
  const now = Date.now()
  const route = x.route!
  const model = route.targets[0]?.model ?? x.requestedModel
  const estimatedUsd = x.snapshot.prices.cost(model, { prompt: tokens.prompt, completion: tokens.completion, cached: 0 })
  const spent = await Promise.all(budgets.map((b) => policies.ledger.spent(b, x.snapshot.store, policies.budgetRefreshMs, now)))
  for (const [i, budget] of budgets.entries()) {
    if (spent[i] < budget.usd && spent[i] + estimatedUsd <= budget.usd) continue
    policies.metrics.limiterRejections.inc({ scope: budget.scope, kind: 'budget' })
    const whose = budget.scope === 'organization' ? 'The organization\'s' : budget.scope === 'key' ? 'This API key\'s' : budget.scope === 'user' ? 'Your' : `Your department's (${budget.subject})`
    const state = spent[i] >= budget.usd ? `is used up ($${usd(spent[i])} spent)` : `would be exceeded: $${usd(spent[i])} spent and this request may cost up to $${usd(estimatedUsd)}`
    throw new GatewayError(
      `${whose} budget of $${usd(budget.usd)} per ${budget.period} ${state}. It resets at ${new Date(endOfPeriod(budget.period, now)).toISOString()}.`,
      { status: policies.budgetStatus, code: 'budget_exceeded', type: 'insufficient_quota', headers: { 'x-should-retry': 'false' } },
    )
  }
}

// ---------------------------------------------------------------------------------------------

const usd = (n: number): string => (n >= 1 ? n.toFixed(2) : String(Math.round(n * 1e6) / 1e6))

const SCOPE_LABELS: Record<AppliedLimit['scope'], string> = {
  key: 'this API key', user: 'your user', department: 'your department', thread: 'this thread', organization: 'the organization', route: 'this model',
}
const scopeLabel = (scope: AppliedLimit['scope']): string => SCOPE_LABELS[scope]

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
