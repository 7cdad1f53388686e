/**
 * The checks a chat request passes before it is routed: the types and ranges of its common fields,
 * as OpenAI's API reference gives them (CreateChatCompletionRequest in OpenAI's OpenAPI document).
 * A wrong-typed field is refused with a 400 that names it (`param`), as OpenAI does, instead of
 * reaching a provider that may read it another way (`stream: "yes"` made an upstream stream while
 * the gateway waited for a JSON answer). Fields not listed here, and any extra field a provider
 * understands, pass through unchecked, as before.
 *
 * Written by hand rather than extracted from OpenAI's schema: that one describes every message and
 * content-part shape OpenAI accepts, which would refuse what other providers (and their
 * OpenAI-compatible servers) take; here only what every provider shares is checked.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type Ajv2020Module from 'ajv/dist/2020.js'
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'
import { badRequest } from '../../plugin-api/index.ts'

const number = (minimum: number, maximum: number) => ({ type: ['number', 'null'], minimum, maximum })
const integer = (minimum?: number, maximum?: number) => ({ type: ['integer', 'null'], ...(minimum === undefined ? {} : { minimum }), ...(maximum === undefined ? {} : { maximum }) })
const nullable = (type: string) => ({ type: [type, 'null'] })

export const CHAT_REQUEST_SCHEMA = {
  type: 'object',
  properties: {
    model: { type: 'string' },
    messages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
          content: {
            type: ['string', 'array', 'null'],
            items: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
          },
          name: { type: 'string' },
          tool_calls: { type: 'array', items: { type: 'object' } },
          tool_call_id: { type: 'string' },
        },
      },
    },
    stream: nullable('boolean'),
    stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' }, include_obfuscation: { type: 'boolean' } } },
    n: integer(1, 128),
    temperature: number(0, 2),
    top_p: number(0, 1),
    // The reference types these as integers; below 1 no answer can be given.
    max_tokens: integer(1),
    max_completion_tokens: integer(1),
    presence_penalty: number(-2, 2),
    frequency_penalty: number(-2, 2),
    logprobs: nullable('boolean'),
    top_logprobs: integer(0, 20),
    seed: integer(),
    // OpenAI takes at most 4 stop sequences; other providers take more, so the count is theirs to check.
    stop: { type: ['string', 'array', 'null'], items: { type: 'string' } },
    logit_bias: { type: ['object', 'null'], additionalProperties: { type: 'number', minimum: -100, maximum: 100 } },
    tools: { type: 'array', items: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } } },
    tool_choice: { type: ['string', 'object'] },
    parallel_tool_calls: nullable('boolean'),
    response_format: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
    user: { type: 'string' },
    metadata: nullable('object'),
    store: nullable('boolean'),
    service_tier: nullable('string'),
    reasoning_effort: nullable('string'),
    modalities: { type: ['array', 'null'], items: { type: 'string' } },
    prompt_cache_key: nullable('string'),
    safety_identifier: nullable('string'),
  },
} as const

/**
 * How the check is compiled: the first error only (the 400 names one field); the schema is this
 * module's constant, so it is not checked against the meta-schema. strictNumbers: `max_tokens:
 * 1e400` parses as Infinity, which `integer` takes otherwise (it slipped past token limits, and
 * went upstream as null: no cap at all).
 */
export const CHAT_REQUEST_AJV_OPTIONS = { strict: false, allErrors: false, validateSchema: false, verbose: false, strictNumbers: true } as const
/** `npm run build` writes the compiled check (ajv standalone code) beside this module under this name (scripts/build.mjs). */
export const CHAT_REQUEST_VALIDATOR = 'chat-request.validator.cjs'

// Loaded on the first chat request, not at start. From the build it is the file above (a few ms);
// from the sources it is compiled then: ajv (~90 modules, CommonJS so required in step) and the
// compile cost that first request ~200 ms of CPU.
let validate: ValidateFunction | undefined
function load(): ValidateFunction {
  const require = createRequire(import.meta.url)
  const built = fileURLToPath(new URL(CHAT_REQUEST_VALIDATOR, import.meta.url))
  if (existsSync(built)) return require(built) as ValidateFunction
  const Ajv2020 = (require('ajv/dist/2020.js') as typeof Ajv2020Module).default
  return new Ajv2020(CHAT_REQUEST_AJV_OPTIONS).compile(CHAT_REQUEST_SCHEMA)
}

/** Throw a 400 naming the first field of `body` (a parsed JSON object) whose type or value is wrong. */
export function checkChatRequest(body: object): void {
  validate ??= load()
  if (validate(body)) return
  throw refusal(validate.errors![0], body)
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
function paramOf(path: readonly string[]): string {
  return path.reduce((out, key) => (/^\d+$/.test(key) ? `${out}[${key}]` : out ? `${out}.${key}` : key), '')
}

const ARTICLE: Record<string, string> = { integer: 'an integer', object: 'an object', array: 'an array' }

/** 'number,null' → 'a number or null'. */
function expected(types: string): string {
  return types.split(',').map((t) => (t === 'null' ? 'null' : ARTICLE[t] ?? `a ${t}`)).join(' or ')
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
