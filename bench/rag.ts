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
import os from 'node:os'
import path from 'node:path'
import { mkdtemp, rm } from 'node:fs/promises'
import { startGateway } from '../core/gateway.ts'
import { createLogger } from '../core/logger.ts'
import { Store } from '../core/plugins/api.ts'

const CHUNKS = Number(process.env.BENCH_RAG_CHUNKS ?? 100_000)
const SEARCHES = Number(process.env.BENCH_RAG_SEARCHES ?? 300)
const DIMS = 256

const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-bench-rag-'))
const gw = await startGateway({
  source: {
    label: 'bench-rag.yaml', dir,
    text: `version: 1
store: { plugin: embedded, path: ${JSON.stringify(path.join(dir, 'data'))} }
providers: { mock: { plugin: mock, embedding_dimensions: ${DIMS} } }
routes: [ { model: embedder, targets: [ { provider: mock } ] } ]
services: { rag: { embedding_route: embedder, embed_batch_size: 128, ingest_concurrency: 2 } }
usage: { journal_dir: ${JSON.stringify(path.join(dir, 'journal'))} }
`,
  },
  port: 0, host: '127.0.0.1', env: process.env, logger: createLogger('warn'), watch: false,
})
const api = async (method: string, p: string, body?: unknown): Promise<any> => {
  const send = () => fetch(`${gw.url}/api/v1/rag${p}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
  // A kept-alive connection idle through the index build has been closed by the server: once more on a new one.
  const res = await send().catch(() => send())
  const json = await res.json() as { data: unknown }
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`)
  return json.data
}
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

try {
  if (process.env.BENCH_RAG_SKIP_INGEST !== '1') await ingestion()
  await search()
} finally {
  await gw.close()
  await rm(dir, { recursive: true, force: true })
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
  const big = await api('POST', '/collections', { name: 'big' })
  const form2 = new FormData()
  form2.append('file', new Blob(['seed document'], { type: 'text/plain' }), 'seed.txt')
  const [seed] = (await (await fetch(`${gw.url}/api/v1/rag/collections/${big.id}/documents`, { method: 'POST', body: form2 })).json() as { data: any[] }).data
  while ((await api('GET', `/collections/${big.id}/documents/${seed.id}`)).status !== 'completed') await new Promise((r) => setTimeout(r, 50))
  const store = gw.controller.current.container.resolve<Store>(Store.key)
  const index = `rag_chunks_hnsw_${String(big.id).replace(/-/g, '')}`
  const loadStarted = performance.now()
  await store.sql.exec(`DROP INDEX ${index}`)
  const { rows: [d] } = await store.sql.query<{ ready_ingest: string }>('SELECT ready_ingest FROM rag_documents WHERE id = $1', [seed.id])
  for (let done = 0; done < CHUNKS; done += 10_000) {
    await store.sql.query(
      `INSERT INTO rag_chunks (collection_id, document_id, ingest_id, seq, text, start_offset, end_offset, embedding)
       SELECT $1, $2, $3, g, 'chunk ' || g || ' ' || md5(g::text), 0, 10, ARRAY(SELECT random() - 0.5 + 0 * g FROM generate_series(1, ${DIMS}))::vector
       FROM generate_series($4::int, $5::int) AS g`,
      [big.id, seed.id, d.ready_ingest, done + 1, Math.min(CHUNKS, done + 10_000)],
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
    times.sort((a, b) => a - b)
    console.log(`search over ${CHUNKS} chunks (${DIMS} dims, top 5, ${hybrid ? 'hybrid' : 'vector'}), HTTP end to end: p50 ${pct(times, 0.5).toFixed(1)} ms, p95 ${pct(times, 0.95).toFixed(1)} ms, p99 ${pct(times, 0.99).toFixed(1)} ms`)
  }
  const plan = await store.sql.query<Record<string, string>>(
    `EXPLAIN SELECT c.id FROM rag_chunks c JOIN rag_documents d ON d.id = c.document_id AND d.ready_ingest = c.ingest_id WHERE c.collection_id = '${big.id}'
     ORDER BY c.embedding::vector(${DIMS}) <=> $1::vector(${DIMS}) LIMIT 5`,
    [`[${Array.from({ length: DIMS }, () => Math.random() - 0.5).join(',')}]`],
  )
  console.log(`plan uses the HNSW index: ${plan.rows.some((r) => Object.values(r)[0].includes(index))}`)
}
