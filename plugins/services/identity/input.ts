/**
 * Reading management-API input: a JSON body with known fields only, and list queries. Every
 * problem is a 400 naming the field, so a typo never passes silently.
 */
import type Koa from 'koa'
import { badRequest } from '../../../core/errors.ts'
import { readJson } from '../../../core/http/body.ts'
import type { Page } from '../../../core/data/types.ts'
import type { Snapshot } from '../../../core/runtime/snapshot.ts'

export type Body = Readonly<Record<string, unknown>>

/** The request's JSON object, refusing fields the endpoint does not know. An empty body is `{}` when `optional`. */
export async function bodyOf(ctx: Koa.Context, allowed: readonly string[], optional = false): Promise<Body> {
  if (optional && !ctx.request.length && !ctx.get('transfer-encoding')) return {}
  const body = await readJson(ctx, (ctx.state.snapshot as Snapshot).bodyLimit)
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.', null, 'invalid_body')
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw badRequest(`Unknown field '${key}' (allowed: ${allowed.join(', ')}).`, key, 'unknown_parameter')
  }
  return body as Body
}

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

export function optionalInteger(body: Body, key: string, min: number, max: number): number | undefined {
  const value = body[key]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw badRequest(`'${key}' must be an integer from ${min} to ${max}.`, key)
  return value
}

/** A flat object of non-negative numbers with known names (per-key limits and budget). */
export function optionalNumbers(body: Body, key: string, names: readonly string[]): Record<string, number> | undefined {
  const value = body[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`'${key}' must be an object (${names.join(', ')}).`, key)
  for (const [name, n] of Object.entries(value)) {
    if (!names.includes(name)) throw badRequest(`Unknown field '${key}.${name}' (allowed: ${names.join(', ')}).`, `${key}.${name}`, 'unknown_parameter')
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw badRequest(`'${key}.${name}' must be a non-negative number.`, `${key}.${name}`)
  }
  return value as Record<string, number>
}

/** `?limit=&offset=` of a list endpoint. */
export function pageOf(ctx: Koa.Context): Required<Page> {
  const limit = queryInteger(ctx, 'limit', 1, 1000) ?? 100
  const offset = queryInteger(ctx, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0
  return { limit, offset }
}

export function queryString(ctx: Koa.Context, key: string): string | undefined {
  const value = ctx.query[key]
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) throw badRequest(`Query parameter '${key}' must be given once, with a value.`, key)
  return value
}

export function queryBoolean(ctx: Koa.Context, key: string): boolean {
  const value = queryString(ctx, key)
  if (value === undefined || value === 'false') return false
  if (value === 'true') return true
  throw badRequest(`Query parameter '${key}' must be true or false.`, key)
}

function queryInteger(ctx: Koa.Context, key: string, min: number, max: number): number | undefined {
  const value = queryString(ctx, key)
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`Query parameter '${key}' must be an integer from ${min} to ${max}.`, key)
  return n
}
