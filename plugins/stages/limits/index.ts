/**
 * stage.limits: rate limits and budgets, in the access phase (before anything costly) and the log
 * phase (corrections once the actual usage is known). Configured by `limits:` (policies, budgets),
 * the departments' `limits` and `budget`, and each API key's own; counted by the limiter backend
 * (`limits.backend`, the Limiter capability) and, for spend, the usage log.
 *
 *   access: budgets first (spend so far plus this request's estimated cost), then every applicable
 *           rate-limit bucket in one atomic take (one round trip to a shared limiter). Tokens are a
 *           cheap estimate (prompt bytes / 4 + max_tokens), corrected with the actual usage later.
 *   log:    the token buckets corrected by actual − estimate; the cost accrued to the budgets.
 *
 * A call the gateway makes on behalf of another request (a cache's embeddings) draws tokens and
 * spend, not requests: its parent request was counted already.
 */
import { Limiter, definePlugin, type ExchangeOutcome, type LimitDecision, type Principal, type Stage, type StageExchange } from '../../../core/plugins/api.ts'
import { Identity, UsageLog } from '../../contracts/capabilities.ts'
import { budgetExceeded, budgetsFor, compileBudget, type AppliedBudget, type BudgetConfig, type CompiledBudget } from './budgets.ts'
import type { LimitFacts, LimitWhen, RateLimits } from './facts.ts'
import { BudgetLedger } from './ledger.ts'
import { RATES, bucket, compilePolicy, limitsFor, type AppliedLimit, type BackendFailure, type CompiledPolicy, type LimitPolicyConfig } from './rates.ts'
import { LimiterGuard, limiterGauge, rateLimitHeaders, rateLimited, tooLargeForLimit } from './refusals.ts'

export interface LimitsConfig {
  policies?: LimitPolicyConfig[]
  budgets?: BudgetConfig[]
  on_backend_failure?: BackendFailure
  budget_status?: 402 | 429
  budget_alerts?: number[]
  budget_refresh_s?: number
  backend_cooldown_ms?: number
  /** The limiter backend's plugin name (from `limits.backend`, passed in by the kernel), for the metric's label. */
  limiter?: string
  /** The departments' limits and budgets (from `departments:`, passed in by the kernel). */
  departments?: Record<string, { limits?: RateLimits; budget?: { usd_per_day?: number; usd_per_month?: number } }>
}

/** The limits and budget an API key carries (`api_keys.limits`), as its principal has them. */
interface KeyLimits extends RateLimits {
  readonly budget_usd_per_day?: number
  readonly budget_usd_per_month?: number
}

const DEFAULT_ALERTS: readonly number[] = [0.8, 1]
const DEFAULT_BUDGET_REFRESH_S = 10
/** How long a limiter backend that failed a check is left alone before one request probes it. */
const DEFAULT_COOLDOWN_MS = 2000

export default definePlugin<LimitsConfig, Stage>({
  id: 'stage.limits',
  kind: 'stage',
  description: 'Rate limits (GCRA buckets on the limiter backend) and budgets (USD per day/month) before the call; corrections after it.',
  // The core schema validates `limits:` and `departments:`; this block is assembled from them.
  configSchema: { type: 'object' },
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

    const applicable = (x: StageExchange): { limits: AppliedLimit[]; budgets: AppliedBudget[] } => {
      const facts: LimitFacts = { principal: x.principal, route: x.route!.name, thread: x.thread }
      const own = keyTable(x.principal)
      let keyPolicy = own?.policy
      if (keyPolicy && !limiter) {
        if (!warnedNoLimiter) ctx.logger.warn('an API key has rate limits but gateway.yaml configures no limiter (limits.backend): its rate limits are not enforced, its budget is')
        warnedNoLimiter = true
        keyPolicy = undefined
      }
      let limits = limitsFor(keyPolicy ? [...policies, keyPolicy] : policies, facts)
      // A child call's request was counted with its parent.
      if (x.parentId !== undefined) limits = limits.filter((l) => l.unit === 'tokens')
      return { limits: limiter ? limits : [], budgets: budgetsFor(own?.budget ? [...budgets, own.budget] : budgets, facts) }
    }

    /** What each exchange was admitted with, for the corrections in the log phase. */
    const admitted = new WeakMap<StageExchange, { limits: AppliedLimit[]; budgets: AppliedBudget[]; tokens: number }>()

    async function checkBudgets(x: StageExchange, applied: readonly AppliedBudget[]): Promise<void> {
      const now = Date.now()
      const route = x.route!
      const model = route.targets[0]?.model ?? x.requestedModel
      const estimatedUsd = x.cost(model, x.estimate)
      const spent = await Promise.all(applied.map((b) => ledger.spent(b, usageLog, refreshMs, now)))
      for (const [i, budget] of applied.entries()) {
        if (spent[i] < budget.usd && spent[i] + estimatedUsd <= budget.usd) continue
        metrics.rejections.inc({ scope: budget.scope, kind: 'budget' })
        throw budgetExceeded(budget, spent[i], estimatedUsd, budgetStatus, now)
      }
    }

    /** Take the request's buckets; true when the limiter counted them (false: it failed open). */
    async function takeLimits(x: StageExchange, applied: readonly AppliedLimit[], tokens: number): Promise<boolean> {
      const buckets = applied.map((l) => bucket(l, l.unit === 'requests' ? 1 : tokens))
      // A request larger than a whole window of a token limit can never be admitted: say so, do not ask to retry.
      const tooLarge = applied.find((l, i) => buckets[i].cost > l.limit)
      if (tooLarge) {
        metrics.rejections.inc({ scope: tooLarge.scope, kind: tooLarge.unit })
        throw tooLargeForLimit(tooLarge, tokens)
      }
      const decisions: LimitDecision[] | undefined = await guard!.take(buckets, applied)
      if (!decisions) return false
      const headers = rateLimitHeaders(applied, decisions)
      const refused = decisions.map((d, i) => [d, applied[i]] as const).filter(([d]) => !d.allowed)
      if (refused.length === 0) {
        for (const [name, value] of Object.entries(headers)) x.setHeader(name, value)
        return true
      }
      // Admitted only once every refusing bucket would admit it.
      const [decision, limit] = refused.reduce((a, b) => (b[0].retryAfterMs > a[0].retryAfterMs ? b : a))
      metrics.rejections.inc({ scope: limit.scope, kind: limit.unit })
      throw rateLimited(limit, decision, headers)
    }

    return {
      priority: 1000,
      operations: ['chat', 'embeddings'],
      async access(x) {
        const { limits, budgets: spendFrom } = applicable(x)
        if (limits.length === 0 && spendFrom.length === 0) return
        const tokens = x.estimate.prompt + x.estimate.completion
        if (spendFrom.length) await checkBudgets(x, spendFrom)
        const taken = limits.length ? await takeLimits(x, limits, tokens) : false
        admitted.set(x, { limits: taken ? limits : [], budgets: spendFrom, tokens })
      },
      log(x, outcome: ExchangeOutcome) {
        const entry = admitted.get(x)
        if (!entry) return
        if (entry.budgets.length) ledger.accrue(entry.budgets, outcome.costUsd)
        // Tokens a cache hit did not spend upstream are not held against the caller's token limits.
        const actual = outcome.cacheHit ? 0 : outcome.promptTokens + outcome.completionTokens
        const tokenBuckets = entry.limits.filter((l) => l.unit === 'tokens')
        if (tokenBuckets.length && actual !== entry.tokens) {
          limiter!.adjust(tokenBuckets.map((l) => bucket(l, actual - entry.tokens))).catch((err: Error) => ctx.logger.debug({ err: err.message }, 'token limit correction failed'))
        }
      },
    }
  },
})

