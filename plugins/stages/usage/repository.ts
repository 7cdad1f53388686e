/** The usage_events table: batched inserts, and the reads behind budgets and analytics. */
import { badRequest, type SqlClient } from '../../../plugin-api/index.ts'
import { copyText, pageOf, toNumber, UNIQUE_VIOLATION, type Page } from '../../store/kit/sql.ts'
import { type UsageAggregate, type UsageEvent, type UsageEventRecord, type UsageGroupBy, type UsageInterval, type UsageLog, type UsageQuery, type UsageScope } from '../../contracts/capabilities.ts'

export interface UsageEventRepository extends UsageLog {
  /**
   * Write a batch in one statement; returns how many rows were new. An event already stored is
   * skipped, so a batch retried after an ambiguous failure is not counted twice.
   */
  insertBatch(events: readonly UsageEvent[]): Promise<number>
}

/** The columns a batch writes, in the order of toRows' arrays. */
const COLUMNS = ['event_id', 'occurred_at', 'request_id', 'user_id', 'key_id', 'department', 'route', 'provider', 'model', 'status', 'error_type',
  'attempts', 'cache_hit', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'cost_usd', 'latency_ms', 'ttft_ms', 'streamed', 'unpriced', 'cache_write_tokens', 'reasoning_tokens', 'batch'] as const

/**
 * Where the store can COPY (both stores can), a batch is copied in: PostgreSQL's CPU per event 10.7 →
 * 6.3 µs with the indexes 0004 left (500-event batches; bench/RESULTS.md), CPU the database takes
 * from the gateway on a shared host; the embedded store's time 22-24 → 18-20 µs, on the gateway's
 * own thread. COPY cannot skip an event already stored, so a batch with one (written again after a
 * timeout, or replayed from the journal) fails whole, and is then inserted.
 *
 * A whole batch is one INSERT ... SELECT over one JSON parameter (an array of rows, each an array
 * in column order): one statement and one parameter whatever the batch size, so there is no
 * parameter-count ceiling and the plan is the same each time. JSON rather than 20 typed arrays:
 * JSON.stringify is native, while pg writes each array element through its escaping in
 * JavaScript, about 25 µs of the gateway's CPU per event at 500-event batches (bench/RESULTS.md).
 * The event id decides what is already stored: a batch written again inserts nothing twice.
 * jsonb, not json: `->>` on a json value parses its text again from the start at every call, 20
 * calls per row; jsonb parses each row once and `->>` indexes it. PostgreSQL's CPU per inserted
 * event 28 → 13 µs (500-row batches, the usage table with its seven indexes; bench/RESULTS.md),
 * CPU the database takes from the gateway on a shared host.
 */
const INSERT_BATCH = `INSERT INTO usage_events (${COLUMNS.join(', ')})
  SELECT (r->>0)::uuid, (r->>1)::timestamptz, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, r->>8, (r->>9)::int,
    r->>10, (r->>11)::int, (r->>12)::bool, (r->>13)::int, (r->>14)::int, (r->>15)::int, (r->>16)::numeric, (r->>17)::int, (r->>18)::int, (r->>19)::bool, (r->>20)::bool, (r->>21)::int, (r->>22)::int, (r->>23)::bool
  FROM jsonb_array_elements($1::jsonb) AS rows(r)
  ON CONFLICT (event_id, occurred_at) DO NOTHING`

const PREPARED_INSERT = { prepare: 'usage_events_insert_batch' } as const

/** The dimensions a caller may group by, and their columns: identifiers come from here, never from input. */
const GROUP_COLUMNS: Readonly<Record<UsageGroupBy, string>> = {
  user: 'user_id', department: 'department', model: 'model', provider: 'provider', route: 'route', key: 'key_id',
}
const INTERVALS: ReadonlySet<UsageInterval> = new Set(['hour', 'day'])

/** Optional scope filters, each an indexed column. */
const SCOPE_COLUMNS = [['userId', 'user_id'], ['department', 'department'], ['keyId', 'key_id']] as const

/**
 * Requests whose latency says something about answering: not those the gateway refused before any
 * upstream call (401, 403, 429, a 400 for a bad request: an error with no attempt), which take a
 * millisecond and would pull the percentiles down. They still count as requests and errors; a
 * cache hit (no attempt, but an answer) is measured.
 */
const ANSWERED = 'NOT (attempts = 0 AND status >= 400)'

const MEASURES = `count(*) AS requests,
  count(*) FILTER (WHERE status >= 400) AS errors,
  count(*) FILTER (WHERE cache_hit) AS cache_hits,
  coalesce(sum(prompt_tokens), 0) AS prompt_tokens,
  coalesce(sum(completion_tokens), 0) AS completion_tokens,
  coalesce(sum(cached_tokens), 0) AS cached_tokens,
  coalesce(sum(cache_write_tokens), 0) AS cache_write_tokens,
  coalesce(sum(reasoning_tokens), 0) AS reasoning_tokens,
  coalesce(sum(cost_usd), 0) AS cost_usd,
  count(*) FILTER (WHERE unpriced) AS unpriced_requests,
  coalesce(array_agg(DISTINCT model ORDER BY model) FILTER (WHERE unpriced AND model IS NOT NULL), '{}') AS unpriced_models,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE ${ANSWERED}) AS latency_p50_ms,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE ${ANSWERED}) AS latency_p95_ms`

const EVENT_COLUMNS = `id, event_id, occurred_at, request_id, user_id, key_id, department, route, provider, model, status, error_type,
  attempts, cache_hit, prompt_tokens, completion_tokens, cached_tokens, cost_usd, latency_ms, ttft_ms, streamed, unpriced, cache_write_tokens, reasoning_tokens, batch`

interface AggregateRow {
  bucket: Date | null
  group_key: string | null
  requests: number | string
  errors: number | string
  cache_hits: number | string
  prompt_tokens: number | string
  completion_tokens: number | string
  cached_tokens: number | string
  cache_write_tokens: number | string
  reasoning_tokens: number | string
  cost_usd: number | string
  unpriced_requests: number | string
  unpriced_models: string[]
  latency_p50_ms: number | null
  latency_p95_ms: number | null
}

interface EventRow {
  id: number | string
  event_id: string
  occurred_at: Date
  request_id: string
  user_id: string | null
  key_id: string | null
  department: string | null
  route: string | null
  provider: string | null
  model: string | null
  status: number
  error_type: string | null
  attempts: number
  cache_hit: boolean
  prompt_tokens: number
  completion_tokens: number
  cached_tokens: number
  cache_write_tokens: number
  reasoning_tokens: number
  cost_usd: string | number
  latency_ms: number
  ttft_ms: number | null
  streamed: boolean
  unpriced: boolean
  batch: boolean
}

export function usageRepository(db: SqlClient): UsageEventRepository {
  return {
    async insertBatch(events) {
      if (events.length === 0) return 0
      const rows = toRows(events)
      if (db.copyFrom) {
        try {
          return await db.copyFrom('usage_events', COLUMNS, copyText(rows))
        } catch (err) {
          if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err
        }
      }
      // Prepared once per connection: planning this INSERT (20 casts, the indexes, ON CONFLICT) cost
      // PostgreSQL about a millisecond per batch, ~2 µs per event at 500-event batches.
      const { rowCount } = await db.query(INSERT_BATCH, [JSON.stringify(rows)], PREPARED_INSERT)
      return rowCount
    },

    async aggregate(query: UsageQuery) {
      const params: unknown[] = []
      const bucket = query.interval === undefined ? 'NULL::timestamptz' : `date_trunc(${bind(params, checkInterval(query.interval))}, occurred_at, ${bind(params, query.timeZone ?? 'UTC')})`
      const group = query.groupBy === undefined ? 'NULL::text' : checkGroupBy(query.groupBy)
      const where = scopeFilter(query, params)
      const { rows } = await db.query<AggregateRow>(
        `SELECT ${bucket} AS bucket, ${group} AS group_key, ${MEASURES} FROM usage_events WHERE ${where} GROUP BY 1, 2 ORDER BY 1, 2`,
        params,
      )
      return rows.map(toAggregate)
    },

    async buckets(range) {
      // date_trunc itself names them, as aggregate does: the instants every quarter hour (the shortest
      // local hour is half an hour, a half-hour DST shift), and the range's last, each to its bucket.
      const { rows } = await db.query<{ bucket: Date }>(
        `SELECT DISTINCT date_trunc($1, t, $2) AS bucket
           FROM (SELECT generate_series($3::timestamptz, $4::timestamptz - interval '1 microsecond', interval '15 minutes') AS t
                 UNION ALL SELECT $4::timestamptz - interval '1 microsecond') AS instants
          ORDER BY 1`,
        [checkInterval(range.interval), range.timeZone ?? 'UTC', range.from, range.to],
      )
      return rows.map((r) => r.bucket)
    },

    async totalCostUsd(scope) {
      const params: unknown[] = []
      const where = scopeFilter(scope, params)
      const { rows } = await db.query<{ cost_usd: string | number }>(`SELECT coalesce(sum(cost_usd), 0) AS cost_usd FROM usage_events WHERE ${where}`, params)
      return toNumber(rows[0]?.cost_usd)
    },

    async costUsdByKey(keyIds, range) {
      const spent = new Map<string, { total: number; since: number }>()
      if (keyIds.length === 0) return spent
      const params: unknown[] = []
      const where = scopeFilter(range, params)
      const { rows } = await db.query<{ key_id: string; total: string | number; since: string | number }>(
        `SELECT key_id, coalesce(sum(cost_usd), 0) AS total, coalesce(sum(cost_usd) FILTER (WHERE occurred_at >= ${bind(params, range.since)}), 0) AS since
           FROM usage_events WHERE ${where} AND key_id = ANY(${bind(params, keyIds)}::text[]) GROUP BY key_id`,
        params,
      )
      for (const r of rows) spent.set(r.key_id, { total: toNumber(r.total), since: toNumber(r.since) })
      return spent
    },

    async list(scope) {
      const params: unknown[] = []
      const where = scopeFilter(scope, params)
      const [limit, offset] = pageOf(scope)
      const after = scope.after ? ` AND (occurred_at, id) > (${bind(params, scope.after.time)}, ${bind(params, scope.after.id)})` : ''
      const { rows } = await db.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM usage_events WHERE ${where}${after} ORDER BY occurred_at, id LIMIT ${bind(params, limit)} OFFSET ${bind(params, offset)}`,
        params,
      )
      return rows.map(toEventRecord)
    },
  }
}

/** Add a parameter and return its placeholder. */
function bind(params: unknown[], value: unknown): string {
  params.push(value)
  return `$${params.length}`
}

function scopeFilter(scope: UsageScope, params: unknown[]): string {
  if (!(scope.from instanceof Date) || Number.isNaN(scope.from.getTime())) throw badRequest('`from` must be a valid time.', 'from')
  if (!(scope.to instanceof Date) || Number.isNaN(scope.to.getTime())) throw badRequest('`to` must be a valid time.', 'to')
  if (scope.from >= scope.to) throw badRequest('`from` must be before `to`.', 'from')
  const conditions = [`occurred_at >= ${bind(params, scope.from)}`, `occurred_at < ${bind(params, scope.to)}`]
  for (const [field, column] of SCOPE_COLUMNS) {
    const value = scope[field]
    if (value !== undefined) conditions.push(`${column} = ${bind(params, value)}`)
  }
  if (scope.status === 'error') conditions.push('status >= 400')
  else if (scope.status !== undefined) conditions.push(`status = ${bind(params, scope.status)}`)
  return conditions.join(' AND ')
}

function checkGroupBy(groupBy: UsageGroupBy): string {
  const column = Object.hasOwn(GROUP_COLUMNS, groupBy) ? GROUP_COLUMNS[groupBy] : undefined
  if (!column) throw badRequest(`group_by must be one of ${Object.keys(GROUP_COLUMNS).join(', ')}.`, 'group_by')
  return column
}

function checkInterval(interval: UsageInterval): UsageInterval {
  if (!INTERVALS.has(interval)) throw badRequest(`interval must be one of ${[...INTERVALS].join(', ')}.`, 'interval')
  return interval
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Events as 21 column arrays; a bad event fails the batch before the database sees it, naming the event. */
/** The largest value of the integer columns. */
const INT4_MAX = 2_147_483_647

/**
 * A token count as its column holds one. Counts come from upstreams, which have reported null,
 * 2.5 and 3e9: PostgreSQL refused the whole batch for each, and every event after it waited.
 */
const count = (n: number | undefined): number => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.min(Math.round(n), INT4_MAX) : 0)

/** Text as PostgreSQL takes it: a model name is the client's, and text may not hold U+0000. */
const text = (s: string | null | undefined): string | null => (s == null ? null : s.includes('\u0000') ? s.replaceAll('\u0000', '') : s)

function toRows(events: readonly UsageEvent[]): unknown[][] {
  return events.map((e, i) => {
    if (typeof e.eventId !== 'string' || !UUID.test(e.eventId)) throw badRequest(`usage event ${i} has no event id (a UUID).`, `events[${i}].eventId`, 'invalid_usage_event')
    if (!(e.time instanceof Date) || Number.isNaN(e.time.getTime())) throw badRequest(`usage event ${i} has no valid time.`, `events[${i}].time`, 'invalid_usage_event')
    if (typeof e.requestId !== 'string' || e.requestId === '') throw badRequest(`usage event ${i} has no request id.`, `events[${i}].requestId`, 'invalid_usage_event')
    if (!Number.isInteger(e.status)) throw badRequest(`usage event ${i} has no HTTP status.`, `events[${i}].status`, 'invalid_usage_event')
    if (!Number.isFinite(e.latencyMs) || e.latencyMs < 0) throw badRequest(`usage event ${i} has no valid latency.`, `events[${i}].latencyMs`, 'invalid_usage_event')
    // The time as an ISO instant (Date's toJSON); numbers as JavaScript writes them, as pg would.
    return [
      e.eventId, e.time, e.requestId, text(e.userId), text(e.keyId), text(e.department), text(e.route), text(e.provider), text(e.model),
      e.status, text(e.errorType), e.attempts ?? 1, e.cacheHit ?? false, count(e.promptTokens), count(e.completionTokens),
      count(e.cachedTokens), Number.isFinite(e.costUsd) && e.costUsd! >= 0 ? e.costUsd : 0, Math.round(e.latencyMs), e.ttftMs == null ? null : Math.round(e.ttftMs), e.streamed ?? false,
      e.unpriced ?? false, count(e.cacheWriteTokens), count(e.reasoningTokens), e.batch ?? false,
    ]
  })
}

/** percentile_cont interpolates in floating point (2299.999999999999); a microsecond is precise enough. */
const toMilliseconds = (value: unknown): number | null => (value === null || value === undefined ? null : Math.round(toNumber(value) * 1000) / 1000)

function toAggregate(r: AggregateRow): UsageAggregate {
  const requests = toNumber(r.requests)
  const errors = toNumber(r.errors)
  const promptTokens = toNumber(r.prompt_tokens)
  const completionTokens = toNumber(r.completion_tokens)
  return {
    bucket: r.bucket,
    group: r.group_key,
    requests,
    errors,
    errorRate: requests === 0 ? 0 : errors / requests,
    cacheHits: toNumber(r.cache_hits),
    promptTokens,
    completionTokens,
    cachedTokens: toNumber(r.cached_tokens),
    cacheWriteTokens: toNumber(r.cache_write_tokens),
    reasoningTokens: toNumber(r.reasoning_tokens),
    totalTokens: promptTokens + completionTokens,
    costUsd: toNumber(r.cost_usd),
    unpricedRequests: toNumber(r.unpriced_requests),
    unpricedModels: r.unpriced_models,
    latencyP50Ms: toMilliseconds(r.latency_p50_ms),
    latencyP95Ms: toMilliseconds(r.latency_p95_ms),
  }
}

const toEventRecord = (r: EventRow): UsageEventRecord => ({
  id: Number(r.id),
  eventId: r.event_id,
  time: r.occurred_at,
  requestId: r.request_id,
  userId: r.user_id,
  keyId: r.key_id,
  department: r.department,
  route: r.route,
  provider: r.provider,
  model: r.model,
  status: r.status,
  errorType: r.error_type,
  attempts: r.attempts,
  cacheHit: r.cache_hit,
  promptTokens: r.prompt_tokens,
  completionTokens: r.completion_tokens,
  cachedTokens: r.cached_tokens,
  cacheWriteTokens: r.cache_write_tokens,
  reasoningTokens: r.reasoning_tokens,
  costUsd: Number(r.cost_usd),
  latencyMs: r.latency_ms,
  ttftMs: r.ttft_ms,
  streamed: r.streamed,
  unpriced: r.unpriced,
  batch: r.batch,
})
