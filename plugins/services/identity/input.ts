/**
 * Checks on management-API input beyond what the routes' JSON Schemas say (the kernel has already
 * refused unknown fields and wrong types): lengths, future dates, lists of names. Every problem is
 * a 400 naming the field.
 */
import { badRequest, type JsonSchema } from '../../../plugin-api/index.ts'
import { objectSchema } from '../kit/schema.ts'

export type Body = Readonly<Record<string, unknown>>

export function optionalString(body: Body, key: string, maxLength = 200): string | undefined {
  const value = body[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) throw badRequest(`'${key}' must be a string of 1 to ${maxLength} characters.`, key)
  return value
}

/** A string, null (to clear or to say "none"), or undefined (not given). */
export function nullableString(body: Body, key: string, maxLength = 200): string | null | undefined {
  return body[key] === null ? null : optionalString(body, key, maxLength)
}

export function optionalStringList(body: Body, key: string): string[] | undefined {
  const value = body[key]
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0 || v.length > 200) || value.length > 100) {
    throw badRequest(`'${key}' must be a list of up to 100 names (globs allowed).`, key)
  }
  return value as string[]
}

/** An RFC 3339 time in the future. */
export function optionalFutureDate(body: Body, key: string): Date | undefined {
  const value = body[key]
  if (value === undefined || value === null) return undefined
  const date = typeof value === 'string' ? new Date(value) : undefined
  if (!date || Number.isNaN(date.getTime())) throw badRequest(`'${key}' must be a date-time like 2030-01-31T00:00:00Z.`, key)
  if (date.getTime() <= Date.now()) throw badRequest(`'${key}' must be in the future.`, key)
  return date
}

/** `?limit=&offset=` of a list endpoint, as a query schema's properties. */
export const PAGE_QUERY: Readonly<Record<string, JsonSchema>> = {
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100, description: 'At most this many records.' },
  offset: { type: 'integer', minimum: 0, default: 0, description: 'Skip this many records.' },
}

export interface PageQuery {
  readonly limit: number
  readonly offset: number
}

export const ID_PARAMS = objectSchema({ id: { type: 'string', minLength: 1, maxLength: 64 } }, ['id'])
