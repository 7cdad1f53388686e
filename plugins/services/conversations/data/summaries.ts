/** A thread's summary of its older turns (the `summarize` context policy), kept on its chat_threads row. */
import { type SqlClient } from '../../../../plugin-api/index.ts'
import { toNumber } from '../../../store/kit/sql.ts'

export interface ThreadSummary {
  readonly text: string
  /** The seq of the last item it covers: the items after it are sent as they are. */
  readonly throughSeq: number
  readonly tokens: number
}

export interface ThreadSummaries {
  read(threadId: string): Promise<ThreadSummary | undefined>
  /** Keep `summary` unless the thread already has one that covers more (two turns at once). */
  save(threadId: string, summary: ThreadSummary): Promise<void>
}

export function threadSummaries(sql: SqlClient): ThreadSummaries {
  return {
    async read(threadId) {
      const { rows } = await sql.query<{ summary: string | null; summary_through_seq: string | number | null; summary_tokens: number | null }>(
        'SELECT summary, summary_through_seq, summary_tokens FROM chat_threads WHERE id = $1', [threadId],
      )
      const row = rows[0]
      return row?.summary != null && row.summary_through_seq != null ? { text: row.summary, throughSeq: toNumber(row.summary_through_seq), tokens: row.summary_tokens ?? 0 } : undefined
    },
    async save(threadId, summary) {
      await sql.query(
        `UPDATE chat_threads SET summary = $2, summary_through_seq = $3, summary_tokens = $4
         WHERE id = $1 AND (summary_through_seq IS NULL OR summary_through_seq < $3)`,
        [threadId, summary.text, summary.throughSeq, summary.tokens],
      )
    },
  }
}
