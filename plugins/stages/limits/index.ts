/**
 * stage.limits: rate limits and budgets, in the access phase (before anything costly) and the log
 * phase (settlement once the actual usage is known). Configured by `limits:` (policies, budgets),
 * the departments' `limits` and `budget`, and each API key's own; counted by the limiter backend
 * (`limits.backend`, the Limiter capability) and, for spend, the usage log.
 *
 *   access: every applicable rate-limit bucket taken, and the request's estimated cost reserved
 *           from every budget it spends from, all or none. With a limiter that keeps budgets
 *           (limiter.redis) that is one atomic step on it, shared by every process; otherwise the
 *           budgets are reserved in this process (exact within it) around the bucket take.
 *   log:    the reservation replaced by the actual cost (a failure, refusal or cache hit spends
 *           nothing; a cancelled stream what arrived), the token buckets corrected by actual −
 *           estimate: one step on a shared limiter.
 *
 * Tokens are a cheap estimate (prompt bytes / 4 + max_tokens). A call the gateway makes on
 * behalf of another request (a cache's embeddings) draws tokens and spend, not requests: its
 * parent request was counted already.
 */
import { randomBytes } from 'node:crypto'
import { definePlugin, ThrottledLog, type ExchangeOutcome, type Principal, type Stage, type StageExchange } from '../../../plugin-api/index.ts'
import { Limiter, type BudgetHold, type BudgetReservation, type BudgetStanding, type LimitBucket, type LimitDecision } from '../../contracts/limiter.ts'
import { Identity, UsageLog } from '../../contracts/capabilities.ts'
import { budgetExceeded, budgetsFor, compileBudget, endOfPeriod, startOfPeriod, usd, type AppliedBudget, type BudgetConfig, type CompiledBudget } from './budgets.ts'
import { estimateCost, type CostEstimate } from './estimate.ts'
import type { LimitFacts, LimitWhen, RateLimits } from './facts.ts'
import { BudgetLedger } from './ledger.ts'
import { RATES, bucket, compilePolicy, limitsFor, type AppliedLimit, type BackendFailure, type CompiledPolicy, type LimitPolicyConfig } from './rates.ts'
import { limitConfigIssues } from './config-check.ts'
import { LimiterGuard, limiterGauge, rateLimitHeaders, rateLimited, setRateLimitHeaders, tooLargeForLimit } from './refusals.ts'

export interface LimitsConfig {
  policies?: LimitPolicyConfig[]
  budgets?: BudgetConfig[]
  on_backend_failure?: BackendFailure
  budget_status?: 402 | 429
  budget_alerts?: number[]
  budget_refresh_s?: number
  budget_default_max_tokens?: number
  budget_reservation_ttl_s?: number
  backend_cooldown_ms?: number
  /** The limiter backend's plugin name (`limits.backend.plugin`), for the metric's label. */
  limiter?: string
  /** `departments:`, for their limits and budgets. */
  departments?: Record<string, { limits?: RateLimits; budget?: { usd_per_day?: number; usd_per_month?: number } }>
}

/** The limits and budget an API key carries (`api_keys.limits`), as its principal has them. */
interface KeyLimits extends RateLimits {
  readonly budget_usd_per_day?: number
  readonly budget_usd_per_month?: number
}

const DEFAULT_ALERTS: readonly number[] = [0.8, 1]
const DEFAULT_BUDGET_REFRESH_S = 10
const DEFAULT_MAX_TOKENS = 4096
const DEFAULT_RESERVATION_TTL_S = 600
/** The header an admitted request's answer carries: the least any of its budgets has left, in USD, after its reservation. */
const REMAINING_HEADER = 'x-gateway-budget-remaining'
/** How long a limiter backend that failed a check is left alone before one request probes it. */
const DEFAULT_COOLDOWN_MS = 2000

export default definePlugin<LimitsConfig, Stage>({
  id: 'stage.limits',
  kind: 'stage',
  description: 'Rate limits (GCRA buckets on the limiter backend) and budgets (USD per day/month) before the call; corrections after it.',
  // The core schema validates `limits:` and `departments:`; this block is assembled from them.
  configSchema: { type: 'object' },
  // `limits:` less the limiter's `backend` (its plugin's name labels the metric), with the departments' limits and budgets.
  enabledByDefault: { at: ['limits'], omit: ['backend'], include: { departments: ['departments'], limiter: ['limits', 'backend', 'plugin'] } },
  checkConfig: limitConfigIssues,
  uses: [Limiter, UsageLog, Identity],
  setup(ctx, config) {
    const limiter = ctx.tryGet(Limiter)
    const usageLog = ctx.tryGet(UsageLog)
    // Virtual keys (kept by the identity plugin) may carry limits and budgets of their own.
    const keysMayLimit = ctx.tryGet(Identity) !== undefined
    const defaultFailure = config.on_backend_failure ?? 'open'
    const alerts = [...(config.budget_alerts ?? DEFAULT_ALERTS)].sort((a, b) => a - b)
    const budgetStatus = config.budget_status ?? 402
    const refreshMs = (config.budget_refresh_s ?? DEFAULT_BUDGET_REFRESH_S) * 1000
    const defaultMaxTokens = config.budget_default_max_tokens ?? DEFAULT_MAX_TOKENS
    const holdMs = (config.budget_reservation_ttl_s ?? DEFAULT_RESERVATION_TTL_S) * 1000
    // Reservation ids: unique across processes sharing a ledger (a client may reuse x-request-id).
    const reservationPrefix = randomBytes(6).toString('base64url')
    let reservations = 0

    const policies: CompiledPolicy[] = (config.policies ?? []).map((p) => compilePolicy(p, defaultFailure))
    const budgets: CompiledBudget[] = (config.budgets ?? []).map((b) => compileBudget(b, alerts))
    for (const [name, dept] of Object.entries(config.departments ?? {})) {
      const only: LimitWhen = { departments: [name] }
      if (dept.limits && Object.keys(dept.limits).length) policies.push(compilePolicy({ scope: 'department', when: only, ...dept.limits }, defaultFailure))
      if (dept.budget && (dept.budget.usd_per_day !== undefined || dept.budget.usd_per_month !== undefined)) budgets.push(compileBudget({ scope: 'department', when: only, ...dept.budget }, alerts))
    }

    if (!limiter) limiterGauge(ctx.metrics).reset()
    // Nothing could ever limit a request: no hooks, so the stage costs nothing per request.
    if (policies.length === 0 && budgets.length === 0 && !limiter && !keysMayLimit) return { priority: 1000 }

    const metrics = {
      rejections: ctx.metrics.counter('gateway_limiter_rejections_total', 'Requests refused by a rate limit or budget.', ['scope', 'kind']),
      alerts: ctx.metrics.counter('gateway_budget_alerts_total', 'Budget thresholds crossed, by scope, period and threshold.', ['scope', 'period', 'threshold']),
    }
    // Spend and the limiter's up/down state outlive reloads.
    const ledger = ctx.keep('ledger', () => new BudgetLedger())
    ledger.configure(ctx.logger, metrics.alerts)
    const guard = limiter ? ctx.keep('guard', () => new LimiterGuard()) : undefined
    guard?.configure(limiter!, config.limiter ?? 'limiter', config.backend_cooldown_ms ?? DEFAULT_COOLDOWN_MS, ctx.logger, ctx.metrics)

    // Per-key tables, compiled once per limits object (a cached principal carries the same one).
    const keyTables = new WeakMap<object, { policy?: CompiledPolicy; budget?: CompiledBudget }>()
    let warnedNoLimiter = false
    const keyTable = (principal: Principal | undefined): { policy?: CompiledPolicy; budget?: CompiledBudget } | undefined => {
      const limits = principal?.limits as KeyLimits | undefined
      if (!limits || Object.keys(limits).length === 0) return undefined
      let table = keyTables.get(limits)
      if (!table) {
        const rates: RateLimits = {}
        for (const [field] of RATES) if (typeof limits[field] === 'number' && limits[field]! > 0) rates[field] = limits[field]
        table = {
          policy: Object.keys(rates).length ? compilePolicy({ scope: 'key', ...rates }, defaultFailure) : undefined,
          budget: typeof limits.budget_usd_per_day === 'number' || typeof limits.budget_usd_per_month === 'number'
            ? compileBudget({ scope: 'key', usd_per_day: limits.budget_usd_per_day, usd_per_month: limits.budget_usd_per_month }, DEFAULT_ALERTS)
            : undefined,
        }
        keyTables.set(limits, table)
      }
      return table
    }

    /** The buckets and budgets `x` draws from, worked out from the policies. */
    const workOut = (x: StageExchange): Applicable => {
      const facts: LimitFacts = { principal: x.principal, route: x.route!.name, thread: x.thread }
      const own = keyTable(x.principal)
      let keyPolicy = own?.policy
      if (keyPolicy && !limiter) {
        if (!warnedNoLimiter) ctx.logger.warn('an API key has rate limits but gateway.yaml configures no limiter (limits.backend): its rate limits are not enforced, its budget is')
        warnedNoLimiter = true
        keyPolicy = undefined
      }
      const limits = limiter ? limitsFor(keyPolicy ? [...policies, keyPolicy] : policies, facts) : []
      return { limits, budgets: budgetsFor(own?.budget ? [...budgets, own.budget] : budgets, facts), countsTokens: limits.some((l) => l.unit === 'tokens') }
    }
    // What applies depends on the principal and the route (and the thread, under a thread policy): the last answer is
    // kept per principal object (a cached key's principal is one object), so a caller's next request works out nothing.
    const byThread = policies.some((p) => p.scope === 'thread')
    const lastApplicable = new WeakMap<Principal, { readonly route: string; readonly applies: Applicable }>()
    const applicable = (x: StageExchange): Applicable => {
      const principal = x.principal
      let applies: Applicable
      if (!principal || (byThread && x.thread !== undefined)) applies = workOut(x)
      else {
        const last = lastApplicable.get(principal)
        const route = x.route!.name
        if (last?.route === route) applies = last.applies
        else lastApplicable.set(principal, { route, applies: (applies = workOut(x)) })
      }
      // A child call's request was counted with its parent.
      if (x.parentId === undefined) return applies
      const limits = applies.limits.filter((l) => l.unit === 'tokens')
      return { limits, budgets: applies.budgets, countsTokens: limits.length > 0 }
    }

    /** What each exchange was admitted with, for the settlement in the log phase. */
    const admitted = new WeakMap<StageExchange, Admitted>()
    /** A limiter that went away fails every settlement in flight: one line a minute says it. */
    const failures = new ThrottledLog()

    const refuseBudget = (budget: AppliedBudget, committed: number, estimate: CostEstimate, now: number): never => {
      metrics.rejections.inc({ scope: budget.scope, kind: 'budget' })
      throw budgetExceeded(budget, committed, estimate.usd, estimate.bounded, budgetStatus, now)
    }

    /** The buckets a request takes; refuses one larger than a whole window of a token limit (it could never be admitted). */
    function bucketsOf(applied: readonly AppliedLimit[], tokens: number): LimitBucket[] {
      const buckets: LimitBucket[] = new Array(applied.length)
      for (let i = 0; i < applied.length; i++) {
        const l = applied[i]
        buckets[i] = bucket(l, l.unit === 'requests' ? 1 : tokens)
        if (buckets[i].cost > l.limit) {
          metrics.rejections.inc({ scope: l.scope, kind: l.unit })
          throw tooLargeForLimit(l, tokens)
        }
      }
      return buckets
    }

    /** Send the rate-limit headers, or refuse with the bucket that would make the client wait longest. */
    function decideLimits(x: StageExchange, applied: readonly AppliedLimit[], decisions: readonly LimitDecision[]): void {
      // Admitted only once every refusing bucket would admit it: the one that makes the client wait longest is named.
      let refused = -1
      for (let i = 0; i < decisions.length; i++) {
        if (!decisions[i].allowed && (refused < 0 || decisions[i].retryAfterMs > decisions[refused].retryAfterMs)) refused = i
      }
      if (refused < 0) {
        // Every admitted request sends these: straight to the response, no headers object.
        setRateLimitHeaders(applied, decisions, (name, value) => x.setHeader(name, value))
        return
      }
      const decision = decisions[refused]
      const limit = applied[refused]
      metrics.rejections.inc({ scope: limit.scope, kind: limit.unit })
      throw rateLimited(limit, decision, rateLimitHeaders(applied, decisions))
    }

    /** Take the request's buckets; true when the limiter counted them (false: it failed open). Synchronous with a limiter that answers at once. */
    function takeLimits(x: StageExchange, applied: readonly AppliedLimit[], tokens: number): boolean | Promise<boolean> {
      const decisions = guard!.take(bucketsOf(applied, tokens), applied)
      if (decisions instanceof Promise) return decisions.then((d) => decided(x, applied, d))
      return decided(x, applied, decisions)
    }

    function decided(x: StageExchange, applied: readonly AppliedLimit[], decisions: readonly LimitDecision[] | undefined): boolean {
      if (!decisions) return false
      decideLimits(x, applied, decisions)
      return true
    }

    /** A budget as the shared ledger keys it: per period, so a new day or month starts a new entry. */
    const holdOf = (budget: AppliedBudget, now: number, seedUsd?: number): BudgetHold => {
      const start = startOfPeriod(budget.period, now)
      return { key: `budget:${budget.key}:${start}`, usd: budget.usd, until: endOfPeriod(budget.period, now), seedUsd, alertAt: budget.alertAt }
    }

    /**
     * Buckets and budgets in one atomic step on a limiter that keeps budgets. 'failed open' when
     * the limiter did not answer and every policy admits on failure (the budgets are then kept in
     * this process until it answers again); 'unseeded' when the ledger was emptied again while
     * being seeded (nothing was taken: this process's ledger decides this once).
     */
    async function admitShared(x: StageExchange, applied: readonly AppliedLimit[], spendFrom: readonly AppliedBudget[], tokens: number, estimate: CostEstimate, now: number): Promise<Admitted | 'failed open' | 'unseeded'> {
      const buckets = bucketsOf(applied, tokens)
      // Without a usage log there is nothing to seed from: an empty ledger starts at zero.
      const seed = usageLog ? undefined : 0
      let reservation: BudgetReservation = { id: `${reservationPrefix}:${++reservations}`, usd: estimate.usd, holdMs, budgets: spendFrom.map((b) => holdOf(b, now, seed)) }
      let answer = await guard!.call((l) => l.admit!(buckets, reservation), applied)
      if (answer?.budgets.some((b) => b.allowed === 'unseeded')) {
        // The ledger does not know these budgets (a new period, a restart, a flushed Redis): seed them from the usage events.
        const seeded = await Promise.all(spendFrom.map(async (b, i) => answer!.budgets[i].allowed !== 'unseeded' ? reservation.budgets[i]
          : holdOf(b, now, (await ledger.stored(b, usageLog!, now)) ?? ledger.known(b, now))))
        reservation = { ...reservation, budgets: seeded }
        answer = await guard!.call((l) => l.admit!(buckets, reservation), applied)
      }
      if (!answer) return 'failed open'
      if (answer.budgets.some((b) => b.allowed === 'unseeded')) return 'unseeded'
      const refused = answer.budgets.findIndex((b) => b.allowed === false)
      if (refused >= 0) refuseBudget(spendFrom[refused], answer.budgets[refused].committedUsd, estimate, now)
      if (applied.length) decideLimits(x, applied, answer.limits)
      x.setHeader(REMAINING_HEADER, usd(Math.max(0, leastLeft(spendFrom, answer.budgets, estimate.usd))))
      return { limits: [...applied], tokens, budgets: [...spendFrom], reservation, reservedUsd: estimate.usd }
    }

    /** Budgets reserved in this process (exact within it), around the bucket take. */
    async function admitLocal(x: StageExchange, applied: readonly AppliedLimit[], spendFrom: readonly AppliedBudget[], tokens: number, estimate: CostEstimate, now: number): Promise<Admitted> {
      const reading = ledger.prepare(spendFrom, usageLog, refreshMs, now)
      if (reading) await reading
      // The check and the reservation are one synchronous step: requests in flight together each see the others' reservations.
      const { refused, remaining } = ledger.reserve(spendFrom, estimate.usd, now)
      if (refused) refuseBudget(refused.budget, refused.committed, estimate, now)
      let taken = false
      try {
        taken = applied.length ? await takeLimits(x, applied, tokens) : false
      } catch (err) {
        // A rate-limit refusal spends nothing.
        ledger.settle(spendFrom, estimate.usd, 0, now)
        throw err
      }
      x.setHeader(REMAINING_HEADER, usd(Math.max(0, remaining)))
      return { limits: taken ? [...applied] : [], tokens, budgets: [...spendFrom], reservation: undefined, reservedUsd: estimate.usd }
    }

    async function admitBudgets(x: StageExchange, limits: readonly AppliedLimit[], spendFrom: readonly AppliedBudget[], tokens: number): Promise<void> {
      const estimate = estimateCost(x, defaultMaxTokens)
      const now = Date.now()
      const shared = limiter?.admit ? await admitShared(x, limits, spendFrom, tokens, estimate, now) : undefined
      // A limiter that failed open has had its say on the rate limits: do not ask it again.
      const entry = typeof shared === 'object' ? shared : await admitLocal(x, shared === 'failed open' ? [] : limits, spendFrom, tokens, estimate, now)
      admitted.set(x, entry)
    }

    return {
      priority: 1000,
      operations: ['chat', 'embeddings', 'media'],
      access(x) {
        const { limits, budgets: spendFrom, countsTokens } = applicable(x)
        if (limits.length === 0 && spendFrom.length === 0) return
        // The token estimate only matters to a token limit (a budget estimates its cost itself).
        const tokens = countsTokens ? x.estimate.prompt + x.estimate.completion : 0
        if (spendFrom.length === 0) {
          const taken = takeLimits(x, limits, tokens)
          if (taken instanceof Promise) return taken.then((counted) => { admitted.set(x, rateLimitsOnly(counted ? limits : NONE, tokens, countsTokens)) })
          admitted.set(x, rateLimitsOnly(taken ? limits : NONE, tokens, countsTokens))
          return
        }
        return admitBudgets(x, limits, spendFrom, tokens)
      },
      log(x, outcome: ExchangeOutcome) {
        const entry = admitted.get(x)
        if (!entry) return
        // A failed request spends nothing; a cache hit is free; a cancelled stream costs what arrived (the kernel counts it).
        const spent = outcome.costUsd
        // Tokens a cache hit did not spend upstream are not held against the caller's token limits.
        const actual = outcome.cacheHit ? 0 : outcome.promptTokens + outcome.completionTokens
        const tokenBuckets = actual === entry.tokens || entry.countsTokens === false ? NONE : entry.limits.filter((l) => l.unit === 'tokens').map((l) => bucket(l, actual - entry.tokens))
        const reservation = entry.reservation
        if (reservation) {
          // One step on the shared ledger: the reservation replaced by the spend, the token buckets corrected.
          limiter!.settle!(tokenBuckets, reservation, spent).then(
            (settled) => settled.forEach((b, i) => ledger.announce(entry.budgets[i], b.alerts, b.spentUsd)),
            // The reservation expires on its own (budget_reservation_ttl_s); the spend is in the usage events.
            (err: Error) => failures.note('settle', (times) => ctx.logger.warn({ err: err.message, times }, 'budget settlement failed: the reservation expires on its own (said at most once a minute)')),
          )
          return
        }
        if (entry.budgets.length) ledger.settle(entry.budgets, entry.reservedUsd, spent)
        if (tokenBuckets.length) {
          limiter!.adjust(tokenBuckets).catch((err: Error) => ctx.logger.debug({ err: err.message }, 'token limit correction failed'))
        }
      },
    }
  },
})

/** The buckets and budgets a request draws from. */
interface Applicable {
  readonly limits: readonly AppliedLimit[]
  readonly budgets: readonly AppliedBudget[]
  /** Whether a limit counts tokens: else the request's token estimate is not needed. */
  readonly countsTokens: boolean
}

/** What an exchange was admitted with. */
interface Admitted {
  /** The buckets the limiter counted (for the token corrections). */
  readonly limits: readonly AppliedLimit[]
  /** false: none of `limits` counts tokens, so there is nothing to correct (undefined: look). */
  readonly countsTokens?: boolean
  readonly tokens: number
  readonly budgets: readonly AppliedBudget[]
  /** Held on the limiter's shared ledger; undefined: in this process's. */
  readonly reservation: BudgetReservation | undefined
  readonly reservedUsd: number
}

const NONE: readonly never[] = Object.freeze([])

/** Admitted by rate limits alone (no budget): the common case, made without a closure. */
const rateLimitsOnly = (limits: readonly AppliedLimit[], tokens: number, countsTokens: boolean): Admitted =>
  ({ limits, tokens, budgets: NONE, reservation: undefined, reservedUsd: 0, countsTokens })

/** The least any budget has left once `reservedUsd` is reserved from each. */
function leastLeft(budgets: readonly AppliedBudget[], standings: readonly BudgetStanding[], reservedUsd: number): number {
  let least = Infinity
  budgets.forEach((b, i) => { least = Math.min(least, b.usd - standings[i].committedUsd - reservedUsd) })
  return least
}
