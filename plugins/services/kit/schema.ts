/**
 * Small builders for the JSON Schemas a route declares (its body, and above all the `data` it
 * answers, which the OpenAPI document and the console's generated types are made from). Answers
 * are closed objects (`additionalProperties: false`), so a field a view adds without its schema
 * fails the documented-answer tests instead of reaching clients undocumented. Services import it
 * as `ai-gateway/schema`; the kernel never uses it.
 */
import type { JsonSchema } from '../../../plugin-api/index.ts'

export const TIME_SCHEMA: JsonSchema = { type: 'string', format: 'date-time' }
export const NULLABLE_TIME_SCHEMA: JsonSchema = { type: ['string', 'null'], format: 'date-time' }
export const NULLABLE_STRING_SCHEMA: JsonSchema = { type: ['string', 'null'] }

/** A closed object; `required` lists the fields always present. */
export function objectSchema(properties: Record<string, JsonSchema>, required: readonly string[] = []): JsonSchema {
  return { type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) }
}

/** A closed object whose fields are all present except those named `optional`. */
export function recordSchema(properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  return objectSchema(properties, Object.keys(properties).filter((k) => !optional.includes(k)))
}

/** The body of a POST that takes nothing: `{}`, or no body at all. */
export const EMPTY_BODY_SCHEMA: JsonSchema = { type: 'object', additionalProperties: false, properties: {}, description: 'Nothing: an empty object, or no body.' }

/** A list of `items`. */
export const listOf = (items: JsonSchema): JsonSchema => ({ type: 'array', items })

/** `schema`, or null. */
export const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] })
