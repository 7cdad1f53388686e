/**
 * What `npm run build` (scripts/build.mjs) writes beside the compiled gateway, so a start does not
 * redo it: the built-ins' index (core/plugins/loader.ts reads it) and the built-in schemas'
 * validators as ajv standalone code (core/config/compiled-validators.ts reads them). Build
 * tooling, not the gateway's run time.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Options, ValidateFunction } from 'ajv/dist/2020.js'
import { VALIDATOR_OPTIONS, newAjv, validatorFileName, type Ajv, type AjvModules, type ValidatorUse } from '../core/config/compiled-validators.ts'
import { builtinModules, type BuiltinIndexEntry } from '../core/plugins/loader.ts'
import type { JsonSchema } from '../plugin-api/types.ts'

/** The index `npm run build` writes to `dir`/builtins.json: every built-in's summary and module. */
export async function builtinIndex(dir: string): Promise<BuiltinIndexEntry[]> {
  return (await builtinModules(dir)).flatMap(({ module, manifests }) => manifests.map((m) => ({
    summary: { id: m.id, kind: m.kind, description: m.description, configSchema: m.configSchema, enabledByDefault: m.enabledByDefault, provides: m.provides?.map((t) => t.description) },
    module,
  })))
}

/**
 * Write each schema's validator as ajv standalone code into `dir` (npm run build), under the name
 * `SchemaValidators` looks it up by. Returns the files written.
 */
export async function writeValidators(dir: string, schemas: readonly { schema: JsonSchema; use: ValidatorUse }[]): Promise<string[]> {
  const toCode = await standaloneCompiler()
  mkdirSync(dir, { recursive: true })
  const written = new Set<string>()
  for (const { schema, use } of schemas) {
    const name = validatorFileName(schema, use)
    if (written.has(name)) continue
    writeFileSync(path.join(dir, name), toCode(schema, VALIDATOR_OPTIONS[use]))
    written.add(name)
  }
  return [...written]
}

/**
 * For the build: a function that compiles a schema with the given ajv options (the gateway's
 * formats added) to ajv standalone code, a CommonJS module whose export is the validate function.
 * One Ajv per distinct options object.
 */
export async function standaloneCompiler(): Promise<(schema: JsonSchema, options: Options) => string> {
  // Imported, not required: a build into another folder resolves packages through an import hook (scripts/resolve-from-root.mjs).
  // (An import's default is the CommonJS module.exports, which is what require returns.)
  const modules = [(await import('ajv/dist/2020.js')).default, (await import('ajv-formats')).default] as unknown as AjvModules
  const standalone = await import('ajv/dist/standalone/index.js')
  // CommonJS again: the function is module.exports, and module.exports.default.
  const standaloneCode = (standalone as unknown as { default: (ajv: Ajv, validate: ValidateFunction) => string }).default
  const ajvs = new Map<Options, Ajv>()
  return (schema, options) => {
    let ajv = ajvs.get(options)
    if (!ajv) ajvs.set(options, (ajv = newAjv({ ...options, code: { source: true } }, modules)))
    return standaloneCode(ajv, ajv.compile(schema))
  }
}
