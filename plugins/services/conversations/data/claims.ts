/**
 * A thread's claim: the turn answering in it now (chat_threads.claimed_by, until claimed_until).
 * One UPDATE takes it when it is free or expired, so two turns in two processes cannot both hold
 * it (PostgreSQL re-reads the row under its lock; the embedded store runs one statement at a time).
 * The holder renews it while it runs; a holder whose process died stops renewing and its claim
 * expires, by the database's clock (gateways' clocks may differ).
 */
import type { SqlClient } from '../../../../plugin-api/index.ts'

/** A claim held: `release()` frees the thread (once; later calls do nothing). */
export interface ThreadClaim {
  release(): Promise<void>
}

/**
 * Claim thread `threadId` for `holder` for `ttlMs`, renewed every third of it until released or
 * `signal` aborts (a request gone: its claim then lapses). Undefined when another holds it.
 */
export async function claimThread(sql: SqlClient, threadId: string, holder: string, ttlMs: number, signal: AbortSignal): Promise<ThreadClaim | undefined> {
  const ttl = `${ttlMs} milliseconds`
  const { rowCount } = await sql.query(
    `UPDATE chat_threads SET claimed_by = $2, claimed_until = now() + $3::interval
     WHERE id = $1 AND (claimed_by IS NULL OR claimed_until < now())`,
    [threadId, holder, ttl],
  )
  if (rowCount === 0) return undefined
  const renewing = setInterval(() => {
    void sql.query('UPDATE chat_threads SET claimed_until = now() + $3::interval WHERE id = $1 AND claimed_by = $2', [threadId, holder, ttl]).catch(() => undefined)
  }, Math.max(50, Math.floor(ttlMs / 3)))
  renewing.unref()
  const stop = (): void => clearInterval(renewing)
  signal.addEventListener('abort', stop, { once: true })
  let released: Promise<void> | undefined
  return {
    release() {
      stop()
      signal.removeEventListener('abort', stop)
      released ??= sql.query('UPDATE chat_threads SET claimed_by = NULL, claimed_until = NULL WHERE id = $1 AND claimed_by = $2', [threadId, holder]).then(() => undefined)
      return released
    },
  }
}
