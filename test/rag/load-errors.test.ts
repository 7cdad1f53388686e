/**
 * service.rag refuses to load, saying what to do, when it cannot work: a store without pgvector
 * (embedded with `vector: false`, the shared PostgreSQL without the extension), no store at all,
 * or an `embedding_route` no route answers. It never falls back to a slow path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../helpers/gateway.ts'
import { DATABASE_URL, POSTGRES_ENABLED, dropSchema, uniqueSchema } from '../store/helpers.ts'
import { ragConfig, startRagUpstream, type RagUpstream } from './helpers.ts'

describe('service.rag load-time errors', () => {
  let upstream: RagUpstream
  beforeAll(async () => { upstream = await startRagUpstream() })
  afterAll(() => upstream.close())

  const failure = (yaml: string) => startTestGateway(yaml).then(async (gw) => { await gw.close(); return undefined }, (e: Error) => e.message)
  const withStore = (store: string) => ragConfig(upstream).replace(/^store: .*$/m, `store: ${store}`)

  it('names pgvector and how to get it when the embedded store runs without it', async () => {
    const message = await failure(withStore('{ plugin: embedded, memory: true, vector: false }'))
    expect(message).toMatch(/test\.yaml:\d+:\d+ services\.rag: plugin service\.rag failed to set up: service\.rag needs the PostgreSQL extension 'vector' \(pgvector\), which this embedded database does not offer: install it/)
  }, 60_000)

  it.skipIf(!POSTGRES_ENABLED)('names pgvector on a PostgreSQL server without the extension', async () => {
    const schema = uniqueSchema('rag')
    try {
      const message = await failure(withStore(`{ plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }`))
      expect(message).toContain("service.rag needs the PostgreSQL extension 'vector' (pgvector), which this postgres database does not offer")
      expect(message).toContain('or use store: { plugin: embedded }')
    } finally {
      await dropSchema(schema)
    }
  }, 60_000)

  it('says a store is needed when there is none', async () => {
    expect(await failure(ragConfig(upstream).replace(/^store: .*\n/m, ''))).toContain('service.rag needs Store, which no plugin this config sets up provides: add `store:`')
  })

  it('names the embedding route when no route answers it', async () => {
    const message = await failure(ragConfig(upstream).replace('embedding_route: embedder', 'embedding_route: nowhere'))
    expect(message).toMatch(/services\.rag\.embedding_route: no route answers 'nowhere'/)
  }, 60_000)
})
