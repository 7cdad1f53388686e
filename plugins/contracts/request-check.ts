/**
 * How an OpenAI request body is checked against a JSON Schema of its fields (chat, completions,
 * embeddings; by surface.openai and by service.batches for each line): compiled by ajv once, on the
 * first request that needs it, and a wrong field refused with a 400 naming it (`param`) in the words
 * OpenAI uses, before a provider sees it.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type Ajv2020Module from 'ajv/dist/2020.js'
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'
import { badRequest } from '../../plugin-api/index.ts'

/**
 * How a check is compiled: the first error only (the 400 names one field); the schemas are constants
 * of these modules, so they are not checked against the meta-schema. strictNumbers: JSON's 1e400
 * parses as Infinity, which `integer` and `minimum` take otherwise (`max_tokens: 1e400` slipped past
 * token limits and went upstream as null, no cap at all; `dimensions: 1e400` likewise).
 */
export const REQUEST_CHECK_AJV_OPTIONS = { strict: false, allErrors: false, validateSchema: false, verbose: false, strictNumbers: true } as const

/** A request schema and the file `npm run build` writes its compiled check (ajv standalone code) to, beside this module (scripts/build.mjs). */
export interface RequestSchema {
  readonly schema: object
  readonly validator: string
}

/** Building blocks of the schemas, with OpenAI's nullability. */
export const number = (minimum: number, maximum: number) => ({ type: ['number', 'null'], minimum, maximum })
export const integer = (minimum?: number, maximum?: number) => ({ type: ['integer', 'null'], ...(minimum === undefined ? {} : { minimum }), ...(maximum === undefined ? {} : { maximum }) })
export const nullable = (type: string) => ({ type: [type, 'null'] })

/**
 * A function that throws a 400 naming the first field of `body` (a parsed JSON object) whose type
 * or value `request.schema` refuses. Compiled on the first call, not at start: from the build it is
 * the file above (a few ms); from the sources it is compiled then (ajv, ~90 CommonJS modules, and
 * the compile: ~200 ms of CPU for the chat schema).
 */
export function requestCheck(request: RequestSchema): (body: object) => void {
  let validate: ValidateFunction | undefined
  return (body) => {
    validate ??= load(request)
    if (validate(body)) return
    throw refusal(validate.errors![0], body)
  }
}

function load({ schema, validator }: RequestSchema): ValidateFunction {
  const require = createRequire(import.meta.url)
  const built = fileURLToPath(new URL(validator, import.meta.url))
  if (existsSync(built)) return require(built) as ValidateFunction
  const Ajv2020 = (require('ajv/dist/2020.js') as typeof Ajv2020Module).default
  return new Ajv2020(REQUEST_CHECK_AJV_OPTIONS).compile(schema)
}

function refusal(error: ErrorObject, body: object): Error {
  const path = error.instancePath.split('/').slice(1)
  const param = paramOf(error.keyword === 'required' ? [...path, String(error.params.missingProperty)] : path)
  const value = path.reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], body)
  switch (error.keyword) {
    case 'type':
      return badRequest(`Invalid type for '${param}': expected ${expected(String(error.params.type))}, but got ${kindOf(value)} instead.`, param, 'invalid_type')
    case 'minimum':
    case 'maximum':
      return badRequest(`Invalid '${param}': ${JSON.stringify(value)} is ${error.keyword === 'minimum' ? 'below the minimum' : 'above the maximum'} of ${String(error.params.limit)}.`, param, 'invalid_value')
    case 'enum':
      return badRequest(`Invalid value for '${param}': ${JSON.stringify(value)}. Supported values are: ${(error.params.allowedValues as unknown[]).map((v) => `'${String(v)}'`).join(', ')}.`, param, 'invalid_value')
    case 'required':
      return badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter')
    default:
      return badRequest(`Invalid '${param}': ${error.message ?? 'not accepted'}.`, param, 'invalid_value')
  }
}

/** ['messages', '0', 'role'] → messages[0].role, as OpenAI names a field. */
export function paramOf(path: readonly string[]): string {
  return path.reduce((out, key) => (/^\d+$/.test(key) ? `${out}[${key}]` : out ? `${out}.${key}` : key), '')
}

const ARTICLE: Record<string, string> = { integer: 'an integer', object: 'an object', array: 'an array' }

/** 'number,null' → 'a number or null'. */
function expected(types: string): string {
  return types.split(',').map((t) => (t === 'null' ? 'null' : ARTICLE[t] ?? `a ${t}`)).join(' or ')
}

/** How OpenAI names a value's kind in its refusals. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** What a text-or-tokens field (embeddings' `input`, completions' `prompt`) may be, beyond its kinds. */
export interface TextsOrTokensLimits {
  /** Fewest items of an array (embeddings: 1). */
  readonly minItems: number
  /** Most items of an array (embeddings: 2,048). */
  readonly maxItems?: number
  /** A text may not be empty (embeddings). */
  readonly nonEmptyText: boolean
}

const TEXTS_OR_TOKENS = 'a string, an array of strings, an array of integers or an array of arrays of integers'

/**
 * Throw a 400 naming the part of `value` that is not one of the four shapes OpenAI takes for a text
 * to embed or complete: a string, strings, integers (one tokenised text) or arrays of integers
 * (several), never mixed; an array within the limits. By hand, not in a schema: ajv's `oneOf` of
 * the four would name no part of the value, and the 400 must say which item is wrong.
 */
export function checkTextsOrTokens(value: unknown, param: string, limits: TextsOrTokensLimits): void {
  if (typeof value === 'string') return checkText(value, param, limits)
  if (!Array.isArray(value)) throw badRequest(`Invalid type for '${param}': expected ${TEXTS_OR_TOKENS}, but got ${kindOf(value)} instead.`, param, 'invalid_type')
  checkLength(value, param, limits.minItems, limits.maxItems)
  if (value.length === 0) return
  // The first item says which of the shapes the array is; every other item must be of its kind.
  const first: unknown = value[0]
  const kind = typeof first === 'string' ? 'string' : typeof first === 'number' ? 'integer' : Array.isArray(first) ? 'array' : undefined
  if (kind === undefined) throw badRequest(`Invalid type for '${param}[0]': expected a string, an integer or an array of integers, but got ${kindOf(first)} instead.`, `${param}[0]`, 'invalid_type')
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i]
    const at = `${param}[${i}]`
    if (kind === 'string' && typeof item === 'string') checkText(item, at, limits)
    else if (kind === 'integer' && Number.isInteger(item)) continue
    else if (kind === 'array' && Array.isArray(item)) checkTokens(item, at)
    else {
      const expectedKind = kind === 'array' ? 'an array of integers' : kind === 'integer' ? 'an integer' : 'a string'
      throw badRequest(`Invalid type for '${at}': expected ${expectedKind}${i === 0 ? '' : ` (as ${param}[0])`}, but got ${kindOf(item)} instead.`, at, 'invalid_type')
    }
  }
}

function checkText(text: string, param: string, limits: TextsOrTokensLimits): void {
  if (limits.nonEmptyText && text.length === 0) throw badRequest(`Invalid '${param}': empty string. Expected a string with minimum length 1, but got an empty string instead.`, param, 'empty_string')
}

/** One tokenised text: at least one token id, each an integer (JSON's 1e400 is Infinity, not one). */
function checkTokens(tokens: readonly unknown[], param: string): void {
  checkLength(tokens, param, 1)
  for (let i = 0; i < tokens.length; i++) {
    if (!Number.isInteger(tokens[i])) throw badRequest(`Invalid type for '${param}[${i}]': expected an integer, but got ${kindOf(tokens[i])} instead.`, `${param}[${i}]`, 'invalid_type')
  }
}

/** `array` holds from `minItems` to `maxItems` items, else a 400 naming `param` as OpenAI words it (`empty_array`, `array_above_max_length`). */
export function checkLength(array: readonly unknown[], param: string, minItems: number, maxItems?: number): void {
  if (array.length < minItems) throw badRequest(`Invalid '${param}': empty array. Expected an array with minimum length ${minItems}, but got an empty array instead.`, param, 'empty_array')
  if (maxItems !== undefined && array.length > maxItems) throw badRequest(`Invalid '${param}': array too long. Expected an array with maximum length ${maxItems}, but got an array with length ${array.length} instead.`, param, 'array_above_max_length')
}
