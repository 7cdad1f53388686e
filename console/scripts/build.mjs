#!/usr/bin/env node
/**
 * Builds the console (vite build) into console/dist. Run by the root package's `prepare` script,
 * so `npm ci` / `npm install` leave a built console behind, and by `npm run build:console`.
 *
 * --if-stale: skip when dist/ was built from the same sources (a hash of them is kept in
 * dist/.source-hash), so a repeated install costs nothing. Without vite installed (an install
 * with --omit=dev, as in a production image built from an already built tree) it says so and
 * exits 0: the gateway then serves a page that says how to build the console.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')
const hashFile = path.join(dist, '.source-hash')
const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json', 'tsconfig.json']

async function sourceHash() {
  const hash = createHash('sha256')
  for (const name of SOURCES) {
    const at = path.join(root, name)
    if (!existsSync(at)) continue
    const files = name.includes('.') ? [at] : (await readdir(at, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)).sort()
    for (const file of files) hash.update(path.relative(root, file)).update('\0').update(await readFile(file)).update('\0')
  }
  return hash.digest('hex')
}

const ifStale = process.argv.includes('--if-stale')
const hash = await sourceHash()
if (ifStale && existsSync(hashFile) && (await readFile(hashFile, 'utf8')).trim() === hash) {
  console.log('console: dist/ is up to date')
  process.exit(0)
}

let vite
try {
  vite = await import(createRequire(path.join(root, 'package.json')).resolve('vite'))
} catch {
  console.warn('console: vite is not installed (npm ci --omit=dev?), so the console was not built; run `npm ci` then `npm run build:console`')
  process.exit(0)
}
const started = Date.now()
await vite.build({ root, configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn' })
await writeFile(hashFile, `${hash}\n`)
console.log(`console: built into console/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`)
