// The token worker's entry: a worker thread does not inherit the main thread's TypeScript loader
// (tsx), so it registers its own before loading worker.ts.
import { register } from 'tsx/esm/api'

register()
await import('./worker.ts')
