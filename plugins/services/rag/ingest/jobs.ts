/**
 * Where ingests run. With a queue configured (`queue:`), a document is published to the
 * `rag.ingest` topic and whichever process runs jobs consumes it; without one, it runs in this
 * process. Either way, a process that runs jobs sweeps the table now and then for documents left
 * waiting (a crash, a lost message): the claim in the repository makes running one twice harmless.
 */
import { randomUuid, type Logger } from '../../../../plugin-api/index.ts'
import type { Queue } from '../../../contracts/queue.ts'

export const INGEST_TOPIC = 'rag.ingest'

export interface IngestJobs {
  /** Ingest this document soon (in the background). */
  submit(documentId: string): Promise<void>
  /** Stop taking work; running ingests are aborted (their leases run out and they are taken up again). */
  dispose(): Promise<void>
}

export interface IngestJobsOptions {
  readonly queue: Queue | undefined
  readonly runsJobs: boolean
  readonly concurrency: number
  readonly sweepMs: number
  readonly logger: Logger
  run(documentId: string, signal: AbortSignal): Promise<void>
  pending(limit: number): Promise<string[]>
}

export async function startIngestJobs(options: IngestJobsOptions): Promise<IngestJobs> {
  const { queue, runsJobs, logger } = options
  const aborter = new AbortController()
  const waiting: string[] = []
  const known = new Set<string>()
  const running = new Set<Promise<void>>()

  /** Run documents here, `concurrency` at a time. */
  const runLocally = (id: string): void => {
    if (aborter.signal.aborted || known.has(id)) return
    known.add(id)
    waiting.push(id)
    pump()
  }
  const pump = (): void => {
    while (running.size < options.concurrency && waiting.length) {
      const id = waiting.shift()!
      const job: Promise<void> = options.run(id, aborter.signal)
        .catch((err: Error) => logger.error({ document: id, err: err.message }, 'ingest job failed'))
        .finally(() => {
          running.delete(job)
          known.delete(id)
          pump()
        })
      running.add(job)
    }
  }

  let stopConsumer: (() => Promise<void>) | undefined
  if (queue && runsJobs) {
    stopConsumer = await queue.consume<{ documentId: string }>(INGEST_TOPIC, (msg) => options.run(msg.body.documentId, aborter.signal), { prefetch: options.concurrency })
  }

  let sweeping = false
  const sweep = async (): Promise<void> => {
    if (sweeping || aborter.signal.aborted) return
    sweeping = true
    try {
      for (const id of await options.pending(100)) runLocally(id)
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not look for documents waiting to be ingested')
    } finally {
      sweeping = false
    }
  }
  const timer = runsJobs ? setInterval(() => void sweep(), options.sweepMs).unref() : undefined
  if (runsJobs) void sweep()

  return {
    async submit(documentId) {
      if (queue) await queue.publish(INGEST_TOPIC, { documentId }, { id: randomUuid() })
      else if (runsJobs) runLocally(documentId)
    },
    async dispose() {
      clearInterval(timer)
      aborter.abort()
      await stopConsumer?.()
      await Promise.allSettled([...running])
    },
  }
}
