/**
 * store.embedded: PostgreSQL in-process (PGlite, with pgvector), persisted in a directory. The
 * default store: no server, works offline, and runs the same migrations and queries as
 * store.postgres. One process per directory (a lock file enforces it).
 */
import path from 'node:path'
import { definePlugin, type Store } from '../../../plugin-api/index.ts'
import { openStore } from '../kit/store.ts'
import { createEmbeddedBackend } from './backend.ts'
import { configSchema, type EmbeddedStoreConfig } from './schema.ts'

const IN_MEMORY = 'memory://'

export default definePlugin<EmbeddedStoreConfig, Store>({
  id: 'store.embedded',
  kind: 'store',
  description: 'Embedded PostgreSQL (PGlite + pgvector) in a directory: the zero-setup default.',
  configSchema,
  async setup(ctx, config) {
    const inMemory = config.memory || config.path === IN_MEMORY
    const dir = inMemory ? undefined : path.resolve(ctx.configDir, config.path)
    const backend = await createEmbeddedBackend({ dir, vector: config.vector, sharedBuffersMb: config.shared_buffers_mb }, ctx.logger)
    return openStore(backend, ctx.logger)
  },
})
