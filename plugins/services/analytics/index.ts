/**
 * service.analytics, mounted at /api/v1/analytics: usage and cost over time, from the usage
 * events the gateway records for every /v1 request. What a caller sees follows their role's data
 * scope: their own requests (user), their department's (department_admin), everything (admin);
 * `user_id`, `department` and `key_id` narrow it, and one outside it is a 403 `out_of_scope`.
 *
 *   GET /api/v1/analytics/usage?from&to&group_by=user|department|model|provider|route|key&interval=hour|day&timezone
 *     (grouped by user or key, each row also names it: `user: { id, name, email }`, `key: { id, name, prefix }`)
 *   GET /api/v1/analytics/costs?from&to&group_by=...&interval=...
 *   GET /api/v1/analytics/events?from&to&user_id&department&key_id&limit&offset   (one per request)
 *   GET /api/v1/analytics/usage.csv?...   GET /api/v1/analytics/events.csv?...   (export.ts)
 *
 * A request that spent tokens on a model without a price is recorded at cost 0 and flagged
 * (`unpriced`): each figure says how many such requests its cost leaves out, and their models.
 */
import {
  Store, badRequest, definePlugin, forbidden, raw, reply, type Caller, type JsonSchema, type RouteSpec, type Service,
} from '../../../plugin-api/index.ts'
import { listOf, nullable, NULLABLE_STRING_SCHEMA as NULLABLE_STRING, recordSchema } from '../kit/schema.ts'
import { attachment } from '../kit/download.ts'
import { Identity, UsageLog, type UsageAggregate, type UsageGroupBy, type UsageInterval, type UsageQuery } from '../../contracts/capabilities.ts'
import { checkTimeZone, rangeEdge } from './range.ts'
import { allEvents, EVENT_COLUMNS, eventView, MAX_EXPORT_EVENTS, toCsv } from './export.ts'

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

interface AnalyticsQuery {
  from?: string
  to?: string
  group_by?: UsageGroupBy
  interval?: UsageInterval
  user_id?: string
  department?: string
  key_id?: string
  status?: string
  timezone?: string
}

const QUERY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string', description: 'ISO 8601 date or time (default: `default_range_days` before `to`). A date is the start of that day in `timezone`.' },
    to: { type: 'string', description: 'ISO 8601 date or time, exclusive (default: now). A date includes that whole day in `timezone`: from=2026-11-01&to=2026-11-30 is November.' },
    timezone: { type: 'string', minLength: 1, description: 'IANA time zone (default UTC) in which dates are read and `interval` buckets start (a day bucket at local midnight).' },
    group_by: { enum: GROUPS, 'x-error-code': 'invalid_group_by' },
    interval: { enum: INTERVALS, 'x-error-code': 'invalid_interval' },
    user_id: { type: 'string', minLength: 1, description: 'One user (within the caller\'s scope: 403 `out_of_scope` outside it).' },
    department: { type: 'string', minLength: 1, description: 'One department (within the caller\'s scope: 403 `out_of_scope` outside it).' },
    key_id: { type: 'string', minLength: 1, description: 'One API key (its id), within the caller\'s scope.' },
    status: { type: 'string', pattern: '^(error|[1-5][0-9]{2})$', 'x-error-code': 'invalid_status', description: 'Only requests answered with this HTTP status (e.g. 429), or `error`: any status from 400.' },
  },
}

/** /events: the range and filters, without grouping, and a page. */
const EVENTS_QUERY = {
  ...QUERY_SCHEMA,
  properties: {
    ...Object.fromEntries(Object.entries(QUERY_SCHEMA.properties).filter(([name]) => name !== 'group_by' && name !== 'interval')),
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'At most this many events.' },
    offset: { type: 'integer', minimum: 0, default: 0, description: 'Skip this many events.' },
  },
}

/** /events.csv: the range and filters of /events, without a page (it is every event: `limit` or `offset` is a 400, not ignored). */
const EXPORT_QUERY = { ...EVENTS_QUERY, properties: Object.fromEntries(Object.entries(EVENTS_QUERY.properties).filter(([name]) => name !== 'limit' && name !== 'offset')) }

function query(q: AnalyticsQuery, config: AnalyticsConfig, caller: Caller): UsageQuery {
  const timeZone = checkTimeZone(q.timezone)
  const date = (name: 'from' | 'to', fallback: Date): Date => {
    const text = q[name]
    if (text === undefined || text === '') return fallback
    const d = rangeEdge(text, name, timeZone)
    if (!d) throw badRequest(`\`${name}\` must be an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T12:00:00Z.`, name, 'invalid_date')
    return d
  }
  const to = date('to', new Date())
  const from = date('from', new Date(to.getTime() - config.default_range_days * DAY_MS))
  if (from >= to) throw badRequest('`from` must be before `to`.', 'from', 'invalid_range')
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) throw badRequest('The range may be at most 366 days.', 'from', 'invalid_range')
  const status: UsageQuery['status'] = q.status === undefined || q.status === 'error' ? q.status : Number(q.status)
  const base = { from, to, groupBy: q.group_by, interval: q.interval, timeZone, keyId: q.key_id, status }

  // The caller's data scope decides the filter, which user_id / department / key_id narrow; a
  // filter outside the scope is refused, not silently replaced by the scope (the answer would
  // look like the figures asked for).
  const { principal } = caller
  switch (caller.scope) {
    case 'own_data':
      if (q.user_id !== undefined && q.user_id !== principal.userId) throw forbidden('You may only read your own usage: leave out `user_id`.', 'out_of_scope')
      if (q.department !== undefined && q.department !== principal.department) throw forbidden('You may only read your own usage: leave out `department`.', 'out_of_scope')
      return { ...base, userId: principal.userId }
    case 'department_data':
      if (q.department !== undefined && q.department !== principal.department) throw forbidden('You may only read your department\'s usage: leave out `department`.', 'out_of_scope')
      return { ...base, department: principal.department, userId: q.user_id }
    case 'all_data':
      return { ...base, department: q.department, userId: q.user_id }
  }
}

// What the routes answer (the envelope's `data`), for the OpenAPI document and the console's types.
const COUNT: JsonSchema = { type: 'integer', minimum: 0 }
const LATENCY: JsonSchema = { type: ['number', 'null'], description: 'Milliseconds, over requests answered or sent upstream (not those refused before any upstream call: 401, 403, 429, 400); null when there were none.' }
const BUCKET: JsonSchema = { type: ['string', 'null'], format: 'date-time', description: 'The start of the hour or day in `timezone`, as an instant (null without `interval`).' }
/** A cost that leaves requests out: what an admin needs to tell "free" from "not counted". */
const UNPRICED = {
  unpriced_requests: { ...COUNT, description: 'Requests that spent tokens on a model without a price (config/models.json or gateway.yaml `pricing:`): their cost is not in `cost_usd`, which is then a lower bound.' },
  unpriced_models: { ...listOf({ type: 'string' }), description: 'Those requests\' models, sorted: each needs a `pricing:` entry for its cost to count.' },
} satisfies Record<string, JsonSchema>
/** What the prompt and completion tokens hold that is priced apart or spent unseen: for a cost recomputed from its tokens. */
const TOKEN_DETAILS = {
  cache_write_tokens: { ...COUNT, description: 'Of the prompt tokens, those written to the provider\'s prompt cache (priced at `cache_write_input`: Anthropic bills 1.25x input, 2x for its 1-hour cache).' },
  reasoning_tokens: { ...COUNT, description: 'Of the completion tokens, those a reasoning model spent thinking (priced as output).' },
} satisfies Record<string, JsonSchema>
const GROUP: JsonSchema = { ...NULLABLE_STRING, description: 'The group\'s value: a user id, department, model, provider, route or key id (null without `group_by`).' }
const USAGE_ROW_SCHEMA = recordSchema({
  bucket: BUCKET, group: GROUP, requests: COUNT, errors: COUNT, error_rate: { type: 'number', minimum: 0, maximum: 1 },
  cache_hits: { ...COUNT, description: 'Requests answered from the gateway\'s cache (no upstream call, cost 0).' },
  prompt_tokens: COUNT, completion_tokens: COUNT, cached_tokens: COUNT, ...TOKEN_DETAILS, total_tokens: COUNT, cost_usd: { type: 'number' }, ...UNPRICED,
  latency_p50_ms: LATENCY, latency_p95_ms: LATENCY,
  user: { ...nullable(recordSchema({ id: { type: 'string' }, name: NULLABLE_STRING, email: NULLABLE_STRING })), description: '`group_by=user`: who the user is.' },
  key: { ...nullable(recordSchema({ id: { type: 'string' }, name: NULLABLE_STRING, prefix: NULLABLE_STRING })), description: '`group_by=key`: which key it is.' },
}, ['user', 'key'])
const EVENT_SCHEMA = recordSchema({
  time: { type: 'string', format: 'date-time' }, request_id: { type: 'string' }, user_id: NULLABLE_STRING, key_id: NULLABLE_STRING, department: NULLABLE_STRING,
  route: NULLABLE_STRING, provider: NULLABLE_STRING, model: NULLABLE_STRING, status: { type: 'integer' }, error_type: NULLABLE_STRING, attempts: COUNT,
  cache_hit: { type: 'boolean' }, streamed: { type: 'boolean' }, prompt_tokens: COUNT, completion_tokens: COUNT, cached_tokens: COUNT, ...TOKEN_DETAILS,
  cost_usd: { type: 'number' }, unpriced: { type: 'boolean', description: 'The model had no price: `cost_usd` is 0 for want of one, not a free call.' },
  batch: { type: 'boolean', description: 'A line of a batch (/v1/batches, /v1/messages/batches): `cost_usd` is at the model\'s batch rate (gateway.yaml `pricing: { batch: }`).' },
  latency_ms: COUNT, ttft_ms: { type: ['integer', 'null'] },
})
const COSTS_SCHEMA = recordSchema({
  total_cost_usd: { type: 'number' },
  ...UNPRICED,
  rows: listOf(recordSchema({ bucket: BUCKET, group: GROUP, cost_usd: { type: 'number' }, ...UNPRICED, requests: COUNT, prompt_tokens: COUNT, completion_tokens: COUNT, cached_tokens: COUNT, ...TOKEN_DETAILS })),
})

/**
 * What /usage and /costs say of the range in `meta`; `buckets` lets a chart show the buckets no
 * request fell in. Its `title` makes it one named schema in the OpenAPI document, which both
 * routes refer to (so the console's generated types hold one type, not a copy per route).
 */
const RANGE_META_SCHEMA: JsonSchema = {
  title: 'AnalyticsRangeMeta',
  type: 'object',
  required: ['from', 'to', 'group_by', 'interval', 'timezone', 'scope', 'buckets'],
  properties: {
    from: { type: 'string', format: 'date-time' },
    to: { type: 'string', format: 'date-time' },
    group_by: { ...NULLABLE_STRING, enum: [...GROUPS, null] },
    interval: { ...NULLABLE_STRING, enum: [...INTERVALS, null] },
    timezone: { type: 'string' },
    scope: { enum: ['own_data', 'department_data', 'all_data'] },
    buckets: {
      ...nullable(listOf({ type: 'string', format: 'date-time' })),
      description: 'With `interval`: the start of every hour or day of `timezone` the range overlaps, in order, those without requests too (each row\'s `bucket` is one of them); null without `interval`.',
    },
  },
}

/** The range's meta, with every bucket of it when an interval was asked for. */
async function rangeMeta(log: UsageLog, scoped: UsageQuery, groupBy: UsageGroupBy | null, scope: Caller['scope']): Promise<Record<string, unknown>> {
  const { from, to, interval, timeZone } = scoped
  const buckets = interval ? (await log.buckets({ from, to, interval, timeZone })).map((b) => b.toISOString()) : null
  return { from: from.toISOString(), to: to.toISOString(), group_by: groupBy, interval: interval ?? null, timezone: timeZone, scope, buckets }
}

const unpriced = (a: Pick<UsageAggregate, 'unpricedRequests' | 'unpricedModels'>) => ({ unpriced_requests: a.unpricedRequests, unpriced_models: a.unpricedModels })

function row(a: UsageAggregate): Record<string, unknown> {
  return {
    bucket: a.bucket?.toISOString() ?? null,
    group: a.group,
    requests: a.requests,
    errors: a.errors,
    error_rate: a.errorRate,
    cache_hits: a.cacheHits,
    prompt_tokens: a.promptTokens,
    completion_tokens: a.completionTokens,
    cached_tokens: a.cachedTokens,
    cache_write_tokens: a.cacheWriteTokens,
    reasoning_tokens: a.reasoningTokens,
    total_tokens: a.totalTokens,
    cost_usd: a.costUsd,
    ...unpriced(a),
    latency_p50_ms: a.latencyP50Ms,
    latency_p95_ms: a.latencyP95Ms,
  }
}

/**
 * Rows grouped by user or key name who the id is: a user's display name and email, a key's name and
 * prefix (null when the store does not know it: a config key's user). The rows are already within
 * the caller's scope, so only people and keys the caller may see are named.
 */
async function named(rows: UsageAggregate[], groupBy: UsageGroupBy | undefined, identity: Identity | undefined): Promise<Record<string, unknown>[]> {
  const out = rows.map(row)
  if (!identity || (groupBy !== 'user' && groupBy !== 'key')) return out
  const ids = [...new Set(rows.map((r) => r.group).filter((g): g is string => typeof g === 'string' && g.length > 0))]
  const found = new Map<string, Record<string, unknown>>()
  await Promise.all(ids.map(async (id) => {
    if (groupBy === 'user') {
      // Usage names the principal's user id: a stored user's id, or the subject a config key names.
      const user = (await identity.users.get(id).catch(() => undefined)) ?? (await identity.users.findBySubject(id).catch(() => undefined))
      found.set(id, { id, name: user?.name ?? null, email: user?.email ?? null })
    } else {
      const key = await identity.apiKeys.get(id).catch(() => undefined)
      found.set(id, { id, name: key?.name ?? null, prefix: key?.prefix ?? null })
    }
  }))
  return out.map((r) => ({ ...r, [groupBy]: typeof r.group === 'string' ? found.get(r.group) ?? null : null }))
}

export function analyticsService(log: UsageLog, config: AnalyticsConfig, identity?: Identity): Service {
  const usage: RouteSpec<unknown, AnalyticsQuery> = {
    method: 'GET', path: '/usage', summary: 'Requests, errors, tokens, cost and latency per group and time bucket (buckets without requests have no row: `meta.buckets` lists them all).', permission: VIEW_ANALYTICS, query: QUERY_SCHEMA, response: listOf(USAGE_ROW_SCHEMA), meta: RANGE_META_SCHEMA,
    async handle({ caller, query: q }) {
      const scoped = query(q, config, caller)
      const [rows, meta] = await Promise.all([log.aggregate(scoped), rangeMeta(log, scoped, scoped.groupBy ?? null, caller.scope)])
      return reply(await named(rows, scoped.groupBy, identity), { meta })
    },
  }
  const costs: RouteSpec<unknown, AnalyticsQuery> = {
    method: 'GET', path: '/costs', summary: 'Total cost and cost per group (model by default) and time bucket.', permission: VIEW_ANALYTICS, query: QUERY_SCHEMA, response: COSTS_SCHEMA, meta: RANGE_META_SCHEMA,
    async handle({ caller, query: q }) {
      const scoped = query(q, config, caller)
      const [rows, meta] = await Promise.all([log.aggregate({ ...scoped, groupBy: scoped.groupBy ?? 'model' }), rangeMeta(log, scoped, scoped.groupBy ?? 'model', caller.scope)])
      const total = rows.reduce((sum, r) => sum + r.costUsd, 0)
      const unpricedModels = [...new Set(rows.flatMap((r) => r.unpricedModels))].sort()
      return reply(
        {
          total_cost_usd: Math.round(total * 1e10) / 1e10,
          ...unpriced({ unpricedRequests: rows.reduce((sum, r) => sum + r.unpricedRequests, 0), unpricedModels }),
          rows: rows.map((r) => ({ bucket: r.bucket?.toISOString() ?? null, group: r.group, cost_usd: r.costUsd, ...unpriced(r), requests: r.requests, prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, cached_tokens: r.cachedTokens, cache_write_tokens: r.cacheWriteTokens, reasoning_tokens: r.reasoningTokens })),
        },
        { meta },
      )
    },
  }
  const events: RouteSpec<unknown, AnalyticsQuery & { limit: number; offset: number }> = {
    method: 'GET', path: '/events', summary: 'The usage events themselves, one per request, oldest first: who, key, route, model, status, tokens, cost, latency.', permission: VIEW_ANALYTICS,
    query: EVENTS_QUERY, response: listOf(EVENT_SCHEMA),
    async handle({ caller, query: q }) {
      const scoped = query(q, config, caller)
      // One more than the page: whether another page follows (a client paging by offset knew only when it got an empty one).
      const read = await log.list({ ...scoped, limit: q.limit + 1, offset: q.offset })
      const page = read.slice(0, q.limit)
      return reply(page.map(eventView), { meta: { from: scoped.from.toISOString(), to: scoped.to.toISOString(), limit: q.limit, offset: q.offset, count: page.length, has_more: read.length > q.limit, scope: caller.scope } })
    },
  }
  const usageCsv: RouteSpec<unknown, AnalyticsQuery> = {
    method: 'GET', path: '/usage.csv', summary: 'The rows of /usage as CSV (the same parameters).', permission: VIEW_ANALYTICS, query: QUERY_SCHEMA, produces: 'text/csv',
    async handle({ caller, query: q }) {
      const scoped = query(q, config, caller)
      const rows = (await named(await log.aggregate(scoped), scoped.groupBy, identity)).map((r) => ({ ...r, name: nameOf(r, scoped.groupBy) }))
      return raw(toCsv(USAGE_COLUMNS, rows), CSV, { headers: download('usage') })
    },
  }
  const eventsCsv: RouteSpec<unknown, AnalyticsQuery> = {
    method: 'GET', path: '/events.csv', summary: `Every usage event in the range as CSV, oldest first (at most ${MAX_EXPORT_EVENTS.toLocaleString('en-US')}; x-export-truncated: true when there were more).`, permission: VIEW_ANALYTICS,
    query: EXPORT_QUERY, produces: 'text/csv',
    async handle({ caller, query: q }) {
      const scoped = query(q, config, caller)
      const { events: all, truncated } = await allEvents(log, scoped)
      return raw(toCsv(EVENT_COLUMNS, all.map(eventView)), CSV, { headers: { ...download('usage-events'), 'x-export-truncated': String(truncated) } })
    },
  }
  return { routes: [usage, costs, events, usageCsv, eventsCsv] }
}

const CSV = 'text/csv; charset=utf-8'
const USAGE_COLUMNS = ['bucket', 'group', 'name', 'requests', 'errors', 'error_rate', 'cache_hits', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'cache_write_tokens', 'reasoning_tokens', 'total_tokens', 'cost_usd', 'unpriced_requests', 'latency_p50_ms', 'latency_p95_ms']
const download = (name: string) => ({ 'content-disposition': attachment(`${name}.csv`) })
/** A user's or key's name beside its id in the CSV (/usage's `user` / `key` objects). */
const nameOf = (row: Record<string, unknown>, groupBy: UsageGroupBy | undefined): unknown =>
  groupBy === 'user' || groupBy === 'key' ? (row[groupBy] as { name?: unknown } | null)?.name ?? null : null

export default definePlugin<AnalyticsConfig, Service>({
  id: 'service.analytics',
  kind: 'service',
  description: 'Usage and cost analytics over the recorded usage events, scoped by role.',
  configSchema,
  needs: [Store],
  uses: [UsageLog, Identity],
  setup(ctx, config) {
    const log = ctx.tryGet(UsageLog)
    if (!log) throw new Error('analytics reads the usage events in the store: add `store:` to gateway.yaml (e.g. store: { plugin: embedded })')
    return analyticsService(log, config, ctx.tryGet(Identity))
  },
})
