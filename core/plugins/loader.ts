/** Finds plugins: built-ins under plugins/<kind-folder>/<name>/index.ts, and those `plugins:` lists (a path from the config's folder, or a package). */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { PluginRegistry, type PluginSummary } from './registry.ts'
import { token, type PluginKind, type PluginManifest } from '../../plugin-api/types.ts'
import { importListedPlugin } from '../../plugin-api/listed-plugin.ts'

/** The folder under plugins/ that holds each kind's built-in plugins. */
const KIND_FOLDERS: Readonly<Record<string, PluginKind>> = {
  providers: 'provider',
  surfaces: 'surface',
  stages: 'stage',
  auth: 'auth',
  limits: 'limiter',
  cache: 'cache',
  store: 'store',
  queue: 'queue',
  services: 'service',
  telemetry: 'telemetry',
}

export const BUILTIN_PLUGIN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../plugins')

/**
 * The built-ins' summaries (id, kind, schema) and module files, written by `npm run build` beside the compiled plugins: a build's registry
 * imports a plugin's code only when a config uses it, instead of every plugin's (with ajv's and mdast's, 280 of the 970 modules a PostgreSQL
 * start loaded; bench/RESULTS.md). The sources have no such file and are scanned.
 */
export const BUILTIN_INDEX = 'builtins.json'

export interface BuiltinIndexEntry {
  /** As JSON holds it: the capabilities it provides by their description. */
  readonly summary: Omit<PluginSummary, 'provides'> & { readonly provides?: readonly string[] }
  /** The module exporting it, relative to the plugins folder. */
  readonly module: string
}

let builtins: Promise<PluginRegistry> | undefined

/** The registry of built-in plugins; scanned (or read from the build's index) once per process. */
export function builtinRegistry(dir = BUILTIN_PLUGIN_DIR): Promise<PluginRegistry> {
  if (dir !== BUILTIN_PLUGIN_DIR) return scanBuiltins(dir)
  builtins ??= existsSync(path.join(dir, BUILTIN_INDEX)) ? Promise.resolve(indexedBuiltins(dir)) : scanBuiltins(dir)
  return builtins
}

async function scanBuiltins(dir: string): Promise<PluginRegistry> {
  const registry = new PluginRegistry()
  for (const { manifests } of await builtinModules(dir)) {
    for (const manifest of manifests) registry.register(manifest, 'builtin')
  }
  return registry
}

/** Every built-in plugin module under `dir`, imported, with its manifests. */
export async function builtinModules(dir: string): Promise<{ module: string; manifests: PluginManifest[] }[]> {
  const found: { module: string; manifests: PluginManifest[] }[] = []
  for (const folder of Object.keys(KIND_FOLDERS)) {
    const kindDir = path.join(dir, folder)
    if (!existsSync(kindDir)) continue
    for (const name of readdirSync(kindDir).sort()) {
      const entry = ['index.ts', 'index.js'].map((f) => path.join(kindDir, name, f)).find((f) => existsSync(f))
      if (entry) found.push({ module: path.relative(dir, entry), manifests: await importManifests(entry) })
    }
  }
  return found
}

/** A registry of the built-ins an index lists, each imported on `load`. */
export function indexedBuiltins(dir: string, index: readonly BuiltinIndexEntry[] = JSON.parse(readFileSync(path.join(dir, BUILTIN_INDEX), 'utf8')) as BuiltinIndexEntry[]): PluginRegistry {
  const registry = new PluginRegistry()
  for (const { summary: { provides, ...summary }, module } of index) {
    // Tokens are keyed by their description (Symbol.for): the index keeps the description.
    registry.registerLazy({ ...summary, provides: provides?.map((description) => token(description)) }, 'builtin', async () => {
      const manifests = await importManifests(path.join(dir, module))
      return manifests.find((m) => m.id === summary.id) ?? manifests[0]
    })
  }
  return registry
}

/** Resolve a `plugins:` entry to a module file: a path (file or folder) or a package name. */
export function resolvePluginModule(spec: string, configDir: string): string {
  const isPath = spec.startsWith('.') || spec.startsWith('/') || path.isAbsolute(spec)
  if (isPath) {
    const full = path.resolve(configDir, spec)
    if (!existsSync(full)) throw new Error(`no such file or folder: ${full}`)
    if (statSync(full).isFile()) return full
    const pkgFile = path.join(full, 'package.json')
    const main = existsSync(pkgFile) ? (JSON.parse(readFileSync(pkgFile, 'utf8')) as { main?: unknown }).main : undefined
    if (typeof main === 'string') try { return createRequire(pkgFile).resolve(full) } catch { throw new Error(`the main of ${pkgFile}, ${main}, names no file (not built yet?)`) }
    const entry = ['index.ts', 'index.js', 'index.mjs'].map((f) => path.join(full, f)).find((f) => existsSync(f))
    if (!entry) throw new Error(`folder ${full} has no index.ts, index.js or index.mjs, nor a package.json whose main names its entry`)
    return entry
  }
  // A package: resolved from the config's folder first, then from the gateway's own (node's require stack would name the gateway's loader, not where it looked).
  for (const from of [path.join(configDir, 'noop.js'), import.meta.url]) {
    try { return createRequire(from).resolve(spec) } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err }
  }
  throw new Error(`Cannot find module '${spec}' (a package is looked for from the config's folder, ${configDir}, then beside the gateway: npm install it, or give its path)`)
}

export async function importManifests(file: string, listed = false): Promise<PluginManifest[]> {
  // A listed plugin, anywhere: the published API provided to it, its code as its files hold it now (after an edit too), a syntax error located.
  const { default: exported, ...named } = (listed ? await importListedPlugin(file) : await import(pathToFileURL(file).href)) as Record<string, unknown>
  const list = Array.isArray(exported) ? exported : [exported]
  if (list.length === 0 || list.some((m) => typeof m !== 'object' || m === null)) {
    throw new Error(`${file} must export default a plugin manifest (definePlugin) or an array of them; its default export is ${exported === undefined ? 'missing' : typeof exported}${Object.keys(named).length ? ` (named exports: ${Object.keys(named).join(', ')})` : ''}`)
  }
  return list as PluginManifest[]
}
