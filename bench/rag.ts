/**
 * RAG on the embedded store (PGlite + pgvector): ingestion throughput (chunks embedded and stored
 * per second, through the gateway's own embeddings route against the in-process mock provider,
 * so the figure is the gateway's cost, not a provider's), and search latency over a collection of
 * BENCH_RAG_CHUNKS chunks (default 100,000) of 256 dimensions with its HNSW index, end to end over
 * HTTP (query embedded, nearest chunks, JSON envelope). Run: node --import tsx bench/rag.ts
 *
 * The 100k chunks are written straight into the tables (random vectors made in SQL) and the
 * collection's index is built once after them, as a bulk load would be: embedding 100k chunks
 * through the mock would measure the mock.
 */
import { percentiles, startRagGateway } from './rag-gateway.ts'

const CHUNKS = Number(process.env.BENCH_RAG_CHUNKS ?? 100_000)
const SEARCHES = Number(process.env.BENCH_RAG_SEARCHES ?? 300)
const DIMS = 256

const rag = await startRagGateway({ label: 'bench-rag', dims: DIMS, rag: 'embed_batch_size: 128, ingest_concurrency: 2' })
const { gw, api, store } = rag

try {
  if (process.env.BENCH_RAG_SKIP_INGEST !== '1') await ingestion()
  await search()
} finally {
  await rag.close()
}

async function ingestion(): Promise<void> {
  // Ingestion: one document of ~2,000 chunks (800 tokens, 400 overlap: ~1.6 kB of new text each).
  const ingest = await api('POST', '/collections', { name: 'ingest' })
  const words = 'gateway route limit cache usage token embedding chunk vector search index store queue worker'.split(' ')
  const text = Array.from({ length: 2_000 * 40 }, (_, i) => `${words[i % words.length]} ${words[(i * 7) % words.length]} number ${i}.`).join(' ')
  const form = new FormData()
  form.append('file', new Blob([text], { type: 'text/plain' }), 'corpus.txt')
  const started = performance.now()
  const [doc] = (await (await fetch(`${gw.url}/api/v1/rag/collections/${ingest.id}/documents`, { method: 'POST', body: form })).json() as { data: any[] }).data
  let state: any
  do {
    await new Promise((r) => setTimeout(r, 100))
    state = await api('GET', `/collections/${ingest.id}/documents/${doc.id}`)
  } while (state.status === 'queued' || state.status === 'processing')
  const seconds = (performance.now() - started) / 1000
  if (state.status !== 'completed') throw new Error(`ingest ${state.status}: ${JSON.stringify(state.error)}`)
  console.log(`ingestion: ${state.progress.chunks_total} chunks in ${seconds.toFixed(1)} s = ${(state.progress.chunks_total / seconds).toFixed(0)} chunks/s (extract, chunk, embed through the route, store)`)
}

async function search(): Promise<void> {
  // Search: a collection of CHUNKS chunks.
  const { collection: big, document: seed, readyIngest } = await rag.seededCollection('big')
  const index = `rag_chunks_hnsw_${String(big.id).replace(/-/g, '')}`
  const loadStarted = performance.now()
  await store.sql.exec(`DROP INDEX ${index}`)
  for (let done = 0; done < CHUNKS; done += 10_000) {
    await store.sql.query(
      `INSERT INTO rag_chunks (collection_id, document_id, ingest_id, seq, text, start_offset, end_offset, embedding, tsv)
       SELECT $1, $2, $3, g, t, 0, 10, ARRAY(SELECT random() - 0.5 + 0 * g FROM generate_series(1, ${DIMS}))::vector, to_tsvector('english', t)
       FROM generate_series($4::int, $5::int) AS g CROSS JOIN LATERAL (SELECT 'chunk ' || g || ' ' || md5(g::text) AS t) AS x`,
      [big.id, seed.id, readyIngest, done + 1, Math.min(CHUNKS, done + 10_000)],
    )
  }
  // PGlite runs no autovacuum: the planner's statistics are made here, as after any bulk load.
  await store.sql.exec('ANALYZE rag_chunks; ANALYZE rag_documents')
  const inserted = performance.now()
  console.log(`loaded ${CHUNKS} chunks in ${((inserted - loadStarted) / 1000).toFixed(1)} s; building the HNSW index...`)
  await store.sql.exec(`SET maintenance_work_mem = '512MB'; CREATE INDEX ${index} ON rag_chunks USING hnsw ((embedding::vector(${DIMS})) vector_cosine_ops) WHERE collection_id = '${big.id}'`)
  console.log(`HNSW index over ${CHUNKS} chunks built in ${((performance.now() - inserted) / 1000).toFixed(1)} s`)

  for (const hybrid of [false, true]) {
    const times: number[] = []
    for (let i = 0; i < SEARCHES + 20; i++) {
      const t = performance.now()
      const hits = await api('POST', `/collections/${big.id}/search`, { query: `question ${i} about chunk ${i * 31}`, top_k: 5, hybrid })
      if (i >= 20) times.push(performance.now() - t)
      if (hits.length !== 5) throw new Error(`search gave ${hits.length} hits`)
    }
    console.log(`search over ${CHUNKS} chunks (${DIMS} dims, top 5, ${hybrid ? 'hybrid' : 'vector'}), HTTP end to end: ${percentiles(times)}`)
  }
  const plan = await store.sql.query<Record<string, string>>(
    `EXPLAIN SELECT c.id FROM rag_chunks c JOIN rag_documents d ON d.id = c.document_id AND d.ready_ingest = c.ingest_id WHERE c.collection_id = '${big.id}'
     ORDER BY c.embedding::vector(${DIMS}) <=> $1::vector(${DIMS}) LIMIT 5`,
    [`[${Array.from({ length: DIMS }, () => Math.random() - 0.5).join(',')}]`],
  )
  console.log(`plan uses the HNSW index: ${plan.rows.some((r) => Object.values(r)[0].includes(index))}`)
}
