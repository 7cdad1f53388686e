// The extraction worker's entry. Compiled (dist/), extract-worker.js sits beside this file; from
// the sources, a worker thread does not inherit the main thread's TypeScript loader (tsx), so it
// registers its own before loading extract-worker.ts.
import { existsSync } from 'node:fs'

const compiled = new URL('./extract-worker.js', import.meta.url)
if (existsSync(compiled)) {
  await import(compiled.href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('./extract-worker.ts')
}
