/**
 * JSON Schema validators without compiling at every start. ajv turns a schema into JavaScript, which costs ~0.9 s for the gateway's own
 * schema (and ~0.2 s more for the 2020 meta-schema in each new Ajv): `npm run build` writes that JavaScript for the built-in schemas to
 * dist/validators/<hash>.cjs (ajv standalone code), and a start evaluates the file (~40 ms). The hash covers the schema and the ajv options,
 * so an edited schema never meets stale code: a schema without a file (a third-party plugin's, or any when the TypeScript sources run) is
 * compiled at run time, by one Ajv per option set made on first need.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type Ajv2020Module from 'ajv/dist/2020.js'
import type { Options, ValidateFunction } from 'ajv/dist/2020.js'
import type addFormatsModule from 'ajv-formats'
import type { JsonSchema } from '../../plugin-api/types.ts'

export type Ajv = InstanceType<typeof Ajv2020Module.default>

/** `core`: the gateway's schema as written. `plugin`: a plugin block or a route's JSON body, the schema's defaults filled in. `text`: a route's query or path, defaults filled in and its strings coerced to the types the schema says. */
export type ValidatorUse = 'core' | 'plugin' | 'text'
// strictNumbers: YAML's .inf and JSON's 1e400 would pass `integer` and `minimum`.
export const VALIDATOR_OPTIONS: Readonly<Record<ValidatorUse, Options>> = {
  core: { allErrors: true, strict: false, verbose: true, strictNumbers: true },
  plugin: { allErrors: true, strict: false, verbose: true, useDefaults: true, strictNumbers: true },
  text: { allErrors: true, strict: false, verbose: true, useDefaults: true, coerceTypes: 'array', strictNumbers: true },
}

// ajv itself (~90 modules) is required only when something is compiled: built validators need
// only its small runtime helpers. ajv and ajv-formats are CommonJS, so this can stay synchronous.
const require = createRequire(import.meta.url)

export type AjvModules = [typeof Ajv2020Module, typeof addFormatsModule]

/** An ajv for the gateway's schemas (every error, formats, `verbose` for the messages). */
export function newAjv(options: Options = {}, [ajvModule, formatsModule]: AjvModules = [require('ajv/dist/2020.js'), require('ajv-formats')] as AjvModules): Ajv {
  const ajv = new ajvModule.default({ ...VALIDATOR_OPTIONS.core, ...options })
  formatsModule.default(ajv)
  return ajv
}

/** Where `npm run build` puts the validators: dist/validators, beside dist/core. From the sources it does not exist. */
export const BUILT_VALIDATORS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../validators')

/** The file a schema's built validator is in (cli/build-artifacts.ts writes it). */
export const validatorFileName = (schema: JsonSchema, use: ValidatorUse): string =>
  `${createHash('sha256').update(JSON.stringify([VALIDATOR_OPTIONS[use], schema])).digest('hex').slice(0, 32)}.cjs`

/** Validators by schema content: built ones read from `dir`, the rest compiled on first use. */
export class SchemaValidators {
  readonly #dir: string
  readonly #byKey = new Map<string, ValidateFunction>()
  // Schemas are mostly constants asked for again at every reload: the same object skips the hash.
  readonly #bySchema: Record<ValidatorUse, WeakMap<JsonSchema, ValidateFunction>> = { core: new WeakMap(), plugin: new WeakMap(), text: new WeakMap() }
  readonly #ajv: Partial<Record<ValidatorUse, Ajv>> = {}
  /** Schemas compiled at run time (none for built-in schemas in a build): what tests and the start figures watch. */
  compiledAtRunTime = 0

  constructor(dir: string = BUILT_VALIDATORS_DIR) {
    this.#dir = dir
  }

  get(schema: JsonSchema, use: ValidatorUse): ValidateFunction {
    let validate = this.#bySchema[use].get(schema)
    if (validate) return validate
    const name = validatorFileName(schema, use)
    validate = this.#byKey.get(name) ?? this.#built(name) ?? this.#compile(schema, use)
    this.#byKey.set(name, validate)
    this.#bySchema[use].set(schema, validate)
    return validate
  }

  #built(name: string): ValidateFunction | undefined {
    const file = path.join(this.#dir, name)
    if (!existsSync(file)) return undefined
    // Evaluated with the gateway's own require: the code requires ajv's runtime and ajv-formats.
    const module = { exports: {} as ValidateFunction }
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- ajv's own compile does the same with the code it generates
    new Function('require', 'module', 'exports', readFileSync(file, 'utf8'))(require, module, module.exports)
    return module.exports
  }

  #compile(schema: JsonSchema, use: ValidatorUse): ValidateFunction {
    this.compiledAtRunTime++
    this.#ajv[use] ??= newAjv(VALIDATOR_OPTIONS[use])
    return this.#ajv[use].compile(schema)
  }
}
