/**
 * The usage as a spreadsheet takes it: the aggregated rows of /usage, and the events themselves
 * (one line per request: who, which key, route, model, status, tokens, cost, latency), as CSV.
 * A cell that a spreadsheet would run as a formula (a model name a client chose, starting with
 * `=`, `+`, `-`, `@`) is written as text.
 */
import type { UsageEventRecord, UsageLog, UsageScope } from '../../contracts/capabilities.ts'

/** The most events one export holds; `x-export-truncated: true` says there were more (narrow the range). */
export const MAX_EXPORT_EVENTS = 100_000
const PAGE = 1000

/** One CSV cell: quoted when it holds a comma, quote or line break; a leading formula character made text. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return ''
  let text = value instanceof Date ? value.toISOString() : String(value)
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** RFC 4180 text: a header line, then one line per row with the columns' values. */
export function toCsv(columns: readonly string[], rows: readonly Readonly<Record<string, unknown>>[]): string {
  const lines = [columns.join(',')]
  for (const row of rows) lines.push(columns.map((c) => cell(row[c])).join(','))
  return `${lines.join('\r\n')}\r\n`
}

/** An event as the API names its fields (the JSON list and the CSV's columns). */
export const eventView = (e: UsageEventRecord): Record<string, unknown> => ({
  time: e.time.toISOString(), request_id: e.requestId, user_id: e.userId, key_id: e.keyId, department: e.department,
  route: e.route, provider: e.provider, model: e.model, status: e.status, error_type: e.errorType, attempts: e.attempts,
  cache_hit: e.cacheHit, streamed: e.streamed, prompt_tokens: e.promptTokens, completion_tokens: e.completionTokens,
  cached_tokens: e.cachedTokens, cache_write_tokens: e.cacheWriteTokens, reasoning_tokens: e.reasoningTokens, cost_usd: e.costUsd, unpriced: e.unpriced, batch: e.batch, latency_ms: e.latencyMs, ttft_ms: e.ttftMs,
})

export const EVENT_COLUMNS = Object.keys(eventView({
  id: 0, eventId: '', time: new Date(0), requestId: '', userId: null, keyId: null, department: null, route: null, provider: null, model: null,
  status: 0, errorType: null, attempts: 0, cacheHit: false, promptTokens: 0, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0, unpriced: false, batch: false, latencyMs: 0, ttftMs: null, streamed: false,
}))

/** Every event in the scope, oldest first, up to MAX_EXPORT_EVENTS; whether there were more. */
export async function allEvents(log: UsageLog, scope: UsageScope): Promise<{ events: UsageEventRecord[]; truncated: boolean }> {
  const events: UsageEventRecord[] = []
  // Each page continues from the last event read (an offset would make the database count past every earlier one again).
  for (;;) {
    const page = await log.list({ ...scope, limit: PAGE, after: events.at(-1) })
    events.push(...page)
    if (page.length < PAGE) return { events, truncated: false }
    if (events.length >= MAX_EXPORT_EVENTS) return { events: events.slice(0, MAX_EXPORT_EVENTS), truncated: true }
  }
}
