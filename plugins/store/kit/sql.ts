/** Helpers for plugins that keep data in the Store: id checks, paging, numbers, and database errors as GatewayErrors. */
import { GatewayError } from '../../../plugin-api/index.ts'

/** A window of a list. */
export interface Page {
  /** At most this many records (default 100, at most 1000). */
  readonly limit?: number
  readonly offset?: number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Ids are UUIDs; anything else cannot name a row, so lookups answer "not found" without a query. */
export const isUuid = (id: string): boolean => UUID.test(id)

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1000

/** LIMIT and OFFSET values, clamped: a page is never unbounded. */
export function pageOf(page: Page | undefined): [limit: number, offset: number] {
  const limit = Math.min(Math.max(Math.trunc(page?.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT)
  const offset = Math.max(Math.trunc(page?.offset ?? 0), 0)
  return [limit, offset]
}

/** bigint and numeric arrive as strings from `pg` and as numbers from PGlite; both become numbers. */
export const toNumber = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value))
export const toNumberOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))

/** JSON for a jsonb parameter; both drivers pass a string through unchanged. */
export const jsonParam = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value))

/** SQLSTATE unique_violation: a COPY that met a row already there. */
export const UNIQUE_VIOLATION = '23505'

/** `COPY "table" ("column", ...) FROM source`: each store's copyFrom names its own source (STDIN, PGlite's '/dev/blob'). */
export function copyStatement(table: string, columns: readonly string[], source: string): string {
  const quoted = (name: string): string => `"${name.replaceAll('"', '""')}"`
  return `COPY ${quoted(table)} (${columns.map(quoted).join(', ')}) FROM ${source}`
}

/** What COPY's text format gives a meaning to, in text: written as backslash escapes. */
const COPY_SPECIAL = /[\\\n\r\t]/
const COPY_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * Rows in COPY's text format, for SqlClient.copyFrom: columns split by tabs, rows ended by line
 * breaks, NULL as `\N`. Text has its backslashes, tabs and line breaks escaped; a Date is its ISO
 * instant; a number as JavaScript writes it (a non-finite one as NULL, as JSON does); a boolean t
 * or f; anything else its JSON (a json or jsonb column).
 */
export function copyText(rows: readonly (readonly unknown[])[]): string {
  let text = ''
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) text += (i === 0 ? '' : '\t') + copyValue(row[i])
    text += '\n'
  }
  return text
}

function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N'
  if (typeof value === 'string') return COPY_SPECIAL.test(value) ? value.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]) : value
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '\\N'
  if (typeof value === 'boolean') return value ? 't' : 'f'
  if (value instanceof Date) return value.toISOString()
  return copyValue(JSON.stringify(value))
}

interface DatabaseError {
  code?: string
  table?: string
  column?: string
  constraint?: string
  detail?: string
}

/** SQLSTATEs that say the database cannot answer now, not that the statement is wrong: class 08 (connection exception), 53300 too_many_connections, 57P01-57P03 (shut down, crashed, not yet accepting connections). */
const UNAVAILABLE_STATE = /^(08...|53300|57P0[123])$/
/** What a socket says when the database's host is gone or refuses (a dead server, a cut network). */
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED'])
/**
 * The same, said by the drivers without a code: pg's lost or timed-out connections and its pool's
 * connect timeout (`connect_timeout_ms`), its client-side `query_timeout_ms`, a pool already ended
 * (shutting down), and PGlite closed (the embedded store's only way of being unavailable).
 */
const UNAVAILABLE_MESSAGE = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client (was closed|has encountered a connection error)|Cannot use a pool after calling end|PGlite is closed)/

/**
 * A database error that says nothing about the request, only that the store cannot answer now:
 * 503 `store_unavailable` with a retry-after, or undefined. Read through `cause` (a caller that
 * wrapped it) and AggregateError's `errors` (a host with several addresses, each refused).
 */
export function storeUnavailable(err: unknown, depth = 0): GatewayError | undefined {
  if (!(err instanceof Error) || err instanceof GatewayError || depth > 4) return undefined
  const code = (err as { code?: unknown }).code
  const down = (typeof code === 'string' && (UNAVAILABLE_STATE.test(code) || UNAVAILABLE_ERRNO.has(code))) || UNAVAILABLE_MESSAGE.test(err.message)
  if (down) {
    return new GatewayError('The gateway\'s database cannot be reached right now; try again shortly.', {
      status: 503, code: 'store_unavailable', retryable: true, headers: { 'retry-after': String(STORE_RETRY_AFTER_S) }, cause: err,
    })
  }
  const inner = err instanceof AggregateError ? err.errors[0] : err.cause
  return inner === undefined ? undefined : storeUnavailable(inner, depth + 1)
}

/** The retry-after of a `store_unavailable` answer: a pool reconnects on the next query, so a few seconds is all a client should wait. */
export const STORE_RETRY_AFTER_S = 5

/**
 * SQLSTATEs for text PostgreSQL cannot keep: 22021 (a NUL, U+0000, in a text parameter) and 22P05
 * (`\u0000` in a jsonb one). JSON allows both; PostgreSQL's text and jsonb do not.
 */
const INVALID_TEXT = new Set(['22021', '22P05'])

/** A value the database refused as text (a NUL character): 400 `invalid_text`, or undefined. */
export function invalidText(err: unknown): GatewayError | undefined {
  if (!(err instanceof Error) || err instanceof GatewayError || !INVALID_TEXT.has(String((err as { code?: unknown }).code))) return undefined
  return new GatewayError('A text value contains a character that cannot be stored: the NUL character (U+0000, "\\u0000" in JSON). Remove it and send the request again.', {
    status: 400, code: 'invalid_text', cause: err,
  })
}

/** What the request can be told of a database error no repository mapped: unavailable (503) or unstorable text (400); undefined for anything else (a bug: a 500). */
export const storeFailure = (err: unknown): GatewayError | undefined => storeUnavailable(err) ?? invalidText(err)

/** Turn constraint violations into 4xx GatewayErrors that name the field at fault, and unstorable text into a 400; anything else is rethrown as is. */
export function rethrowAsGatewayError(err: unknown): never {
  const fields = (err ?? {}) as DatabaseError
  const column = columnAtFault(fields)
  const text = invalidText(err)
  if (text) throw text
  switch (fields.code) {
    case UNIQUE_VIOLATION:
      throw new GatewayError(`A record with this ${column ?? 'value'} already exists.`, { status: 409, code: 'conflict', param: column, cause: err })
    case '23503':
      throw new GatewayError(`${column ?? 'A reference'} does not name an existing record.`, { status: 400, code: 'invalid_reference', param: column, cause: err })
    case '23514':
    case '23502':
      throw new GatewayError(`Invalid value for ${column ?? 'a field'}.`, { status: 400, code: 'invalid_value', param: column, cause: err })
    case '22P02':
      throw new GatewayError('A value has the wrong format (ids are UUIDs).', { status: 400, code: 'invalid_value', cause: err })
    default:
      throw err
  }
}

/** The column named by the error, its `Key (column)=` detail, or its constraint's default name (`<table>_<column>_check`). */
function columnAtFault({ column, detail, constraint, table }: DatabaseError): string | null {
  if (column) return column
  const key = /^Key \(([^)]+)\)=/.exec(detail ?? '')?.[1]
  if (key) return key
  if (constraint && table && constraint.startsWith(`${table}_`)) return constraint.slice(table.length + 1).replace(/_(check|fkey|key)$/, '')
  return null
}
