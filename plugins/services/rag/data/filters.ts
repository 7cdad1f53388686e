/**
 * OpenAI's attribute filters (`{ type: 'eq', key, value }`, `{ type: 'and', filters }`) as a SQL
 * condition on the document's `attributes` (jsonb), values always as parameters. Numbers compare
 * as numbers, strings and booleans as JSON values.
 */
import { badRequest, type JsonSchema } from '../../../../plugin-api/index.ts'
import type { SearchFilter } from '../../../contracts/rag.ts'

const MAX_DEPTH = 5
const MAX_CONDITIONS = 50

/** In request schemas: an object, checked by `parseFilter` (ajv would need a recursive schema id shared across routes). */
export const FILTER_SCHEMA: JsonSchema = { type: 'object', description: 'OpenAI attribute filter: `{ type: eq|ne|gt|gte|lt|lte|in|nin, key, value }` or `{ type: and|or, filters: [...] }`.' }

/** A filter from a request body, or a 400 saying what is wrong with it. */
export function parseFilter(value: unknown, at = 'filters', depth = 0): SearchFilter {
  const bad = (why: string): never => { throw badRequest(`${at}: ${why}`, at, 'invalid_filter') }
  if (depth > MAX_DEPTH) bad(`filters nest at most ${MAX_DEPTH} levels`)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('must be an object')
  const f = value as Record<string, unknown>
  const type = f.type
  if (type === 'and' || type === 'or') {
    if (!Array.isArray(f.filters) || f.filters.length === 0) return bad(`'${type}' needs a non-empty 'filters' list`)
    return { type, filters: f.filters.map((g, i) => parseFilter(g, `${at}.filters[${i}]`, depth + 1)) }
  }
  if (typeof f.key !== 'string' || f.key.length === 0 || f.key.length > 256) return bad("'key' must be a string of 1 to 256 characters")
  if (type === 'in' || type === 'nin') {
    if (!Array.isArray(f.value) || f.value.length > 100 || f.value.some((v) => typeof v !== 'string' && typeof v !== 'number')) return bad(`'${type}' needs a 'value' list of up to 100 strings or numbers`)
    return { type, key: f.key, value: f.value as (string | number)[] }
  }
  if (typeof type !== 'string' || !(type in COMPARE)) return bad("'type' must be one of eq, ne, gt, gte, lt, lte, in, nin, and, or")
  const v = f.value
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return bad("'value' must be a string, a number or a boolean")
  return { type: type as keyof typeof COMPARE, key: f.key, value: v }
}

const COMPARE = { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const

/** The condition, with its values appended to `params` (`$n` numbered after those already there). */
export function filterSql(filter: SearchFilter, params: unknown[], column = 'd.attributes'): string {
  let conditions = 0
  const build = (f: SearchFilter, depth: number): string => {
    if (depth > MAX_DEPTH) throw badRequest(`Filters nest at most ${MAX_DEPTH} levels.`, 'filters', 'invalid_filter')
    if (++conditions > MAX_CONDITIONS) throw badRequest(`A filter has at most ${MAX_CONDITIONS} conditions.`, 'filters', 'invalid_filter')
    const param = (value: unknown): string => `$${params.push(value)}`
    switch (f.type) {
      case 'and':
      case 'or':
        return `(${f.filters.map((g) => build(g, depth + 1)).join(f.type === 'and' ? ' AND ' : ' OR ')})`
      case 'in':
      case 'nin': {
        // The list (a JSON array) contains [the attribute]: false when the attribute is absent.
        const inList = `${param(JSON.stringify(f.value))}::jsonb @> jsonb_build_array(${column} -> ${param(f.key)})`
        return f.type === 'in' ? `coalesce(${inList}, false)` : `NOT coalesce(${inList}, false)`
      }
      default: {
        const op = COMPARE[f.type]
        if (typeof f.value === 'number') {
          const key = param(f.key)
          // Only numbers compare with a number: a string attribute never matches `gt 3`. `ne` is
          // not `eq`, as for strings and `nin`: a file without the attribute, or with a string, matches.
          const compare = (o: string) => `(jsonb_typeof(${column} -> ${key}) = 'number' AND (${column} ->> ${key})::numeric ${o} ${param(f.value)})`
          return op === '<>' ? `NOT coalesce(${compare('=')}, false)` : compare(op)
        }
        if (op !== '=' && op !== '<>' && typeof f.value !== 'string') throw badRequest(`'${f.type}' compares numbers or strings.`, 'filters', 'invalid_filter')
        const cond = `(${column} -> ${param(f.key)}) ${op} ${param(JSON.stringify(f.value))}::jsonb`
        return op === '<>' ? `coalesce(${cond}, true)` : `coalesce(${cond}, false)`
      }
    }
  }
  return build(filter, 0)
}
