/** A route's input against its JSON Schemas (ajv): a 400 naming the field in the client's terms; query and path text coerced, defaults filled in. */
import type { ErrorObject } from 'ajv/dist/2020.js'
import { pointerToPath, validators } from '../config/validate.ts'
import { dottedPath } from '../config/issues.ts'
import { badRequest, type GatewayError } from '../../plugin-api/errors.ts'
import type { JsonSchema } from '../../plugin-api/types.ts'

export interface InputValidator {
  /** `value` if it is valid (with defaults and coercions applied), else throws a 400. */
  check<T>(value: T, where: 'body' | 'query' | 'path'): T
}

// Compiled on the first request that has input to check, once per schema object (plugins' schemas are constants that outlive reloads), by the same validators as config blocks.
export function validator(schema: JsonSchema, fromText: boolean): InputValidator {
  const fn = validators.get(schema, fromText ? 'text' : 'plugin')
  return {
    check(value, where) {
      if (fn(value)) return value
      // An unknown field is named first: it is the likeliest cause of everything else (a typo).
      throw inputError(fn.errors?.find((e) => e.keyword === 'additionalProperties') ?? fn.errors?.[0], where)
    },
  }
}

/** The first problem, in the client's terms (a schema may name its error's code with `x-error-code`). */
function inputError(error: ErrorObject | undefined, where: 'body' | 'query' | 'path'): GatewayError {
  if (!error) return badRequest(`Invalid ${where}.`)
  const at = pointerToParam(error.instancePath)
  const name = (param: string): string => (where === 'body' ? param : `${where}.${param}`)
  if (error.keyword === 'additionalProperties') {
    const extra = String((error.params as { additionalProperty: string }).additionalProperty)
    const param = name(at ? `${at}.${extra}` : extra)
    const allowed = Object.keys(((error.parentSchema as JsonSchema | undefined)?.properties as JsonSchema | undefined) ?? {})
    return badRequest(`Unknown field '${param}'${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}.`, param, 'unknown_parameter')
  }
  let param = at
  let message = error.message ?? 'is invalid'
  if (error.keyword === 'required') {
    const missing = String((error.params as { missingProperty: string }).missingProperty)
    param = at ? `${at}.${missing}` : missing
    message = 'is required'
  } else if (error.keyword === 'enum') {
    message = `must be one of: ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`
  }
  const code = (error.parentSchema as { 'x-error-code'?: unknown } | undefined)?.['x-error-code']
  const named = param ? name(param) : ''
  return badRequest(`${named || where} ${message}.`, named || null, typeof code === 'string' ? code : 'invalid_value')
}

/** `/messages/0/role` → `messages[0].role`. */
const pointerToParam = (pointer: string): string => dottedPath(pointerToPath(pointer))
