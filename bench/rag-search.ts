/**
 * RAG search latency on the embedded store (PGlite + pgvector), and why: BENCH_RAG_CHUNKS chunks
 * (default 100,000) of 256 dimensions (synthetic: random unit vectors, texts of 40 words drawn
 * from a Zipf-distributed 5,000-word vocabulary, so full-text queries match a realistic spread
 * of rows) bulk-loaded into one collection, then ANALYZE, then its HNSW index built (timed).
 *
 * It prints the query plans (EXPLAIN ANALYZE, BUFFERS) of the vector and the full-text query,
 * then p50/p95/p99 of top-5 searches two ways: the database query alone (chunkSearch), and HTTP
 * end to end (scope check, the query embedded through the gateway's route, search, envelope). Run: node --import tsx bench/rag-search.ts   (BENCH_RAG_CHUNKS=20000 for a quick look)
 */
import pgvector from 'pgvector'
import type { Caller } from '../plugin-api/index.ts'
import { Rag } from '../plugins/contracts/rag.ts'
import { chunkSearch, hasIterativeScan } from '../plugins/services/rag/data/search.ts'
import { percentiles, startRagGateway } from './rag-gateway.ts'

const CHUNKS = Number(process.env.BENCH_RAG_CHUNKS ?? 100_000)
const SEARCHES = Number(process.env.BENCH_RAG_SEARCHES ?? 200)
const DIMS = 256
const VOCABULARY = 5_000
const WORDS_PER_CHUNK = 40

const gateway = await startRagGateway({ label: 'bench-rag-search', dims: DIMS, store: process.env.BENCH_RAG_STORE })
const { gw, api, store } = gateway

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = random(42)
// Zipf over the vocabulary: word i has weight 1/(i+1); sampled by inverting the cumulative sum.
const cumulative: number[] = []
for (let i = 0, sum = 0; i < VOCABULARY; i++) cumulative.push((sum += 1 / (i + 1)))
const wordAt = (i: number): string => `w${i.toString(36)}x`
function zipfWord(): string {
  const target = rand() * cumulative[VOCABULARY - 1]
  let lo = 0
  let hi = VOCABULARY - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (cumulative[mid] < target) lo = mid + 1
    else hi = mid
  }
  return wordAt(lo)
}
const sentence = (n: number): string => Array.from({ length: n }, zipfWord).join(' ')
function unitVector(): number[] {
  const v = Array.from({ length: DIMS }, () => rand() - 0.5)
  const norm = Math.hypot(...v)
  return v.map((x) => x / norm)
}

async function timed(label: string, run: (i: number) => Promise<number>): Promise<void> {
  const times: number[] = []
  for (let i = 0; i < SEARCHES + 20; i++) {
    const t = performance.now()
    const hits = await run(i)
    if (i >= 20) times.push(performance.now() - t)
    if (hits !== 5) throw new Error(`${label}: ${hits} hits, not 5`)
  }
  console.log(`${label.padEnd(34)} ${percentiles(times)}`)
}

try {
  const rag = gw.controller.current.container.resolve<Rag>(Rag.key)
  const { collection, document: seed, readyIngest } = await gateway.seededCollection('bench')

  // Bulk load: without the index (dropped, rebuilt after), as a bulk load should.
  const index = `rag_chunks_hnsw_${String(collection.id).replace(/-/g, '')}`
  await store.sql.exec(`DROP INDEX ${index}`)
  const loadStarted = performance.now()
  const BATCH = 2_000
  for (let done = 0; done < CHUNKS; done += BATCH) {
    const n = Math.min(BATCH, CHUNKS - done)
    const texts = Array.from({ length: n }, () => sentence(WORDS_PER_CHUNK))
    const vectors = Array.from({ length: n }, () => pgvector.toSql(unitVector()) as string)
    await store.sql.query(
      `INSERT INTO rag_chunks (collection_id, document_id, ingest_id, seq, text, start_offset, end_offset, embedding, tsv)
       SELECT $1, $2, $3, $4::int + o, t, 0, length(t), v::vector, to_tsvector('english', t) FROM unnest($5::text[], $6::text[]) WITH ORDINALITY AS u(t, v, o)`,
      [collection.id, seed.id, readyIngest, done, texts, vectors],
    )
  }
  const loaded = performance.now()
  console.log(`loaded ${CHUNKS} chunks (${DIMS} dims) in ${((loaded - loadStarted) / 1000).toFixed(1)} s`)
  await store.sql.exec('ANALYZE rag_chunks; ANALYZE rag_documents')
  await store.sql.exec(`SET maintenance_work_mem = '256MB'; CREATE INDEX ${index} ON rag_chunks USING hnsw ((embedding::vector(${DIMS})) vector_cosine_ops) WHERE collection_id = '${collection.id}'; RESET maintenance_work_mem`)
  console.log(`HNSW index built in ${((performance.now() - loaded) / 1000).toFixed(1)} s`)

  const record = await rag.getCollection(adminCaller(), collection.id)
  const search = chunkSearch(store, { iterativeScan: await hasIterativeScan(store) })
  const queryText = (i: number): string => sentence(6) + ` ${i}`

  if (process.env.BENCH_RAG_EXPLAIN !== '0') {
    const probe = { collection: record, vector: unitVector(), text: queryText(0), topK: 5, hybrid: false }
    const { rows: near } = await store.sql.query<{ id: string }>(
      `SELECT id FROM rag_chunks WHERE collection_id = $1 ORDER BY embedding::vector(${DIMS}) <=> $2::vector(${DIMS}) LIMIT 20`, [collection.id, pgvector.toSql(probe.vector)])
    const candidates = near.map((r) => String(r.id))
    for (const [label, sql] of Object.entries(search.explainable(probe, candidates))) {
      const { rows } = await store.transaction(async (tx) => {
        for (const setting of sql.settings) await tx.query(setting)
        return tx.query<Record<string, string>>(`EXPLAIN (ANALYZE, BUFFERS) ${sql.text}`, sql.params)
      })
      console.log(`\n-- ${label}\n${rows.map((r) => Object.values(r)[0]).join('\n')}`)
    }
    console.log()
  }

  for (const hybrid of [false, true]) {
    const mode = hybrid ? 'hybrid' : 'vector'
    await timed(`database query, ${mode}`, async (i) => (await search.search({ collection: record, vector: unitVector(), text: queryText(i), topK: 5, hybrid })).length)
    await timed(`HTTP end to end, ${mode}`, async (i) => (await api('POST', `/collections/${collection.id}/search`, { query: queryText(i), top_k: 5, hybrid })).length)
  }
} finally {
  await gateway.close()
}

function adminCaller(): Caller {
  return {
    principal: { userId: 'bench', role: 'admin', strategy: 'bench' },
    role: { name: 'admin', scope: 'all_data', permissions: ['*'], can: () => true },
    scope: 'all_data',
    reaches: () => true,
    requireReach: () => undefined,
    mayGrant: () => true,
  }
}
