/** Finds plugins: built-ins under plugins/<kind-folder>/<name>/index.ts, and those `plugins:` lists (a path from the config's folder, or a package). */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { PluginRegistry } from './registry.ts'
import type { PluginKind, PluginManifest } from './types.ts'

/** The folder under plugins/ that holds each kind's built-in plugins. */
export const KIND_FOLDERS: Readonly<Record<string, PluginKind>> = {
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

let builtins: Promise<PluginRegistry> | undefined

/** The registry of built-in plugins; scanned and imported once per process. */
export function builtinRegistry(dir = BUILTIN_PLUGIN_DIR): Promise<PluginRegistry> {
  if (dir !== BUILTIN_PLUGIN_DIR) return scanBuiltins(dir)
  builtins ??= scanBuiltins(dir)
  return builtins
}

async function scanBuiltins(dir: string): Promise<PluginRegistry> {
  const registry = new PluginRegistry()
  for (const folder of Object.keys(KIND_FOLDERS)) {
    const kindDir = path.join(dir, folder)
    if (!existsSync(kindDir)) continue
    for (const name of readdirSync(kindDir).sort()) {
      const entry = ['index.ts', 'index.js'].map((f) => path.join(kindDir, name, f)).find((f) => existsSync(f))
      if (!entry) continue
      for (const manifest of await importManifests(entry)) registry.register(manifest, 'builtin')
    }
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
    if (existsSync(pkgFile)) return createRequire(pkgFile).resolve(full)
    const entry = ['index.ts', 'index.js', 'index.mjs'].map((f) => path.join(full, f)).find((f) => existsSync(f))
    if (!entry) throw new Error(`folder ${full} has no index.ts, index.js or package.json`)
    return entry
  }
  // A package: resolved from the config's folder first, then from the gateway's own.
  try {
    return createRequire(path.join(configDir, 'noop.js')).resolve(spec)
  } catch {
    return createRequire(import.meta.url).resolve(spec)
  }
}

/** The compiled gateway (dist/) has no TypeScript loader: tsx is registered when a third-party TypeScript plugin is first imported. */
let typescriptLoader: Promise<void> | undefined
function needsTypeScriptLoader(file: string): boolean {
  return /\.[mc]?ts$/.test(file) && !/\.[mc]?ts$/.test(fileURLToPath(import.meta.url))
}

export async function importManifests(file: string): Promise<PluginManifest[]> {
  if (needsTypeScriptLoader(file)) {
    typescriptLoader ??= import('tsx/esm/api').then(({ register }) => { register() })
    await typescriptLoader
  }
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown }
  const exported = mod.default
  const list = Array.isArray(exported) ? exported : [exported]
  if (list.length === 0 || list.some((m) => typeof m !== 'object' || m === null)) {
    throw new Error(`${file} must export default a plugin manifest (definePlugin) or an array of them`)
  }
  return list as PluginManifest[]
}
