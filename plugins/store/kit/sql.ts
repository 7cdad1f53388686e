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

/** Turn constraint violations into 4xx GatewayErrors that name the field at fault; anything else is rethrown as is. */
export function rethrowAsGatewayError(err: unknown): never {
  const fields = (err ?? {}) as DatabaseError
  const column = columnAtFault(fields)
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
