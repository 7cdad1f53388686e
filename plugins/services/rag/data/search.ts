/**
 * Nearest chunks of one collection: cosine distance on the collection's own HNSW index (a partial
 * index on `embedding::vector(<dims>)`, see repository.ts), only chunks of each document's
 * completed ingest, optionally filtered by attributes; and, for hybrid search, PostgreSQL
 * full-text ranks fused with the vector ranks (reciprocal rank fusion, k = 60).
 */
import pgvector from 'pgvector'
import { type Store } from '../../../../core/plugins/api.ts'
import { toNumber } from '../../../store/kit/sql.ts'
import type { CollectionRecord, SearchFilter, SearchHit } from '../../../contracts/rag.ts'
import { filterSql } from './filters.ts'

const RRF_K = 60
/** How many candidates each ranking contributes to a fusion, per hit asked for. */
const CANDIDATES_PER_HIT = 4

type Row = Record<string, unknown>

const HIT_COLUMNS = 'c.id, c.document_id, c.collection_id, c.text, c.page, c.heading, c.start_offset, c.end_offset, d.file_id, d.filename, d.attributes'

function hitOf(r: Row, score: number): SearchHit {
  return {
    collectionId: String(r.collection_id),
    documentId: String(r.document_id),
    fileId: (r.file_id as string | null) ?? null,
    filename: String(r.filename),
    attributes: (r.attributes ?? {}) as Record<string, string | number | boolean>,
    text: String(r.text),
    score,
    page: r.page === null || r.page === undefined ? null : toNumber(r.page),
    heading: (r.heading as string | null) ?? null,
    startOffset: toNumber(r.start_offset),
    endOffset: toNumber(r.end_offset),
  }
}

export interface CollectionQuery {
  readonly collection: CollectionRecord
  readonly vector: readonly number[]
  readonly text: string
  readonly topK: number
  readonly filters?: SearchFilter
  readonly hybrid: boolean
}

export function chunkSearch(store: Store, options: { iterativeScan: boolean }) {
  /**
   * The query text goes into SQL as parameters; the collection id and dimension are inlined so
   * the planner matches the collection's partial index (both come from our own row: a UUID and
   * an integer).
   */
  async function nearest(q: CollectionQuery, limit: number): Promise<{ row: Row; distance: number }[]> {
    const dims = Math.trunc(q.collection.dimensions)
    const params: unknown[] = [pgvector.toSql(q.vector), limit]
    const filter = q.filters ? `AND ${filterSql(q.filters, params)}` : ''
    const text = `SELECT ${HIT_COLUMNS}, c.embedding::vector(${dims}) <=> $1::vector(${dims}) AS distance
      FROM rag_chunks c JOIN rag_documents d ON d.id = c.document_id AND d.ready_ingest = c.ingest_id
      WHERE c.collection_id = '${q.collection.id}' ${filter}
      ORDER BY c.embedding::vector(${dims}) <=> $1::vector(${dims}) LIMIT $2`
    // The index yields ef_search candidates before the join and filters drop some: ask for enough,
    // and let pgvector >= 0.8 scan on until the limit is met (iterative scan).
    const rows = await store.transaction(async (tx) => {
      await tx.query(`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(40, limit * 2))}`)
      if (options.iterativeScan) await tx.query(`SET LOCAL hnsw.iterative_scan = relaxed_order`)
      return (await tx.query<Row>(text, params)).rows
    })
    return rows.map((row) => ({ row, distance: Number(row.distance) }))
  }

  async function fullText(q: CollectionQuery, limit: number): Promise<Row[]> {
    const params: unknown[] = [q.text, limit]
    const filter = q.filters ? `AND ${filterSql(q.filters, params)}` : ''
    // Any of the query's words (plainto_tsquery ANDs them; a question rarely has every word of its passage).
    const { rows } = await store.sql.query<Row>(
      `SELECT ${HIT_COLUMNS} FROM rag_chunks c JOIN rag_documents d ON d.id = c.document_id AND d.ready_ingest = c.ingest_id
         CROSS JOIN CAST(replace(CAST(plainto_tsquery('english', $1) AS text), '&', '|') AS tsquery) AS q
       WHERE c.collection_id = '${q.collection.id}' AND q::text <> '' AND c.tsv @@ q ${filter}
       ORDER BY ts_rank_cd(c.tsv, q) DESC, c.id LIMIT $2`,
      params,
    )
    return rows
  }

  return {
    async search(q: CollectionQuery): Promise<SearchHit[]> {
      if (!q.hybrid) return (await nearest(q, q.topK)).map(({ row, distance }) => hitOf(row, 1 - distance))
      const n = q.topK * CANDIDATES_PER_HIT
      const [byVector, byText] = await Promise.all([nearest(q, n), fullText(q, n)])
      const fused = new Map<string, { row: Row; score: number }>()
      const add = (row: Row, rank: number): void => {
        const key = String(row.id)
        const entry = fused.get(key) ?? { row, score: 0 }
        entry.score += 1 / (RRF_K + rank + 1)
        fused.set(key, entry)
      }
      byVector.forEach(({ row }, rank) => add(row, rank))
      byText.forEach((row, rank) => add(row, rank))
      return [...fused.values()].sort((a, b) => b.score - a.score).slice(0, q.topK).map(({ row, score }) => hitOf(row, score))
    },
  }
}

/** Whether the store's pgvector scans an HNSW index iteratively (0.8 and later). */
export async function hasIterativeScan(store: Store): Promise<boolean> {
  const { rows } = await store.sql.query<{ extversion: string }>(`SELECT extversion FROM pg_extension WHERE extname = 'vector'`)
  const [major = 0, minor = 0] = (rows[0]?.extversion ?? '0.0').split('.').map(Number)
  return major > 0 || minor >= 8
}
