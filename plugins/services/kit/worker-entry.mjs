// A worker thread's entry, for a plugin's module named in workerData.entry (its .ts URL). Compiled
// (dist/), the module's .js sits beside that name; from the sources, a worker thread does not
// inherit the main thread's TypeScript loader (tsx), so it registers its own before loading it.
import { existsSync } from 'node:fs'
import { workerData } from 'node:worker_threads'

const source = new URL(workerData.entry)
const compiled = new URL(source.href.replace(/\.ts$/, '.js'))
if (existsSync(compiled)) {
  await import(compiled.href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import(source.href)
}
