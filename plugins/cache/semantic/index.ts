/**
 * cache.semantic: answers found by meaning. The prompt is embedded through an embeddings route of
 * this gateway (`embedding_route`) and the nearest stored prompt with the same context (tenant,
 * route, parameters, tools) is looked up in pgvector; its answer is served when the cosine
 * similarity is at least `threshold`. An exact repeat is found by its fingerprint first, without
 * embedding anything. Needs a store with pgvector: the embedded store, or PostgreSQL with the
 * `vector` extension (a clear error at load time otherwise).
 */
import { fileURLToPath } from 'node:url'
import { Store, definePlugin, type ChatResponse, type SqlClient } from '../../../plugin-api/index.ts'
import { CACHE_OPTIONS_SCHEMA, type Cache } from '../../contracts/cache.ts'
import { unansweredRoutes } from '../../contracts/route-names.ts'

export interface SemanticCacheConfig {
  embedding_route: string
  threshold: number
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['embedding_route'],
  properties: {
    ...CACHE_OPTIONS_SCHEMA,
    embedding_route: { type: 'string', minLength: 1, description: 'A route of this gateway that makes embeddings (its `model` name); prompts are embedded through it.' },
    threshold: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.95, description: 'Least cosine similarity between two prompts for one\'s answer to serve the other.' },
  },
} as const

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))
const EXACT = `SELECT response FROM semantic_cache
  WHERE fingerprint = $1 AND context = $2 AND expires_at > now() ORDER BY id DESC LIMIT 1`
// Only vectors of the query's dimension are comparable (the route's model may change over time).
const NEAREST = `SELECT response, 1 - (embedding <=> $2::vector) AS similarity FROM semantic_cache
  WHERE context = $1 AND expires_at > now() AND vector_dims(embedding) = $3
  ORDER BY embedding <=> $2::vector LIMIT 1`
const INSERT = `INSERT INTO semantic_cache (context, fingerprint, embedding, response, expires_at)
  VALUES ($1, $2, $3::vector, $4::jsonb, now() + make_interval(secs => $5))`
const PURGE = 'DELETE FROM semantic_cache WHERE expires_at < now()'
const PURGE_EVERY_MS = 60_000

export default definePlugin<SemanticCacheConfig, Cache>({
  id: 'cache.semantic',
  kind: 'cache',
  description: 'Chat answers found by prompt similarity (embeddings through a route, nearest neighbour in pgvector).',
  configSchema,
  needs: [Store],
  checkConfig: (config, at) => unansweredRoutes(config, at, ['embedding_route']),
  async setup(ctx, config) {
    const store = ctx.tryGet(Store)
    if (!store) throw new Error('cache.semantic keeps its vectors in the store: add `store:` (e.g. { plugin: embedded }, or postgres with the pgvector extension)')
    const { pending } = await store.migrate({ owner: 'semantic-cache', dir: MIGRATIONS })
    if (pending.length) {
      throw new Error(
        `cache.semantic needs the PostgreSQL extension 'vector' (pgvector), which this ${store.backend} database does not have: ` +
        'install pgvector on the server (its migration is applied at the next start), or use store: { plugin: embedded }',
      )
    }
    const sql: SqlClient = store.sql
    let lastPurge = 0
    const purge = (): void => {
      const now = Date.now()
      if (now - lastPurge < PURGE_EVERY_MS) return
      lastPurge = now
      sql.query(PURGE).catch((err: Error) => ctx.logger.warn({ err: err.message }, 'could not delete expired semantic cache entries'))
    }

    return {
      embeddingRoute: config.embedding_route,
      async get(key) {
        const exact = await sql.query<{ response: ChatResponse }>(EXACT, [key.fingerprint, key.context])
        if (exact.rows[0]) return exact.rows[0].response
        const vector = await key.embedding()
        const near = await sql.query<{ response: ChatResponse; similarity: number | string }>(NEAREST, [key.context, toVector(vector), vector.length])
        const best = near.rows[0]
        return best && Number(best.similarity) >= config.threshold ? best.response : undefined
      },
      async set(key, answer, ttlSeconds) {
        const vector = await key.embedding()
        await sql.query(INSERT, [key.context, key.fingerprint, toVector(vector), JSON.stringify(answer), ttlSeconds])
        purge()
      },
      ready: () => store.ready?.(),
    }
  },
})

/** pgvector's text form: `[0.1,0.2,...]`. */
const toVector = (values: readonly number[]): string => `[${values.join(',')}]`
