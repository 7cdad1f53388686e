/**
 * Limit policies, budgets and cache settings, compiled once per snapshot from `limits:`,
 * `departments:`, `cache:` and the routes' `cache` keys (and, per API key, from the key's own
 * limits). The limits and cache stages (core/pipeline/limits.ts, cache.ts) ask these tables what
 * applies to a request; the answers are plain values, so the stages stay small.
 *
 * Buckets: every applicable policy contributes a bucket per rate it sets. Its key says whose
 * bucket it is (scope and subject), the unit and the window; a policy limited to some routes
 * counts per route. Policies that land in the same bucket (say, a department-wide default and a
 * stricter one for a role) are merged: the tightest limit wins.
 */
import { createHash } from 'node:crypto'
import type { ConfigLoad } from '../config/index.ts'
import { ConfigError, type ConfigIssue } from '../config/issues.ts'
import type {
  BackendFailure, BudgetConfig, BudgetScope, CacheConfig, GatewayConfig, LimitPolicyConfig, LimitScope, LimitWhen, RateLimits, RouteConfig,
} from '../config/types.ts'
import type { Logger } from '../logger.ts'
import type { GatewayMetrics } from '../metrics.ts'
import type { Cache, Principal, Store } from '../plugins/types.ts'
import { NamePatterns } from './glob.ts'
import type { RouteTable } from './routes.ts'
import type { GatewayServices } from './services.ts'

export type LimitUnit = 'requests' | 'tokens'
export type BudgetPeriod = 'day' | 'month'

/** What the tables look at. */
export interface LimitFacts {
  readonly principal: Principal | undefined
  readonly route: string
  /** The chat thread (x-thread-id or metadata.thread_id), when the request names one. */
  readonly thread: string | undefined
}

/** A bucket a request draws from. */
export interface AppliedLimit {
  readonly key: string
  readonly scope: LimitScope
  readonly unit: LimitUnit
  /** `minute`, `day`...: for messages. */
  readonly window: string
  readonly windowMs: number
  readonly limit: number
  /** Refuse (503) rather than admit when the backend does not answer. */
  readonly failClosed: boolean
}

/** A budget a request spends from. */
export interface AppliedBudget {
  readonly key: string
  readonly scope: BudgetScope
  /** The key id, user id or department; empty for the organization. */
  readonly subject: string
  readonly period: BudgetPeriod
  readonly usd: number
  /** Ascending fractions of `usd` at which an alert is raised. */
  readonly alertAt: readonly number[]
}

export type RouteCacheMode = 'deterministic' | 'always' | 'never'

export interface RouteCacheSettings {
  readonly mode: RouteCacheMode
  readonly ttlS: number
  /** A hash of the route's targets: a changed target (another model) does not serve old answers. */
  readonly signature: string
}

export interface CacheSettings {
  readonly scope: 'department' | 'user' | 'key' | 'global'
  readonly lookupTimeoutMs: number
  /** By route index (CompiledRoute.index). */
  route(index: number): RouteCacheSettings
}

/** The rates a policy may set: config field → unit, window name and length. */
const RATES: readonly (readonly [keyof RateLimits, LimitUnit, string, number])[] = [
  ['requests_per_second', 'requests', 'second', 1_000],
  ['requests_per_minute', 'requests', 'minute', 60_000],
  ['requests_per_hour', 'requests', 'hour', 3_600_000],
  ['requests_per_day', 'requests', 'day', 86_400_000],
  ['tokens_per_minute', 'tokens', 'minute', 60_000],
  ['tokens_per_day', 'tokens', 'day', 86_400_000],
]

const DEFAULT_ALERTS: readonly number[] = [0.8, 1]
const DEFAULT_BUDGET_REFRESH_S = 10
/** How long a limiter backend that failed a check is left alone before one request probes it. */
const DEFAULT_LIMITER_COOLDOWN_MS = 2000
const DEFAULT_CACHE_TTL_S = 600
const DEFAULT_LOOKUP_TIMEOUT_MS = 1000
/** Thread ids come from clients: a longer one is hashed so a bucket key stays short. */
const MAX_SUBJECT_LENGTH = 128

interface CompiledRate {
  readonly unit: LimitUnit
  readonly window: string
  readonly windowMs: number
  readonly limit: number
}

interface CompiledPolicy {
  readonly scope: LimitScope
  readonly applies: (facts: LimitFacts) => boolean
  readonly perRoute: boolean
  readonly rates: readonly CompiledRate[]
  readonly failClosed: boolean
}

interface CompiledBudget {
  readonly scope: BudgetScope
  readonly applies: (facts: LimitFacts) => boolean
  readonly periods: readonly { readonly period: BudgetPeriod; readonly usd: number }[]
  readonly alertAt: readonly number[]
}

/** The limits and budget an API key carries (`api_keys.limits`), as its principal has them. */
interface KeyLimits extends RateLimits {
  readonly budget_usd_per_day?: number
  readonly budget_usd_per_month?: number
}

export class GatewayPolicies {
  readonly budgetStatus: 402 | 429
  readonly budgetRefreshMs: number
  /** After a failed check, how long the limiter backend is not asked. */
  readonly limiterCooldownMs: number
  readonly cache: CacheSettings
  readonly ledger: BudgetLedger
  readonly logger: Logger
  readonly metrics: GatewayMetrics
  /** Whether anything may limit a request: policies, budgets, or a limiter for per-key limits. */
  readonly active: boolean
  readonly #policies: readonly CompiledPolicy[]
  readonly #budgets: readonly CompiledBudget[]
  readonly #hasLimiter: boolean
  readonly #defaultFailure: BackendFailure
  /** Per-key tables, compiled once per limits object (a cached principal carries the same one). */
  readonly #keyTables = new WeakMap<object, { policy?: CompiledPolicy; budget?: CompiledBudget }>()
  #warnedNoLimiter = false

  constructor(parts: { load: ConfigLoad; routes: RouteTable; hasLimiter: boolean; cache: Cache | undefined; services: GatewayServices; logger: Logger }) {
    const { load, routes } = parts
    const config = load.loaded.config
    const limits = config.limits ?? {}
    const issues: ConfigIssue[] = []
    const issue = (path: readonly (string | number)[], message: string): void => { issues.push(load.loaded.issue(path, message)) }

    this.logger = parts.logger
    this.metrics = parts.services.metrics
    this.#hasLimiter = parts.hasLimiter
    this.#defaultFailure = limits.on_backend_failure ?? 'open'
    this.budgetStatus = limits.budget_status ?? 402
    this.budgetRefreshMs = (limits.budget_refresh_s ?? DEFAULT_BUDGET_REFRESH_S) * 1000
    this.limiterCooldownMs = limits.backend_cooldown_ms ?? DEFAULT_LIMITER_COOLDOWN_MS
    const alerts = [...(limits.budget_alerts ?? DEFAULT_ALERTS)].sort((a, b) => a - b)

    // limitConfigIssues already ran when the config was validated (core/config/validate.ts).
    const policies = (limits.policies ?? []).map((policy) => compilePolicy(policy, this.#defaultFailure))
    const budgets = (limits.budgets ?? []).map((budget) => compileBudget(budget, alerts))
    for (const [name, dept] of Object.entries(config.departments ?? {})) {
      const only: LimitWhen = { departments: [name] }
      if (dept.limits && Object.keys(dept.limits).length) policies.push(compilePolicy({ scope: 'department', when: only, ...dept.limits }, this.#defaultFailure))
      if (dept.budget && (dept.budget.usd_per_day !== undefined || dept.budget.usd_per_month !== undefined)) {
        budgets.push(compileBudget({ scope: 'department', when: only, ...dept.budget }, alerts))
      }
    }
    this.#policies = policies
    this.#budgets = budgets
    this.cache = compileCacheSettings(config.cache, config.routes ?? [])
    if (parts.cache?.embeddingRoute !== undefined) checkEmbeddingRoute(parts.cache.embeddingRoute, routes, issue)
    if (issues.length) throw new ConfigError(issues)

    this.active = policies.length > 0 || budgets.length > 0 || parts.hasLimiter
    this.ledger = ledgerOf(parts.services)
    this.ledger.configure(this.logger, this.metrics)
  }

  /** The buckets this request draws from; one per key, the tightest limit where policies share one. */
  limitsFor(facts: LimitFacts): AppliedLimit[] {
    const byKey = new Map<string, AppliedLimit>()
    const add = (policy: CompiledPolicy): void => {
      if (!policy.applies(facts)) return
      const subject = subjectOf(policy.scope, facts)
      if (subject === undefined) return
      const owner = policy.perRoute ? `${policy.scope}:${subject}@${encodeURIComponent(facts.route)}` : `${policy.scope}:${subject}`
      for (const rate of policy.rates) {
        const key = `${owner}:${rate.unit === 'requests' ? 'r' : 't'}:${rate.windowMs}`
        const seen = byKey.get(key)
        if (!seen) byKey.set(key, { key, scope: policy.scope, unit: rate.unit, window: rate.window, windowMs: rate.windowMs, limit: rate.limit, failClosed: policy.failClosed })
        else byKey.set(key, { ...seen, limit: Math.min(seen.limit, rate.limit), failClosed: seen.failClosed || policy.failClosed })
      }
    }
    for (const policy of this.#policies) add(policy)
    const keyPolicy = this.#keyTable(facts.principal)?.policy
    if (keyPolicy) {
      if (this.#hasLimiter) add(keyPolicy)
      else if (!this.#warnedNoLimiter) {
        this.#warnedNoLimiter = true
        this.logger.warn('an API key has rate limits but gateway.yaml configures no limiter (limits.backend): its rate limits are not enforced, its budget is')
      }
    }
    return [...byKey.values()]
  }

  /** The budgets this request spends from; one per scope, subject and period, the smallest where several apply. */
  budgetsFor(facts: LimitFacts): AppliedBudget[] {
    const byKey = new Map<string, AppliedBudget>()
    const add = (budget: CompiledBudget): void => {
      if (!budget.applies(facts)) return
      const subject = budgetSubjectOf(budget.scope, facts.principal)
      if (subject === undefined) return
      for (const { period, usd } of budget.periods) {
        const key = `${budget.scope}:${encodeURIComponent(subject)}:${period}`
        const seen = byKey.get(key)
        if (!seen || usd < seen.usd) byKey.set(key, { key, scope: budget.scope, subject, period, usd, alertAt: budget.alertAt })
      }
    }
    for (const budget of this.#budgets) add(budget)
    const keyBudget = this.#keyTable(facts.principal)?.budget
    if (keyBudget) add(keyBudget)
    return [...byKey.values()]
  }

  #keyTable(principal: Principal | undefined): { policy?: CompiledPolicy; budget?: CompiledBudget } | undefined {
    const limits = keyLimitsOf(principal)
    if (!limits) return undefined
    let table = this.#keyTables.get(limits)
    if (!table) {
      const rates: RateLimits = {}
      for (const [field] of RATES) if (typeof limits[field] === 'number' && limits[field]! > 0) rates[field] = limits[field]
      table = {
        policy: Object.keys(rates).length ? compilePolicy({ scope: 'key', ...rates }, this.#defaultFailure) : undefined,
        budget: typeof limits.budget_usd_per_day === 'number' || typeof limits.budget_usd_per_month === 'number'
          ? compileBudget({ scope: 'key', usd_per_day: numberOrUndefined(limits.budget_usd_per_day), usd_per_month: numberOrUndefined(limits.budget_usd_per_month) }, DEFAULT_ALERTS)
          : undefined,
      }
      this.#keyTables.set(limits, table)
    }
    return table
  }
}

const numberOrUndefined = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined)

/** A virtual key's principal carries `limits` (see plugins/auth/api-key); other principals none. */
function keyLimitsOf(principal: Principal | undefined): KeyLimits | undefined {
  const limits = (principal as { limits?: unknown } | undefined)?.limits
  return typeof limits === 'object' && limits !== null && Object.keys(limits).length > 0 ? (limits as KeyLimits) : undefined
}

function subjectOf(scope: LimitScope, facts: LimitFacts): string | undefined {
  const p = facts.principal
  switch (scope) {
    case 'key': return p?.keyId === undefined ? undefined : encodeURIComponent(p.keyId)
    case 'user': return p ? encodeURIComponent(p.userId) : undefined
    case 'department': return p?.department === undefined ? undefined : encodeURIComponent(p.department)
    case 'thread': {
      if (facts.thread === undefined || !p) return undefined
      // Per user: a client naming someone else's thread id must not use up that thread's limit.
      const thread = facts.thread.length > MAX_SUBJECT_LENGTH ? createHash('sha256').update(facts.thread).digest('base64url') : encodeURIComponent(facts.thread)
      return `${encodeURIComponent(p.userId)}/${thread}`
    }
    case 'organization': return '*'
    case 'route': return encodeURIComponent(facts.route)
  }
}

function budgetSubjectOf(scope: BudgetScope, p: Principal | undefined): string | undefined {
  switch (scope) {
    case 'key': return p?.keyId
    case 'user': return p?.userId
    case 'department': return p?.department
    case 'organization': return ''
  }
}

function compilePolicy(policy: LimitPolicyConfig, defaultFailure: BackendFailure): CompiledPolicy {
  const rates: CompiledRate[] = []
  for (const [field, unit, window, windowMs] of RATES) {
    const limit = policy[field]
    if (typeof limit === 'number' && limit > 0) rates.push({ unit, window, windowMs, limit })
  }
  return {
    scope: policy.scope,
    applies: compileWhen(policy.when),
    perRoute: (policy.when?.routes?.length ?? 0) > 0 && policy.scope !== 'route',
    rates,
    failClosed: (policy.on_backend_failure ?? defaultFailure) === 'closed',
  }
}

function compileBudget(budget: BudgetConfig, defaultAlerts: readonly number[]): CompiledBudget {
  const periods: { period: BudgetPeriod; usd: number }[] = []
  if (budget.usd_per_day !== undefined) periods.push({ period: 'day', usd: budget.usd_per_day })
  if (budget.usd_per_month !== undefined) periods.push({ period: 'month', usd: budget.usd_per_month })
  return { scope: budget.scope, applies: compileWhen(budget.when), periods, alertAt: [...(budget.alert_at ?? defaultAlerts)].sort((a, b) => a - b) }
}

/** `when` as one predicate; each listed condition must hold. */
function compileWhen(when: LimitWhen | undefined): (facts: LimitFacts) => boolean {
  if (!when) return () => true
  const tests: ((facts: LimitFacts) => boolean)[] = []
  const inSet = (list: readonly string[] | undefined, pick: (facts: LimitFacts) => string | undefined): void => {
    if (!list?.length) return
    const set = new Set(list)
    tests.push((facts) => { const value = pick(facts); return value !== undefined && set.has(value) })
  }
  inSet(when.departments, (f) => f.principal?.department)
  inSet(when.roles, (f) => f.principal?.role)
  inSet(when.users, (f) => f.principal?.userId)
  inSet(when.keys, (f) => f.principal?.keyId)
  if (when.routes?.length) {
    const routes = new NamePatterns(when.routes)
    tests.push((f) => routes.matches(f.route))
  }
  return (facts) => tests.every((test) => test(facts))
}

type IssueAt = (path: (string | number)[], message: string) => void

/**
 * What is wrong in `limits:` and the departments' limits, judged from the config alone (the
 * snapshot reports it; `gateway validate` can too): policies without a limiter, budgets without
 * an amount, `when` naming departments that do not exist.
 */
export function limitConfigIssues(config: GatewayConfig, issue: IssueAt): void {
  const limits = config.limits ?? {}
  const hasLimiter = limits.backend !== undefined
  if (!hasLimiter && limits.policies?.length) issue(['limits', 'policies'], 'rate limit policies need a limiter: add limits.backend (e.g. { plugin: memory }, or { plugin: redis, url: ... } for several gateways)')
  ;(limits.policies ?? []).forEach((policy, i) => checkWhen(config, policy.when, ['limits', 'policies', i, 'when'], issue))
  ;(limits.budgets ?? []).forEach((budget, i) => {
    checkWhen(config, budget.when, ['limits', 'budgets', i, 'when'], issue)
    if (budget.usd_per_day === undefined && budget.usd_per_month === undefined) issue(['limits', 'budgets', i], 'a budget needs usd_per_day or usd_per_month')
  })
  for (const [name, dept] of Object.entries(config.departments ?? {})) {
    if (!hasLimiter && dept.limits && Object.keys(dept.limits).length) issue(['departments', name, 'limits'], 'department limits need a limiter: add limits.backend (e.g. { plugin: memory })')
  }
}

function checkWhen(config: GatewayConfig, when: LimitWhen | undefined, path: (string | number)[], issue: IssueAt): void {
  const departments = Object.keys(config.departments ?? {})
  if (!when?.departments || departments.length === 0) return
  when.departments.forEach((dept, i) => {
    if (!departments.includes(dept)) issue([...path, 'departments', i], `no department '${dept}' under departments: (have: ${departments.join(', ')})`)
  })
}

function compileCacheSettings(cache: CacheConfig | undefined, routes: readonly RouteConfig[]): CacheSettings {
  const ttlS = cache?.ttl_s ?? DEFAULT_CACHE_TTL_S
  const byRoute: RouteCacheSettings[] = routes.map((route) => {
    const opt = route.cache
    return {
      mode: opt === undefined ? 'deterministic' : opt === false ? 'never' : 'always',
      ttlS: typeof opt === 'object' ? opt.ttl_s ?? ttlS : ttlS,
      signature: createHash('sha256').update(JSON.stringify(route.targets.map((t) => [t.provider, t.model ?? null, t.params ?? null]))).digest('base64url').slice(0, 16),
    }
  })
  const fallback: RouteCacheSettings = { mode: 'never', ttlS, signature: '' }
  return {
    scope: cache?.scope ?? 'department',
    lookupTimeoutMs: cache?.lookup_timeout_ms ?? DEFAULT_LOOKUP_TIMEOUT_MS,
    route: (index) => byRoute[index] ?? fallback,
  }
}

function checkEmbeddingRoute(name: string, routes: RouteTable, issue: IssueAt): void {
  const resolved = routes.resolve(name, { principal: undefined, headers: {}, metadata: undefined })
  if (!resolved) issue(['cache', 'embedding_route'], `no route answers '${name}' (the semantic cache embeds prompts through it; add it under routes:)`)
  else if (!resolved.route.targets.some((t) => typeof t.instance.embed === 'function')) {
    issue(['cache', 'embedding_route'], `route '${name}' has no target whose provider makes embeddings`)
  }
}

// ---------------------------------------------------------------------------------------------
// budget spend

interface LedgerEntry {
  readonly periodStart: number
  readonly periodEnd: number
  /** Spend the store reported, as of `readAt`. */
  stored: number
  /** When that read started; 0 before the first. */
  readAt: number
  /** Spend in this process since `readAt`. */
  accrued: number
  /** Spend in this process since the running read started (it becomes `accrued` when the read lands). */
  accruedDuringRead: number
  reading: Promise<void> | undefined
  /** The highest alert threshold raised this period. */
  alerted: number
}

/** How long the first read of a budget's spend may take before the request goes on with what this process knows. */
const FIRST_READ_TIMEOUT_MS = 2000
const MAX_LEDGER_ENTRIES = 100_000

/**
 * Spend per budget and period: what the store's usage events say (read at most every
 * `budget_refresh_s`), plus what this process has spent since that read began (from each
 * exchange's final cost), so the hot path does not query the database per request. Without a
 * store, the process's own spend is all there is (it starts from zero at each start).
 *
 * One ledger per gateway (it outlives reloads, like metrics); usage events written between a
 * read's start and its query may be counted twice until the next read, which errs on refusing.
 */
export class BudgetLedger {
  readonly #entries = new Map<string, LedgerEntry>()
  #logger: Logger | undefined
  #metrics: GatewayMetrics | undefined

  configure(logger: Logger, metrics: GatewayMetrics): void {
    this.#logger = logger
    this.#metrics = metrics
  }

  /** Spend so far this period. Reads the store the first time (bounded) and refreshes in the background after. */
  async spent(budget: AppliedBudget, store: Store | undefined, refreshMs: number, now = Date.now()): Promise<number> {
    const entry = this.#entry(budget, now)
    if (store) {
      if (entry.readAt === 0) {
        await Promise.race([this.#read(entry, budget, store, now), new Promise<void>((resolve) => setTimeout(resolve, FIRST_READ_TIMEOUT_MS).unref())])
      } else if (now - entry.readAt >= refreshMs && !entry.reading) {
        void this.#read(entry, budget, store, now)
      }
    }
    return entry.stored + entry.accrued
  }

  /** Add an exchange's cost to its budgets and raise the alerts it crosses. */
  accrue(budgets: readonly AppliedBudget[], usd: number, now = Date.now()): void {
    if (!(usd > 0)) return
    for (const budget of budgets) {
      const entry = this.#entry(budget, now)
      entry.accrued += usd
      if (entry.reading) entry.accruedDuringRead += usd
      this.#alert(budget, entry)
    }
  }

  #entry(budget: AppliedBudget, now: number): LedgerEntry {
    const periodStart = startOfPeriod(budget.period, now)
    let entry = this.#entries.get(budget.key)
    if (!entry || entry.periodStart !== periodStart) {
      if (this.#entries.size >= MAX_LEDGER_ENTRIES) this.#prune(now)
      entry = { periodStart, periodEnd: endOfPeriod(budget.period, now), stored: 0, readAt: 0, accrued: 0, accruedDuringRead: 0, reading: undefined, alerted: 0 }
      this.#entries.set(budget.key, entry)
    }
    return entry
  }

  #read(entry: LedgerEntry, budget: AppliedBudget, store: Store, now: number): Promise<void> {
    if (entry.reading) return entry.reading
    entry.accruedDuringRead = 0
    const scope = { from: new Date(entry.periodStart), to: new Date(now + 86_400_000), ...scopeFilter(budget) }
    entry.reading = store.usage.totalCostUsd(scope).then(
      (stored) => {
        entry.stored = stored
        entry.accrued = entry.accruedDuringRead
        entry.readAt = now
        this.#alert(budget, entry)
      },
      (err: Error) => {
        // Keep what we had and try again after the refresh interval rather than on every request.
        entry.readAt = now
        this.#logger?.warn({ budget: budget.key, err: err.message }, 'could not read budget spend from the store; using this process\'s own count until the next read')
      },
    ).finally(() => { entry.reading = undefined })
    return entry.reading
  }

  #alert(budget: AppliedBudget, entry: LedgerEntry): void {
    const spent = entry.stored + entry.accrued
    for (const threshold of budget.alertAt) {
      if (threshold <= entry.alerted || spent < threshold * budget.usd) continue
      entry.alerted = threshold
      this.#metrics?.budgetAlerts.inc({ scope: budget.scope, period: budget.period, threshold: String(threshold) })
      this.#logger?.warn(
        { event: 'budget_alert', scope: budget.scope, subject: budget.subject, period: budget.period, threshold, spent_usd: round6(spent), budget_usd: budget.usd },
        `budget alert: ${budget.scope}${budget.subject ? ` '${budget.subject}'` : ''} has spent ${Math.round(threshold * 100)}% of its ${budget.period}ly budget`,
      )
    }
  }

  /** Drop past periods; if that is not enough, the oldest entries (their spend is read again from the store). */
  #prune(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.periodEnd <= now) this.#entries.delete(key)
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= MAX_LEDGER_ENTRIES / 2) break
      this.#entries.delete(key)
    }
  }
}

const ledgers = new WeakMap<GatewayServices, BudgetLedger>()

/** The gateway's ledger: kept with its services, so spend survives a reload. */
function ledgerOf(services: GatewayServices): BudgetLedger {
  let ledger = ledgers.get(services)
  if (!ledger) ledgers.set(services, (ledger = new BudgetLedger()))
  return ledger
}

function scopeFilter(budget: AppliedBudget): { userId?: string; department?: string; keyId?: string } {
  const subject = budget.subject
  switch (budget.scope) {
    case 'key': return { keyId: subject }
    case 'user': return { userId: subject }
    case 'department': return { department: subject }
    case 'organization': return {}
  }
}

/** Budgets run on UTC days and calendar months, like the usage analytics. */
export function startOfPeriod(period: BudgetPeriod, now: number): number {
  const d = new Date(now)
  return period === 'day' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
}

export function endOfPeriod(period: BudgetPeriod, now: number): number {
  const d = new Date(now)
  return period === 'day' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6
