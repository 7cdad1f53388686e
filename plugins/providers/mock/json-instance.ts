/**
 * A value that conforms to a JSON Schema, for the mock's structured answers: with
 * `response_format: json_schema` the mock answers JSON its schema accepts, so a client's
 * `.parse()` (the openai SDK's, with a zod schema) works offline as it does against OpenAI.
 * It covers what structured outputs allow (objects, arrays, enums, consts, anyOf, $ref to
 * `$defs`/`definitions`); strings are the mock's reply text, numbers their minimum or 0.
 */

type Schema = Record<string, unknown>

const MAX_DEPTH = 16
const SHOWN_DEPTH = 4

/** Strings in the formats structured outputs allow, as zod checks them (`z.string().datetime()` is `date-time`). */
const FORMATTED: Readonly<Record<string, string>> = {
  'date-time': '2025-01-01T00:00:00Z', date: '2025-01-01', time: '00:00:00', duration: 'P1D',
  email: 'mock@example.com', hostname: 'example.com', ipv4: '192.0.2.1', ipv6: '2001:db8::1',
  uri: 'https://example.com/', uuid: '00000000-0000-4000-8000-000000000000',
}

/** A value `schema` accepts; `text` fills strings. */
export function instanceOf(schema: unknown, text: string): unknown {
  const root = isSchema(schema) ? schema : {}
  return build(root, root, text, 0)
}

function build(schema: Schema, root: Schema, text: string, depth: number): unknown {
  if (depth > MAX_DEPTH) return null
  if (typeof schema.$ref === 'string') return build(resolve(schema.$ref, root), root, text, depth + 1)
  if ('const' in schema) return schema.const
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0]
  const choice = (Array.isArray(schema.anyOf) && schema.anyOf[0]) || (Array.isArray(schema.oneOf) && schema.oneOf[0])
  if (isSchema(choice)) return build(choice, root, text, depth + 1)
  if (Array.isArray(schema.allOf) && schema.allOf.every(isSchema)) return build(Object.assign({}, ...schema.allOf), root, text, depth + 1)
  switch (typeOf(schema)) {
    case 'object': {
      const properties = isSchema(schema.properties) ? schema.properties : {}
      const out: Record<string, unknown> = {}
      for (const [name, property] of Object.entries(properties)) out[name] = build(isSchema(property) ? property : {}, root, text, depth + 1)
      return out
    }
    case 'array': {
      // One item shows the shape; deeper down, only as many as required, so a recursive schema ends.
      const least = typeof schema.minItems === 'number' ? schema.minItems : 0
      const count = depth < SHOWN_DEPTH ? Math.max(least, 1) : least
      return Array.from({ length: count }, () => build(isSchema(schema.items) ? schema.items : {}, root, text, depth + 1))
    }
    case 'string': return stringOf(schema, text)
    case 'integer': return typeof schema.minimum === 'number' ? Math.ceil(schema.minimum) : 0
    case 'number': return typeof schema.minimum === 'number' ? schema.minimum : 0
    case 'boolean': return false
    case 'null': return null
    default: return text
  }
}

/** The reply text, or a string of the schema's format, within its length bounds. */
function stringOf(schema: Schema, text: string): string {
  const value = (typeof schema.format === 'string' && FORMATTED[schema.format]) || text
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity
  return value.padEnd(min, '.').slice(0, max)
}

/** The schema's type, the first non-null one of a list; an object when it has properties. */
function typeOf(schema: Schema): string | undefined {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') ?? 'null' : schema.type
  if (typeof type === 'string') return type
  return isSchema(schema.properties) ? 'object' : undefined
}

/** A local reference (`#/$defs/Name`, `#/definitions/Name`, `#`). */
function resolve(ref: string, root: Schema): Schema {
  if (!ref.startsWith('#')) return {}
  let node: unknown = root
  for (const key of ref.slice(1).split('/').filter(Boolean)) node = isSchema(node) ? node[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined
  return isSchema(node) ? node : {}
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
