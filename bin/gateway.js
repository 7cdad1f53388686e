#!/usr/bin/env node
// The compiled gateway (dist/, from `npm run build`) when it is up to date with the sources;
// else the TypeScript sources, which tsx compiles as they load (scripts/compiled.mjs decides).
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { compiledEntry } from '../scripts/compiled.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { entry, stale } = compiledEntry(root)
if (entry) {
  await import(pathToFileURL(entry).href)
} else {
  if (stale) console.error('dist/ is older than the sources: running the TypeScript sources (npm run build to refresh dist/)')
  const { register } = await import('tsx/esm/api')
  register()
  await import('../cli/main.ts')
}
