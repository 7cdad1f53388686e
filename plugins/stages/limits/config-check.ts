/**
 * What is wrong in `limits:` and the departments' limits, judged from the config alone (so
 * `gateway validate` reports it too): policies without a limiter, budgets without an amount,
 * `when` naming departments that do not exist.
 */
import type { LimitWhen, RateLimits } from './facts.ts'
import type { BudgetConfig } from './budgets.ts'

type Issue = { readonly path: (string | number)[]; readonly message: string }

interface LimitsPart {
  readonly limits?: { backend?: unknown; policies?: { when?: LimitWhen }[]; budgets?: BudgetConfig[] }
  readonly departments?: Record<string, { limits?: RateLimits }>
}

export function limitConfigIssues(whole: Readonly<Record<string, unknown>>): Issue[] {
  const config = whole as LimitsPart
  const issues: Issue[] = []
  const limits = config.limits ?? {}
  const hasLimiter = limits.backend !== undefined
  const departments = Object.keys(config.departments ?? {})
  const checkWhen = (when: LimitWhen | undefined, path: (string | number)[]): void => {
    if (!when?.departments || departments.length === 0) return
    when.departments.forEach((dept, i) => {
      if (!departments.includes(dept)) issues.push({ path: [...path, 'departments', i], message: `no department '${dept}' under departments: (have: ${departments.join(', ')})` })
    })
  }
  if (!hasLimiter && limits.policies?.length) issues.push({ path: ['limits', 'policies'], message: 'rate limit policies need a limiter: add limits.backend (e.g. { plugin: memory }, or { plugin: redis, url: ... } for several gateways)' })
  ;(limits.policies ?? []).forEach((policy, i) => checkWhen(policy.when, ['limits', 'policies', i, 'when']))
  ;(limits.budgets ?? []).forEach((budget, i) => {
    checkWhen(budget.when, ['limits', 'budgets', i, 'when'])
    if (budget.usd_per_day === undefined && budget.usd_per_month === undefined) issues.push({ path: ['limits', 'budgets', i], message: 'a budget needs usd_per_day or usd_per_month' })
  })
  for (const [name, dept] of Object.entries(config.departments ?? {})) {
    if (!hasLimiter && dept.limits && Object.keys(dept.limits).length) issues.push({ path: ['departments', name, 'limits'], message: 'department limits need a limiter: add limits.backend (e.g. { plugin: memory })' })
  }
  return issues
}
