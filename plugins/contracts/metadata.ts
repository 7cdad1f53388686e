/** OpenAI's `metadata` on what it keeps (chat requests, batches, fine-tuning jobs, responses, stored chat completions): its schema and its list filter. */

import { badRequest } from '../../plugin-api/index.ts'

const MAX_PAIRS = 16
const MAX_KEY = 64
const MAX_VALUE = 512

/** OpenAI's metadata: up to 16 pairs, keys up to 64 characters, values strings up to 512. */
export const METADATA_SCHEMA = { type: ['object', 'null'], maxProperties: MAX_PAIRS, propertyNames: { maxLength: MAX_KEY }, additionalProperties: { type: 'string', maxLength: MAX_VALUE } }

/**
 * OpenAI's metadata filter on a list: `metadata[key]=value` query parameters (as the SDK writes
 * `list({ metadata })`); undefined when there are none.
 */
export function metadataFilter(query: Record<string, unknown>): Record<string, string> | undefined {
  const pairs = Object.entries(query).flatMap(([name, value]) => {
    const key = /^metadata\[(.+)\]$/.exec(name)?.[1]
    return key === undefined ? [] : [[key, String(value)] as const]
  })
  return pairs.length ? Object.fromEntries(pairs) : undefined
}

/**
 * A chat request's `metadata` (an object or null, as its schema already says) held to OpenAI's
 * limits: a 400 naming `metadata` or `metadata.<key>`. By hand, not in the chat schema: ajv's
 * maxLength makes its build-time validator require a module of ajv's at run time.
 */
export function checkMetadata(metadata: unknown): void {
  if (metadata === null || typeof metadata !== 'object') return
  const pairs = Object.entries(metadata)
  if (pairs.length > MAX_PAIRS) throw badRequest(`Invalid 'metadata': too many pairs (${pairs.length}); at most ${MAX_PAIRS}.`, 'metadata', 'invalid_value')
  for (const [key, value] of pairs) {
    if ([...key].length > MAX_KEY) throw badRequest(`Invalid 'metadata': the key '${key.slice(0, 20)}...' is longer than ${MAX_KEY} characters.`, 'metadata', 'invalid_value')
    if (typeof value !== 'string') throw badRequest(`Invalid type for 'metadata.${key}': expected a string, but got ${value === null ? 'null' : typeof value} instead.`, `metadata.${key}`, 'invalid_type')
    if ([...value].length > MAX_VALUE) throw badRequest(`Invalid 'metadata.${key}': longer than ${MAX_VALUE} characters.`, `metadata.${key}`, 'invalid_value')
  }
}
