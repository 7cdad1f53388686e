/**
 * `ai-gateway/...` for every plugin the gateway loads, wherever it lives. A plugin imports
 * `ai-gateway/plugin` (and the package's other exports), but node finds a package only in a
 * node_modules above the importing file, or by self-reference inside the package's own folder: a
 * plugin folder outside the gateway's, or an npm package with its own package.json, found none,
 * and the image's /app has dist/ only, not the `.ts` files the exports map names. This resolve hook
 * answers those imports with the running gateway's own modules (the sources, or dist/ when it runs
 * compiled), by the package's exports map: a plugin always meets the gateway that loads it, one copy.
 *
 * The same file is the hook (`initialize`, `resolve`: node's module customization hooks, run on
 * node's hooks thread) and what registers it (`provideApi`, called by the plugin loader).
 */
import { existsSync, readFileSync } from 'node:fs'
import { register } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const NAME = 'ai-gateway'
/** Set by `initialize` on the hooks thread. */
let api

export function initialize(data) {
  api = data
}

export async function resolve(specifier, context, next) {
  if (!api || (specifier !== NAME && !specifier.startsWith(`${NAME}/`))) return sameCodeVersion(await next(specifier, context), context.parentURL)
  const target = exportTarget(api.exports, `.${specifier.slice(NAME.length)}`)
  if (!target) {
    const names = Object.keys(api.exports).filter((key) => key !== './package.json').map((key) => `${NAME}${key.slice(1)}`)
    throw Object.assign(new Error(`'${specifier}' is not part of the gateway's published API (${names.join(', ')})`), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' })
  }
  return { url: new URL(target.replace(/\.ts$/, api.extension), api.root).href, shortCircuit: true }
}

/**
 * A plugin re-imported after an edit (listed-plugin.ts: its entry's URL carries `?gateway-code=`)
 * imports its own files anew too, so the new entry never runs with the old copy of a helper it edited:
 * a file its version imports gets the same query, but for packages and the gateway's own modules
 * (core/, plugin-api/, plugins/, dist/: one copy of the API, whose tokens and classes every plugin shares).
 */
function sameCodeVersion(resolved, parentURL) {
  const version = parentURL?.includes('?gateway-code=') ? new URL(parentURL).searchParams.get('gateway-code') : null
  const url = resolved.url
  const gateway = api && url.startsWith(api.root) && /^(core|plugin-api|plugins|dist)\//.test(url.slice(api.root.length))
  if (!version || !url.startsWith('file:') || url.includes('?') || url.includes('/node_modules/') || gateway) return resolved
  return { ...resolved, url: `${url}?gateway-code=${version}` }
}

/**
 * The file an exports map gives `subpath` (`./plugin`, `./contracts/queue`) at run time, `*` patterns
 * included: an entry's `default` (its `types`, the declarations `npm run build` writes, are for tsc).
 */
function exportTarget(exports, subpath) {
  const runtime = (entry) => (typeof entry === 'string' ? entry : entry?.default)
  if (typeof runtime(exports[subpath]) === 'string') return runtime(exports[subpath])
  for (const [key, entry] of Object.entries(exports)) {
    const star = key.indexOf('*')
    const target = runtime(entry)
    if (star < 0 || typeof target !== 'string') continue
    const [before, after] = [key.slice(0, star), key.slice(star + 1)]
    if (subpath.length > key.length - 1 && subpath.startsWith(before) && subpath.endsWith(after)) {
      return target.replace('*', subpath.slice(before.length, subpath.length - after.length))
    }
  }
  return undefined
}

let provided = false

/** Register the hook, once per process: the running code is the folder above this file's (the checkout, or dist/). */
export function provideApi() {
  if (provided) return
  provided = true
  const here = path.dirname(fileURLToPath(import.meta.url))
  const root = path.dirname(here)
  // The package.json is the code's folder's (the sources) or the one above it (dist/).
  const manifest = [root, path.dirname(root)].map((dir) => path.join(dir, 'package.json')).find((file) => existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).name === NAME)
  if (!manifest) return
  const extension = existsSync(path.join(here, 'index.ts')) ? '.ts' : '.js'
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8'))
  register(import.meta.url, { data: { exports, extension, root: pathToFileURL(`${root}${path.sep}`).href } })
}
