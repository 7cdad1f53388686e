/**
 * Budgets, compiled once per config from `limits.budgets`, the departments' `budget` and each API
 * key's own: which budgets a request spends from (one per scope, subject and period, the smallest
 * where several apply), and the refusal when one would be exceeded.
 */
import { GatewayError, type Principal } from '../../../plugin-api/index.ts'
import { compileWhen, type LimitFacts, type LimitWhen } from './facts.ts'

export type BudgetScope = 'key' | 'user' | 'department' | 'organization'
export type BudgetPeriod = 'day' | 'month'

export interface BudgetConfig {
  scope: BudgetScope
  when?: LimitWhen
  usd_per_day?: number
  usd_per_month?: number
  /** Fractions of the budget at which an alert is logged and counted (default: limits.budget_alerts). */
  alert_at?: number[]
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

export interface CompiledBudget {
  readonly scope: BudgetScope
  readonly applies: (facts: LimitFacts) => boolean
  readonly periods: readonly { readonly period: BudgetPeriod; readonly usd: number }[]
  readonly alertAt: readonly number[]
}

export function compileBudget(budget: BudgetConfig, defaultAlerts: readonly number[]): CompiledBudget {
  const periods: { period: BudgetPeriod; usd: number }[] = []
  if (budget.usd_per_day !== undefined) periods.push({ period: 'day', usd: budget.usd_per_day })
  if (budget.usd_per_month !== undefined) periods.push({ period: 'month', usd: budget.usd_per_month })
  return { scope: budget.scope, applies: compileWhen(budget.when), periods, alertAt: [...(budget.alert_at ?? defaultAlerts)].sort((a, b) => a - b) }
}

export function budgetsFor(budgets: readonly CompiledBudget[], facts: LimitFacts): AppliedBudget[] {
  const byKey = new Map<string, AppliedBudget>()
  for (const budget of budgets) {
    if (!budget.applies(facts)) continue
    const subject = budgetSubjectOf(budget.scope, facts.principal)
    if (subject === undefined) continue
    for (const { period, usd } of budget.periods) {
      const key = `${budget.scope}:${encodeURIComponent(subject)}:${period}`
      const seen = byKey.get(key)
      if (!seen || usd < seen.usd) byKey.set(key, { key, scope: budget.scope, subject, period, usd, alertAt: budget.alertAt })
    }
  }
  return [...byKey.values()]
}

function budgetSubjectOf(scope: BudgetScope, p: Principal | undefined): string | undefined {
  switch (scope) {
    case 'key': return p?.keyId
    case 'user': return p?.userId
    case 'department': return p?.department
    case 'organization': return ''
  }
}

/**
 * The refusal for a budget that is used up, or that this request's reserved estimate would
 * exceed. `committed` is what was spent plus what requests in flight have reserved.
 */
export function budgetExceeded(budget: AppliedBudget, committed: number, estimatedUsd: number, capped: boolean, status: 402 | 429, now: number): GatewayError {
  const whose = budget.scope === 'organization' ? 'The organization\'s' : budget.scope === 'key' ? 'This API key\'s' : budget.scope === 'user' ? 'Your' : `Your department's (${budget.subject})`
  const hint = capped ? '' : ' (set max_tokens to reserve less)'
  const state = committed >= budget.usd
    ? `is used up ($${usd(committed)} spent or reserved by requests in flight)`
    : `would be exceeded: $${usd(committed)} spent or reserved by requests in flight, and this request may cost up to $${usd(estimatedUsd)}${hint}`
  return new GatewayError(
    `${whose} budget of $${usd(budget.usd)} per ${budget.period} ${state}. It resets at ${new Date(endOfPeriod(budget.period, now)).toISOString()}.`,
    { status, code: 'budget_exceeded', type: 'insufficient_quota', headers: { 'x-should-retry': 'false' } },
  )
}

export const usd = (n: number): string => (n >= 1 ? n.toFixed(2) : String(Math.round(n * 1e6) / 1e6))

/** Budgets run on UTC days and calendar months, like the usage analytics. */
export function startOfPeriod(period: BudgetPeriod, now: number): number {
  const d = new Date(now)
  return period === 'day' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
}

export function endOfPeriod(period: BudgetPeriod, now: number): number {
  const d = new Date(now)
  return period === 'day' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}
