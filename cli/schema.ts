/**
 * `gateway schema`: the full JSON Schema of gateway.yaml, the core schema with each plugin slot
 * narrowed to the registered plugins of its kind and their own config keys, so editors complete
 * and check the file.
 */
import { CORE_SCHEMA } from '../core/config/validate.ts'
import { SLOT_SHAPES } from '../core/config/slots.ts'
import type { PluginRegistry } from '../core/plugins/registry.ts'
import type { JsonSchema, PluginKind } from '../core/plugins/types.ts'

export function mergedSchema(registry: PluginRegistry): JsonSchema {
  const schema = structuredClone(CORE_SCHEMA) as JsonSchema & { $defs: Record<string, JsonSchema>; properties: Record<string, JsonSchema> }
  const kindDef = (kind: PluginKind, named: boolean): string => {
    const id = `${kind}Plugin`
    const names = registry.names(kind)
    schema.$defs[id] = {
      type: 'object',
      ...(named ? {} : { required: ['plugin'] }),
      properties: { plugin: { enum: names } },
      allOf: names.map((name) => {
        const manifest = registry.get(kind, name)!.manifest
        const own = manifest.configSchema as JsonSchema & { properties?: JsonSchema }
        return {
          if: { properties: { plugin: { const: name } } },
          then: { ...own, properties: { plugin: { const: name }, ...(own.properties ?? {}) } },
        }
      }),
    }
    return `#/$defs/${id}`
  }
  for (const { kind, at, shape } of SLOT_SHAPES) {
    const ref = { $ref: kindDef(kind, shape === 'named-map') }
    let node: JsonSchema = schema
    for (const key of at.slice(0, -1)) node = (node.properties as Record<string, JsonSchema>)[key]
    const props = node.properties as Record<string, JsonSchema>
    const leaf = at[at.length - 1]
    if (shape === 'one') props[leaf] = ref
    else if (shape === 'list') props[leaf] = { ...props[leaf], items: ref }
    else props[leaf] = { ...props[leaf], additionalProperties: ref }
  }
  return schema
}
