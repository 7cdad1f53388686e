/**
 * Nearest chunks of one collection: cosine distance on the collection's own HNSW index (a partial
 * index on `embedding::vector(<dims>)`, see repository.ts), only chunks of each document's
 * completed ingest, optionally filtered by attributes; and, for hybrid search, PostgreSQL
 * full-text ranks in the collection's language (over a bounded candidate set, see fullTextSql) fused with the vector ranks
 * (reciprocal rank fusion, k = 60, each ranking weighted, 1 and 1 unless asked; the fused score
 * scaled so that first in both rankings is 1).
 */
import pgvector from 'pgvector'
import { type Store } from '../../../../plugin-api/index.ts'
import { toNumber } from '../../../store/kit/sql.ts'
import type { HybridWeights, SearchFilter, SearchHit } from '../../../contracts/rag.ts'
import type { CollectionRow } from './repository.ts'
import { filterSql } from './filters.ts'

const RRF_K = 60
/** How many candidates each ranking contributes to a fusion, per hit asked for. */
const CANDIDATES_PER_HIT = 4
/** At most this many chunks holding every query word are ranked by full text (besides the vector candidates). */
const TEXT_MATCHES = 500
/** A query word found in fewer chunks than this is rare: all its chunks are ranked by full text. */
const TERM_MATCHES = 200
/** The longest words of a query that are looked up one by one. */
const MAX_TERMS = 24

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
  readonly collection: CollectionRow
  readonly vector: readonly number[]
  readonly text: string
  readonly topK: number
  readonly filters?: SearchFilter
  readonly hybrid: boolean
  /** Each ranking's weight in the fusion (default 1 and 1). */
  readonly weights?: HybridWeights
}

/** A statement with the session settings it runs under (SET LOCAL, inside one transaction). */
export interface Statement {
  readonly text: string
  readonly params: unknown[]
  readonly settings: readonly string[]
}

export function chunkSearch(store: Store, options: { iterativeScan: boolean }) {
  /**
   * The query text goes into SQL as parameters; the collection id and dimension are inlined so
   * the planner matches the collection's partial index (both come from our own row: a UUID and
   * an integer).
   */
  function nearestSql(q: CollectionQuery, limit: number): Statement {
    const dims = Math.trunc(q.collection.dimensions)
    const params: unknown[] = [pgvector.toSql(q.vector), limit]
    const filter = q.filters ? `AND ${filterSql(q.filters, params)}` : ''
    const text = `SELECT ${HIT_COLUMNS}, c.embedding::vector(${dims}) <=> $1::vector(${dims}) AS distance
      FROM rag_chunks c JOIN rag_documents d ON d.id = c.document_id AND d.ready_ingest = c.ingest_id
      WHERE c.collection_id = '${q.collection.id}' ${filter}
      ORDER BY c.embedding::vector(${dims}) <=> $1::vector(${dims}) LIMIT $2`
    // The index yields ef_search candidates before the join and filters drop some: ask for enough,
    // and let pgvector >= 0.8 scan on until the limit is met (iterative scan).
    const settings = [`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.max(40, limit * 2))}`]
    if (options.iterativeScan) settings.push('SET LOCAL hnsw.iterative_scan = relaxed_order')
    return { text, params, settings }
  }

  async function nearest(q: CollectionQuery, limit: number): Promise<{ row: Row; distance: number }[]> {
    const { text, params, settings } = nearestSql(q, limit)
    const rows = await store.transaction(async (tx) => {
      await tx.exec(settings.join('; '))
      return (await tx.query<Row>(text, params)).rows
    })
    return rows.map((row) => ({ row, distance: Number(row.distance) }))
  }

  /**
   * Full-text ranks over a bounded candidate set, so a common word never makes it scan the
   * collection: the vector search's candidates; chunks holding every word of the query (through
   * the GIN index, at most TEXT_MATCHES); and every chunk holding a rare word of the query — each
   * of its words (the MAX_TERMS longest) is looked up in the GIN index up to TERM_MATCHES chunks,
   * and a word found fewer times is rare, so all its chunks are candidates (an error code or a
   * product name that the vectors miss). Words the table's statistics (ANALYZE's most common
   * elements) put in more than TERM_MATCHES chunks are common without a look-up (the costly
   * ones: a common word's GIN bitmap is large). A candidate weighs the inverse frequency of the
   * query words it holds (ln(1 + TERM_MATCHES / found), a word found TERM_MATCHES times counting as
   * common), then ts_rank_cd (frequency and proximity) breaks ties.
   */
  function fullTextSql(q: CollectionQuery, limit: number, vectorCandidates: readonly string[]): Statement {
    // $6: the collection's text search configuration (text-search.ts), as its chunks' tsv were written.
    const params: unknown[] = [q.text, limit, TEXT_MATCHES, vectorCandidates, TERM_MATCHES, q.collection.textSearch]
    const filter = q.filters ? `AND ${filterSql(q.filters, params)}` : ''
    const inCollection = `c.collection_id = '${q.collection.id}'`
    const text = `WITH common AS (
        SELECT u.e AS t FROM pg_stats s CROSS JOIN LATERAL unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(e, f)
        WHERE s.schemaname = current_schema() AND s.tablename = 'rag_chunks' AND s.attname = 'tsv' AND u.e IS NOT NULL
          AND u.f * (SELECT reltuples FROM pg_class WHERE oid = 'rag_chunks'::regclass) > $5),
      terms AS (
        SELECT t, quote_literal(t)::tsquery AS tq FROM unnest(tsvector_to_array(to_tsvector($6::regconfig, $1))) AS t
        ORDER BY length(t) DESC, t LIMIT ${MAX_TERMS}),
      rare_terms AS (SELECT * FROM terms WHERE t NOT IN (SELECT t FROM common)),
      term_hits AS (
        SELECT r.t, m.id FROM rare_terms r CROSS JOIN LATERAL (SELECT c.id FROM rag_chunks c WHERE ${inCollection} AND c.tsv @@ r.tq LIMIT $5) m),
      found AS (SELECT t, count(*)::float8 AS n FROM term_hits GROUP BY t
        UNION ALL SELECT t, $5::float8 FROM terms WHERE t IN (SELECT t FROM common)),
      candidates AS (
        SELECT h.id FROM term_hits h JOIN found f ON f.t = h.t WHERE f.n < $5
        UNION (SELECT c.id FROM rag_chunks c WHERE ${inCollection} AND c.tsv @@ plainto_tsquery($6::regconfig, $1) LIMIT $3)
        UNION SELECT unnest($4::bigint[]))
      SELECT ${HIT_COLUMNS}, w.weight FROM candidates k JOIN rag_chunks c ON c.id = k.id
        JOIN rag_documents d ON d.id = c.document_id AND d.ready_ingest = c.ingest_id
        CROSS JOIN LATERAL (SELECT sum(ln(1 + $5::float8 / f.n)) AS weight FROM found f JOIN terms ON terms.t = f.t WHERE c.tsv @@ terms.tq) AS w
        CROSS JOIN CAST(replace(CAST(plainto_tsquery($6::regconfig, $1) AS text), '&', '|') AS tsquery) AS q
      WHERE w.weight IS NOT NULL ${filter}
      ORDER BY w.weight DESC, ts_rank_cd(c.tsv, q) DESC, c.id LIMIT $2`
    return { text, params, settings: [] }
  }

  async function fullText(q: CollectionQuery, limit: number, vectorCandidates: readonly string[]): Promise<Row[]> {
    const { text, params } = fullTextSql(q, limit, vectorCandidates)
    return (await store.sql.query<Row>(text, params)).rows
  }

  return {
    /** The statements a hybrid search runs, to EXPLAIN (bench/rag-search.ts). */
    explainable: (q: CollectionQuery, vectorCandidates: readonly string[]): Record<string, Statement> => ({
      vector: nearestSql(q, q.topK * CANDIDATES_PER_HIT), 'full text': fullTextSql(q, q.topK * CANDIDATES_PER_HIT, vectorCandidates),
    }),
    async search(q: CollectionQuery): Promise<SearchHit[]> {
      if (!q.hybrid) return (await nearest(q, q.topK)).map(({ row, distance }) => hitOf(row, 1 - distance))
      const n = q.topK * CANDIDATES_PER_HIT
      const byVector = await nearest(q, n)
      const byText = await fullText(q, n, byVector.map(({ row }) => String(row.id)))
      const { embedding, text } = q.weights ?? { embedding: 1, text: 1 }
      // Scaled so a chunk first in both rankings scores 1: a score threshold reads as with vector search.
      const best = (embedding + text) / (RRF_K + 1)
      const fused = new Map<string, { row: Row; score: number }>()
      const add = (row: Row, rank: number, weight: number): void => {
        const key = String(row.id)
        const entry = fused.get(key) ?? { row, score: 0 }
        entry.score += weight / (RRF_K + rank + 1) / best
        fused.set(key, entry)
      }
      byVector.forEach(({ row }, rank) => add(row, rank, embedding))
      byText.forEach((row, rank) => add(row, rank, text))
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
