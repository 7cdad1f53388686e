#!/usr/bin/env -S node --no-memory-reducer
// The compiled gateway (dist/, from `npm run build`) when it is up to date with the sources;
// else the TypeScript sources, which tsx compiles as they load (scripts/compiled.mjs decides).
// The shebang's node flags are cli/node-flags.ts's (why there); `npm start` and the image pass them too.
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import v8 from 'node:v8'
import { compiledEntry } from '../scripts/compiled.mjs'

// V8 lets the old space grow to up to 4x what survived the last full GC before collecting again;
// under load that is ~100 MB of garbage held as RSS (bench/RESULTS.md, memory soak). 1.5x keeps a
// gateway at 50 connections flat under 150 MB at no measurable CPU cost. 0 keeps V8's own rule.
// A flag NODE_OPTIONS refuses, so it is set here, before the gateway allocates anything much.
const growing = process.env.GATEWAY_HEAP_GROWING_PERCENT ?? '50'
if (!/^\d+$/.test(growing)) {
  console.error(`GATEWAY_HEAP_GROWING_PERCENT must be a whole number (percent), not '${growing}'`)
  process.exit(2)
}
if (growing !== '0') v8.setFlagsFromString(`--heap-growing-percent=${growing}`)

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
