/**
 * service.analytics, mounted at /api/v1/analytics: usage and cost over time, from the usage
 * events the gateway records for every /v1 request. What a caller sees follows their role's data
 * scope: their own requests (user), their department's (department_admin), everything (admin).
 *
 *   GET /api/v1/analytics/usage?from&to&group_by=user|department|model|provider|route|key&interval=hour|day
 *   GET /api/v1/analytics/costs?from&to&group_by=...&interval=...
 */
import type Router from '@koa/router'
import type Koa from 'koa'
import type { UsageAggregate, UsageGroupBy, UsageInterval, UsageQuery } from '../../../core/data/types.ts'
import { badRequest } from '../../../core/errors.ts'
import { envelope } from '../../../core/http/errors.ts'
import { callerFor, type Caller } from '../../../core/pipeline/authorize.ts'
import { definePlugin, Store, type Service } from '../../../core/plugins/types.ts'

const GROUPS: readonly UsageGroupBy[] = ['user', 'department', 'model', 'provider', 'route', 'key']
const INTERVALS: readonly UsageInterval[] = ['hour', 'day']
const DAY_MS = 24 * 3600 * 1000
const MAX_RANGE_MS = 366 * DAY_MS
const VIEW_ANALYTICS = 'view_analytics'

interface AnalyticsConfig {
  default_range_days: number
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    default_range_days: { type: 'integer', minimum: 1, maximum: 366, default: 7, description: 'The range when `from` is not given.' },
  },
}

function query(ctx: Koa.Context, config: AnalyticsConfig, caller: Caller): UsageQuery {
  const q = ctx.query
  const one = (name: string): string | undefined => {
    const v = q[name]
    if (Array.isArray(v)) throw badRequest(`\`${name}\` may be given once.`, name)
    return v === undefined || v === '' ? undefined : v
  }
  const date = (name: string, fallback: Date): Date => {
    const text = one(name)
    if (text === undefined) return fallback
    const d = new Date(text)
    if (Number.isNaN(d.getTime())) throw badRequest(`\`${name}\` must be an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T12:00:00Z.`, name, 'invalid_date')
    return d
  }
  const to = date('to', new Date())
  const from = date('from', new Date(to.getTime() - config.default_range_days * DAY_MS))
  if (from >= to) throw badRequest('`from` must be before `to`.', 'from', 'invalid_range')
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw badRequest('The range may be at most 366 days.', 'from', 'invalid_range')
  const groupBy = one('group_by') as UsageGroupBy | undefined
  if (groupBy !== undefined && !GROUPS.includes(groupBy)) throw badRequest(`\`group_by\` must be one of ${GROUPS.join(', ')}.`, 'group_by', 'invalid_group_by')
  const interval = one('interval') as UsageInterval | undefined
  if (interval !== undefined && !INTERVALS.includes(interval)) throw badRequest(`\`interval\` must be one of ${INTERVALS.join(', ')}.`, 'interval', 'invalid_interval')

  // The caller's data scope decides the filter; an admin may narrow it with user_id / department.
  const { principal } = caller
  switch (caller.scope) {
    case 'own_data':
      return { from, to, groupBy, interval, userId: principal.userId }
    case 'department_data':
      return { from, to, groupBy, interval, department: principal.department, userId: one('user_id') }
    case 'all_data':
      return { from, to, groupBy, interval, department: one('department'), userId: one('user_id') }
  }
}

function row(a: UsageAggregate): Record<string, unknown> {
  return {
    bucket: a.bucket?.toISOString() ?? null,
    group: a.group,
    requests: a.requests,
    errors: a.errors,
    error_rate: a.errorRate,
    prompt_tokens: a.promptTokens,
    completion_tokens: a.completionTokens,
    cached_tokens: a.cachedTokens,
    total_tokens: a.totalTokens,
    cost_usd: a.costUsd,
    latency_p50_ms: a.latencyP50Ms,
    latency_p95_ms: a.latencyP95Ms,
  }
}

const caller = (ctx: Koa.Context): Promise<Caller> => callerFor(ctx, VIEW_ANALYTICS)

export function analyticsService(store: Store, config: AnalyticsConfig): Service {
  return {
    mount(router: Router) {
      router.get('/usage', async (ctx) => {
        const who = await caller(ctx)
        const q = query(ctx, config, who)
        const rows = await store.usage.aggregate(q)
        ctx.body = envelope(rows.map(row), who.requestId, 'ok', { from: q.from.toISOString(), to: q.to.toISOString(), group_by: q.groupBy ?? null, interval: q.interval ?? null, scope: who.scope })
      })
      router.get('/costs', async (ctx) => {
        const who = await caller(ctx)
        const q = query(ctx, config, who)
        const rows = await store.usage.aggregate({ ...q, groupBy: q.groupBy ?? 'model' })
        const total = rows.reduce((sum, r) => sum + r.costUsd, 0)
        ctx.body = envelope(
          {
            total_cost_usd: Math.round(total * 1e10) / 1e10,
            rows: rows.map((r) => ({ bucket: r.bucket?.toISOString() ?? null, group: r.group, cost_usd: r.costUsd, requests: r.requests, prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, cached_tokens: r.cachedTokens })),
          },
          who.requestId,
          'ok',
          { from: q.from.toISOString(), to: q.to.toISOString(), group_by: q.groupBy ?? 'model', interval: q.interval ?? null, scope: who.scope },
        )
      })
    },
  }
}

export default definePlugin<AnalyticsConfig, Service>({
  id: 'service.analytics',
  kind: 'service',
  description: 'Usage and cost analytics over the recorded usage events, scoped by role.',
  configSchema,
  setup(ctx, config) {
    const store = ctx.tryGet(Store)
    if (!store) throw new Error('analytics reads the usage events in the store: add `store:` to gateway.yaml (e.g. store: { plugin: embedded })')
    return analyticsService(store, config)
  },
})
