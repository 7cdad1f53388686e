/**
 * store.postgres: PostgreSQL through a `pg` pool — the system of record. Setup connects, creates
 * the schema if one is configured, and applies the migrations (core/data/migrations); it fails
 * fast when the database cannot be reached, so a gateway never serves on an unmigrated store and a
 * reload to an unreachable database is rejected while the old config keeps serving.
 */
import { definePlugin, type Store } from '../../../plugin-api/index.ts'
import { openStore } from '../kit/store.ts'
import { createPostgresBackend } from './backend.ts'
import { configSchema, type PostgresStoreConfig } from './schema.ts'

export default definePlugin<PostgresStoreConfig, Store>({
  id: 'store.postgres',
  kind: 'store',
  description: 'PostgreSQL (pg pool): users, keys, chats, usage events; migrated at start.',
  configSchema,
  async setup(ctx, config) {
    const backend = await createPostgresBackend(config, ctx.logger)
    return openStore(backend, ctx.logger)
  },
})
