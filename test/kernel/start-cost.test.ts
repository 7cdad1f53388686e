/**
 * What a compiled start skips: the built-in plugins are known by their summaries (id, kind, schema)
 * and only those a config uses are imported; the built-in schemas are validated by code written at
 * build time instead of being compiled by ajv. Both must answer exactly as the slow way does.
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, formatIssue, loadConfig } from '../../core/config/index.ts'
import { SchemaValidators } from '../../core/config/compiled-validators.ts'
import { builtinIndex, standaloneCompiler, writeValidators } from '../../cli/build-artifacts.ts'
import { newAjv } from '../../core/config/validate.ts'
import { COMPLETION_REQUEST, EMBEDDING_REQUEST, REQUEST_CHECK_AJV_OPTIONS, REQUEST_SCHEMAS } from '../../plugins/contracts/openai-requests.ts'
import { CHAT_REQUEST } from '../../plugins/contracts/chat-request.ts'
import { CORE_SCHEMA } from '../../core/config/validate.ts'
import { BUILTIN_PLUGIN_DIR, builtinRegistry, indexedBuiltins } from '../../core/plugins/loader.ts'
import type { PluginRegistry } from '../../core/plugins/registry.ts'
import { mergedSchema } from '../../cli/schema.ts'
import type { JsonSchema } from '../../plugin-api/types.ts'

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gw-start-cost-'))
// As `npm run build` writes it: through JSON.
const index = async () => JSON.parse(JSON.stringify(await builtinIndex(BUILTIN_PLUGIN_DIR))) as Awaited<ReturnType<typeof builtinIndex>>

const GOOD = `version: 1
providers:
  up: { plugin: openai, api_key: sk-test, base_url: "http://127.0.0.1:9/v1" }
routes:
  - model: m
    targets: [ { provider: up, model: x } ]
cache: { plugin: memory }
`
const BAD = [
  'version: 1\nserver: { bodylimit: 1mb }\n',
  'version: 1\nserver: { port: eighty }\nlogging: { level: loud }\n',
  GOOD.replace('api_key: sk-test, ', ''),
  GOOD.replace('api_key: sk-test', 'api_key: sk-test, organisation: acme'),
  GOOD.replace('base_url: "http://127.0.0.1:9/v1"', 'base_url: 12'),
  GOOD.replace('plugin: memory', 'plugin: memory, max_entries: -1'),
]

async function outcome(text: string, registry: PluginRegistry): Promise<unknown> {
  try {
    const { loaded } = await loadConfig({ text, label: 'gw.yaml', dir: tmp }, registry, {})
    return loaded.config
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatIssue)
    throw err
  }
}

describe('built-in plugins known by summary', () => {
  it('imports a plugin module only when a config uses one of its plugins', async () => {
    // Two plugins whose modules say when they are evaluated.
    const dir = path.join(tmp, 'plugins')
    const loaded: string[] = []
    ;(globalThis as { startCostLoaded?: string[] }).startCostLoaded = loaded
    for (const name of ['alpha', 'beta']) {
      mkdirSync(path.join(dir, 'providers', name), { recursive: true })
      writeFileSync(path.join(dir, 'providers', name, 'index.js'), `globalThis.startCostLoaded.push('${name}')
export default { id: 'provider.${name}', kind: 'provider', configSchema: { type: 'object' }, setup: () => ({}) }\n`)
    }
    const summary = (name: string) => ({ summary: { id: `provider.${name}`, kind: 'provider' as const, configSchema: { type: 'object' } }, module: `providers/${name}/index.js` })
    const registry = indexedBuiltins(dir, [summary('alpha'), summary('beta')])
    expect(registry.names('provider')).toEqual(['alpha', 'beta'])
    expect(() => registry.get('provider', 'alpha')!.manifest).toThrow(/not loaded/)
    await registry.load([{ kind: 'provider', plugin: 'alpha' }, { kind: 'provider', plugin: 'nope' }])
    expect(loaded).toEqual(['alpha'])
    expect(registry.get('provider', 'alpha')!.manifest.setup).toBeTypeOf('function')
    expect(registry.get('provider', 'beta')!.loaded).toBe(false)
    // A registry extended for a config's third-party plugins shares what is loaded.
    await registry.extend().load([{ kind: 'provider', plugin: 'alpha' }])
    expect(loaded).toEqual(['alpha'])
  })

  it('the index summarises every built-in as its manifest does', async () => {
    const scanned = await builtinRegistry()
    const indexed = indexedBuiltins(BUILTIN_PLUGIN_DIR, await index())
    expect(indexed.all().map((p) => p.summary.id).sort()).toEqual(scanned.all().map((p) => p.summary.id).sort())
    for (const p of scanned.all()) {
      const { id, kind, description, configSchema, enabledByDefault } = p.manifest
      const { provides, ...summary } = indexed.get(kind, id.slice(kind.length + 1))!.summary
      expect(summary).toEqual(JSON.parse(JSON.stringify({ id, kind, description, configSchema, enabledByDefault })))
      // The capabilities it provides, keyed as the manifest's tokens are (validation names a missing one's provider by them).
      expect(provides?.map((t) => t.key)).toEqual(p.manifest.provides?.map((t) => t.key))
    }
    expect(indexed.enabledByDefault()).toEqual(scanned.enabledByDefault())
  })

  it('gives `gateway schema` the same editor schema without importing a plugin', async () => {
    const indexed = indexedBuiltins(BUILTIN_PLUGIN_DIR, await index())
    expect(mergedSchema(indexed)).toEqual(mergedSchema(await builtinRegistry()))
    expect(indexed.all().filter((p) => p.loaded)).toEqual([])
  })

  it('loads a config to the same result, and refuses a bad one with the same issues, loading only what it uses', async () => {
    const scanned = await builtinRegistry()
    const indexed = indexedBuiltins(BUILTIN_PLUGIN_DIR, await index())
    expect(await outcome(GOOD, indexed)).toEqual(await outcome(GOOD, scanned))
    for (const text of BAD) {
      const issues = await outcome(text, indexed)
      expect(issues, text).toBeInstanceOf(Array)
      expect(issues).toEqual(await outcome(text, scanned))
    }
    const used = indexed.all().filter((p) => p.loaded).map((p) => p.summary.id)
    expect(used).toContain('provider.openai')
    expect(used).toContain('cache.memory')
    expect(used).not.toContain('provider.anthropic')
    expect(used).not.toContain('auth.jwt')
    expect(used.length).toBeLessThan(indexed.all().length / 2)
  })
})

describe('validators written at build time', () => {
  const samples: { schema: JsonSchema; use: 'core' | 'plugin'; values: unknown[] }[] = [
    { schema: CORE_SCHEMA, use: 'core', values: [{ version: 1 }, { version: 1, server: { bodylimit: '1mb', port: 'x' } }, { version: 2, routes: [{ model: 1 }] }, []] },
  ]

  it('answer as ajv compiled at run time does: same errors, same defaults, without compiling', async () => {
    const plugins = (await index()).map((p) => p.summary.configSchema)
    const dir = path.join(tmp, 'validators')
    await writeValidators(dir, [{ schema: CORE_SCHEMA, use: 'core' }, ...plugins.map((schema) => ({ schema, use: 'plugin' as const }))])
    expect(readdirSync(dir).length).toBeGreaterThan(10)
    const built = new SchemaValidators(dir)
    const compiled = new SchemaValidators(path.join(tmp, 'none'))
    const cases = [
      ...samples,
      ...plugins.map((schema) => ({ schema, use: 'plugin' as const, values: [{}, { api_key: 'k', unknown_key: 1 }, { base_url: 7, api_key: 3 }, { max_entries: 'x' }] })),
    ]
    for (const { schema, use, values } of cases) {
      for (const value of values) {
        const [a, b] = [structuredClone(value), structuredClone(value)]
        const [fast, slow] = [built.get(schema, use), compiled.get(schema, use)]
        expect(fast(a)).toBe(slow(b))
        expect(fast.errors ?? null).toEqual(slow.errors ?? null)
        expect(a).toEqual(b) // defaults filled in alike
      }
    }
    expect(built.compiledAtRunTime).toBe(0)
    // One compile per distinct schema (plugins without settings share one).
    expect(compiled.compiledAtRunTime).toBe(new Set(cases.map((c) => JSON.stringify([c.use, c.schema]))).size)
  })

  it("the OpenAI surface's request checks built beside their module answer as the run-time compile (scripts/build.mjs)", async () => {
    const bodies: Record<string, object[]> = {
      [CHAT_REQUEST.validator]: [
        { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
        { model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' },
        { model: 'm', messages: [{ role: 'robot' }], max_tokens: 0 },
        { model: 'm', messages: [{ content: 'no role' }], logit_bias: { '1': 101 } },
        { model: 7, stream: 'yes', tools: [{}] },
        { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 5 }] }], tools: [{ type: 'function', function: {} }] },
        // JSON's 1e400: strictNumbers is in the built code too.
        { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: Infinity },
      ],
      [COMPLETION_REQUEST.validator]: [{ model: 'm', prompt: 'x', max_tokens: 0 }, { model: 'm', prompt: 'x', max_tokens: -5 }, { model: 'm', prompt: 'x', best_of: 21, n: 0 }],
      [EMBEDDING_REQUEST.validator]: [{ model: 'm', input: 'x', dimensions: 3 }, { model: 'm', input: 'x', dimensions: -1 }, { model: 'm', input: 'x', encoding_format: 'hex' }, { model: 'm', input: 'x', dimensions: Infinity }],
    }
    const toCode = await standaloneCompiler()
    expect(REQUEST_SCHEMAS.map((r) => r.validator).sort()).toEqual(Object.keys(bodies).sort())
    for (const { schema, validator } of REQUEST_SCHEMAS) {
      const file = path.join(tmp, validator)
      writeFileSync(file, toCode(schema as JsonSchema, REQUEST_CHECK_AJV_OPTIONS))
      const built = createRequire(import.meta.url)(file) as ReturnType<ReturnType<typeof newAjv>['compile']>
      const compiled = newAjv(REQUEST_CHECK_AJV_OPTIONS).compile(schema)
      for (const body of bodies[validator]!) {
        expect(built(body)).toBe(compiled(body))
        expect(built.errors ?? null).toEqual(compiled.errors ?? null)
      }
      expect(bodies[validator]!.filter((b) => !built(b)), validator).toHaveLength(bodies[validator]!.length - 1)
    }
  })

  it('an edited schema never meets the code built for the old one', async () => {
    const dir = path.join(tmp, 'validators-edit')
    const schema = { type: 'object', properties: { size: { type: 'integer' } }, additionalProperties: false }
    await writeValidators(dir, [{ schema, use: 'plugin' }])
    const validators = new SchemaValidators(dir)
    expect(validators.get(schema, 'plugin')({ size: 1, colour: 'red' })).toBe(false)
    const edited = { ...schema, properties: { ...schema.properties, colour: { type: 'string' } } }
    expect(validators.get(edited, 'plugin')({ size: 1, colour: 'red' })).toBe(true)
    expect(validators.compiledAtRunTime).toBe(1)
  })
})
