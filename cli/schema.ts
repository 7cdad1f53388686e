/**
 * `gateway schema`: the full JSON Schema of gateway.yaml, the core schema with each plugin slot
 * narrowed to the registered plugins of its kind and their own config keys, so editors complete
 * and check the file.
 */
import { CORE_SCHEMA } from '../core/config/validate.ts'
import { SLOT_SHAPES } from '../core/config/slots.ts'
import type { PluginRegistry } from '../core/plugins/registry.ts'
import type { JsonSchema, PluginKind } from '../plugin-api/types.ts'

/** Keys of a plugin block the kernel reads itself (core/config/slots.ts), beside the plugin's own. */
const KERNEL_KEYS: Record<string, JsonSchema> = {
  optional: { type: 'boolean', description: 'Leave this block out (instead of refusing the config) when a variable it uses is not set.' },
  enabled: { type: 'boolean', description: 'false turns this plugin off.' },
  routes: { type: 'array', items: { type: 'string' }, description: 'The routes (globs) a stage applies to.' },
  priority: { type: 'integer', description: "A stage's place in its phase, over its plugin's own." },
}

export function mergedSchema(registry: PluginRegistry): JsonSchema {
  const schema = structuredClone(CORE_SCHEMA) as JsonSchema & { $defs: Record<string, JsonSchema>; properties: Record<string, JsonSchema> }
  const kindDef = (kind: PluginKind, named: boolean): string => {
    const id = `${kind}Plugin`
    const names = registry.names(kind)
    // A kind with no plugin installed: no block is valid (and the schema stays valid: no `enum: []`, no `allOf: []`).
    if (names.length === 0) {
      schema.$defs[id] = { not: {}, description: `No ${kind} plugin is installed.` }
      return `#/$defs/${id}`
    }
    schema.$defs[id] = {
      type: 'object',
      ...(named ? {} : { required: ['plugin'] }),
      properties: { plugin: { enum: names } },
      allOf: names.map((name) => {
        const own = registry.get(kind, name)!.summary.configSchema as JsonSchema & { properties?: JsonSchema }
        schema.$defs[blockDef(kind, name)] = { ...own, properties: { plugin: { const: name }, ...KERNEL_KEYS, ...(own.properties ?? {}) } }
        // `required`: without it a block that names no plugin would match every plugin's `if`.
        return { if: { required: ['plugin'], properties: { plugin: { const: name } } }, then: { $ref: `#/$defs/${blockDef(kind, name)}` } }
      }),
    }
    return `#/$defs/${id}`
  }
  const blockDef = (kind: PluginKind, name: string): string => `${kind}Plugin.${name}`
  /** A named map's key is the plugin when the block names none (`services: { rag: {...} }`). */
  const byKey = (kind: PluginKind): Record<string, JsonSchema> => Object.fromEntries(registry.names(kind).map((name) => [name, {
    allOf: [{ $ref: `#/$defs/${kind}Plugin` }, { if: { not: { required: ['plugin'] } }, then: { $ref: `#/$defs/${blockDef(kind, name)}` } }],
  }]))
  for (const { kind, at, shape } of SLOT_SHAPES) {
    const ref = { $ref: kindDef(kind, shape === 'named-map') }
    let node: JsonSchema = schema
    for (const key of at.slice(0, -1)) node = (node.properties as Record<string, JsonSchema>)[key]
    const props = node.properties as Record<string, JsonSchema>
    const leaf = at[at.length - 1]
    // One plugin, or alternatives: the first whose variables are all set is used (core/config/load.ts).
    if (shape === 'one') props[leaf] = { anyOf: [ref, { type: 'array', minItems: 1, items: ref, description: 'Alternatives: the first whose ${VAR}s are all set is used.' }] }
    else if (shape === 'list') props[leaf] = { ...props[leaf], items: ref }
    else props[leaf] = { ...props[leaf], properties: { ...(props[leaf].properties as Record<string, JsonSchema> | undefined), ...byKey(kind) }, additionalProperties: ref }
  }
  // A built-in's own top-level block (`usage:`, `pricing:`, `cors:`), which the core schema leaves open: its plugin's schema.
  for (const { enabledByDefault: slot, configSchema } of registry.enabledByDefault()) {
    const at = typeof slot === 'object' && !slot.omit && !slot.include ? slot.at : undefined
    const own = at?.length === 1 ? configSchema : undefined
    const leaf = own && schema.properties[at![0]]
    if (leaf && !leaf.properties && !leaf.additionalProperties) schema.properties[at![0]] = { description: leaf.description, ...own }
  }
  schema.$defs.envReference = {
    type: 'string',
    pattern: ENV_REFERENCE,
    description: 'A value read from the environment when the config is loaded: ${VAR} or ${VAR:-default}.',
  }
  return acceptEnvReferences(schema) as JsonSchema
}

/** A whole value that is one `${VAR}` or `${VAR:-default}`. */
const ENV_REFERENCE = '^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\\}$'

/** Keywords whose value is a schema, and those whose value is a list or a map of schemas. */
const SUBSCHEMA = ['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames']
const SUBSCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems']
const SUBSCHEMA_MAPS = ['properties', '$defs', 'patternProperties']

/**
 * The config is checked after `${VAR}` is read, but an editor checks the file as written: wherever
 * a value is a number, a boolean, one of a list, or a string with a length, pattern or format, `${VAR}` is accepted too
 * (`port: ${PORT:-8080}`). The gateway's own validation uses the schema without this.
 */
function acceptEnvReferences(node: unknown, key?: string): unknown {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return node
  const schema: Record<string, unknown> = { ...(node as Record<string, unknown>) }
  for (const k of SUBSCHEMA) if (k in schema) schema[k] = acceptEnvReferences(schema[k])
  for (const k of SUBSCHEMA_LISTS) if (Array.isArray(schema[k])) schema[k] = (schema[k] as unknown[]).map((s) => acceptEnvReferences(s))
  for (const k of SUBSCHEMA_MAPS) {
    if (typeof schema[k] === 'object' && schema[k] !== null) {
      schema[k] = Object.fromEntries(Object.entries(schema[k] as Record<string, unknown>).map(([name, s]) => [name, k === '$defs' && name === 'envReference' ? s : acceptEnvReferences(s, name)]))
    }
  }
  const types = ([] as unknown[]).concat(schema.type ?? [])
  // A string whose length, pattern or format is checked (an API key's minLength 16 refused `${ADMIN_KEY}`), or a choice (`level: ${LOG_LEVEL:-info}`).
  const checkedString = types.includes('string') && ('pattern' in schema || 'format' in schema || 'maxLength' in schema || Number(schema.minLength ?? 0) > 1)
  const typed = types.some((t) => t === 'integer' || t === 'number' || t === 'boolean') || checkedString || 'enum' in schema
  if (!typed || key === 'plugin') return schema
  const { description, default: fallback, ...rest } = schema
  return { ...(description === undefined ? {} : { description }), ...(fallback === undefined ? {} : { default: fallback }), anyOf: [rest, { $ref: '#/$defs/envReference' }] }
}
