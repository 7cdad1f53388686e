#!/usr/bin/env node
/**
 * `npm run build`: compile the gateway to dist/ with tsc (tsconfig.build.json), with the published
 * plugin API's declarations (tsconfig.types.json), and put beside it
 * what the compiled modules read at run time, at the same relative places as in the sources:
 * SQL migrations, Lua scripts and worker entries next to their modules, schemas/ and config/ at
 * dist/'s top, and console/dist as a link to the web console's build. bin/gateway.js runs dist/
 * while the sources are as they were built (scripts/compiled.mjs), so no TypeScript loader runs.
 */
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire, register } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { sourceManifest } from './compiled.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
// --out DIR: build elsewhere (the packaging test builds a clean copy of the image's layout).
const outAt = process.argv.indexOf('--out')
const dist = outAt > 0 ? path.resolve(process.argv[outAt + 1]) : path.join(root, 'dist')
const started = Date.now()
// The sources as compiled (scripts/compiled.mjs): taken first, so an edit during the build makes dist/ stale.
const sources = sourceManifest(root)

// --types (`npm run build:types`): the declarations alone, for a plugin checked against a checkout.
const typesOnly = process.argv.includes('--types')
if (!typesOnly) rmSync(dist, { recursive: true, force: true })
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
// The modules, and beside them the published API's declarations (tsconfig.types.json; package.json's
// `types` conditions name them): two programs, run at once.
const compile = (config) => new Promise((done) => spawn(process.execPath, [tsc, '-p', path.join(root, config), '--outDir', dist], { stdio: 'inherit' }).on('close', done))
const codes = await Promise.all([...(typesOnly ? [] : ['tsconfig.build.json']), 'tsconfig.types.json'].map(compile))
if (codes.some((code) => code !== 0)) process.exit(codes.find((code) => code !== 0) ?? 1)
if (typesOnly) {
  console.error(`declared the plugin API in ${path.relative(root, dist) || dist} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  process.exit(0)
}

// Run-time files that are not TypeScript, beside the compiled modules that read them.
const ASSET = /\.(sql|lua|mjs|json)$/
function copyAssets(dir) {
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name)
    if (entry.isDirectory()) copyAssets(rel)
    else if (ASSET.test(entry.name)) {
      mkdirSync(path.join(dist, dir), { recursive: true })
      cpSync(path.join(root, rel), path.join(dist, rel))
    }
  }
}
for (const dir of ['core', 'plugin-api', 'cli', 'plugins']) copyAssets(dir)
for (const dir of ['schemas', 'config']) cpSync(path.join(root, dir), path.join(dist, dir), { recursive: true })
// The console's build is made separately (npm run build:console); a relative link finds it.
mkdirSync(path.join(dist, 'console'), { recursive: true })
symlinkSync(path.join('..', '..', 'console', 'dist'), path.join(dist, 'console', 'dist'), 'dir')
// What a start would otherwise redo every time (from the compiled modules just built): the
// built-ins' summaries, so the registry imports only the plugins a config uses, and each built-in
// schema's validator as ajv standalone code, so no schema is compiled (cli/build-artifacts.ts).
if (path.relative(root, dist).startsWith('..')) register('./resolve-from-root.mjs', import.meta.url)
const { BUILTIN_INDEX } = await import(pathToFileURL(path.join(dist, 'core', 'plugins', 'loader.js')).href)
const { BUILT_VALIDATORS_DIR } = await import(pathToFileURL(path.join(dist, 'core', 'config', 'compiled-validators.js')).href)
const { builtinIndex, writeValidators, standaloneCompiler } = await import(pathToFileURL(path.join(dist, 'cli', 'build-artifacts.js')).href)
const { CORE_SCHEMA } = await import(pathToFileURL(path.join(dist, 'core', 'config', 'validate.js')).href)
const index = await builtinIndex(path.join(dist, 'plugins'))
writeFileSync(path.join(dist, 'plugins', BUILTIN_INDEX), `${JSON.stringify(index)}\n`)
const validators = await writeValidators(BUILT_VALIDATORS_DIR, [{ schema: CORE_SCHEMA, use: 'core' }, ...index.map((p) => ({ schema: p.summary.configSchema, use: 'plugin' }))])
// The OpenAI request checks (chat, completions, embeddings; surface.openai's and batch lines'), beside
// the module that loads them (plugins/contracts/request-check.ts): else the first request of each compiles its own.
const contracts = path.join(dist, 'plugins', 'contracts')
const { REQUEST_SCHEMAS, REQUEST_CHECK_AJV_OPTIONS } = await import(pathToFileURL(path.join(contracts, 'openai-requests.js')).href)
const toCode = await standaloneCompiler()
for (const { schema, validator } of REQUEST_SCHEMAS) writeFileSync(path.join(contracts, validator), toCode(schema, REQUEST_CHECK_AJV_OPTIONS))

writeFileSync(path.join(dist, 'BUILD.json'), `${JSON.stringify({ built_at: new Date().toISOString(), sources })}\n`)
console.error(`built ${path.relative(root, dist) || dist} (${index.length} plugins indexed, ${validators.length} validators) in ${((Date.now() - started) / 1000).toFixed(1)} s${existsSync(path.join(root, 'console', 'dist')) ? '' : ' (the console is not built: npm run build:console)'}`)

// A plugin module imported for its manifest may leave a timer or handle open: the build is done.
process.exit(0)
