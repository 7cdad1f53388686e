/**
 * What is wrong in `limits:` and the departments' limits, judged from the config alone (so
 * `gateway validate` reports it too): policies without a limiter, budgets without an amount,
 * `when` naming departments that do not exist.
 */
import type { GatewayConfig, LimitWhen } from './types.ts'

type IssueAt = (path: (string | number)[], message: string) => void

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

