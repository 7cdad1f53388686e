/** OpenAI's `metadata` on what it keeps (chat requests, batches, fine-tuning jobs, responses, stored chat completions): its schema and its list filter. */

/** OpenAI's metadata: up to 16 pairs, keys up to 64 characters, values strings up to 512. */
export const METADATA_SCHEMA = { type: ['object', 'null'], maxProperties: 16, propertyNames: { maxLength: 64 }, additionalProperties: { type: 'string', maxLength: 512 } }

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
