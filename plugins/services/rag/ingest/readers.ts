/**
 * The threads documents are read in (extract.ts), kept and reused: starting one costs more than
 * reading a small file (the TypeScript loader and pdf.js loaded again each time), so a thread that
 * has read a document is kept idle for the next, up to `concurrency` idle at once, for IDLE_MS. A
 * thread stopped for a bound (timeout, memory), or that crashed (out of heap, an uncaught error),
 * is never taken again, and is replaced at once (started idle), so the next document does not wait
 * for a thread to start. A thread is retired after MAX_READS documents, so what a parser leaves
 * behind cannot pile up. Threads are keyed by their heap bound (`heap_mb`: a reload that changes it
 * gets new ones, and the old ones retire idle). An idle thread does not keep the process alive.
 * Process-wide, as extract.ts's bound on documents read at once.
 */
import { Worker } from 'node:worker_threads'

/** How long an idle thread is kept for the next document. */
const IDLE_MS = 30_000
/** Documents one thread reads before it is retired. */
const MAX_READS = 100

export interface ReaderThread {
  readonly worker: Worker
  readonly heapMb: number
  reads: number
  /** Stopped or exited: never taken again. */
  dead: boolean
  idleTimer?: NodeJS.Timeout
}

const idle: ReaderThread[] = []
let started = 0

/** Threads started so far, and those idle now (tests; what a metric would show). */
export const readerThreads = (): { readonly started: number; readonly idle: readonly { readonly threadId: number; readonly heapMb: number }[] } =>
  ({ started, idle: idle.map((r) => ({ threadId: r.worker.threadId, heapMb: r.heapMb })) })

/** An idle thread with heap bound `heapMb`, else a new one. */
export function takeReader(heapMb: number): ReaderThread {
  const at = idle.findIndex((r) => r.heapMb === heapMb)
  if (at < 0) return startReader(heapMb)
  const [reader] = idle.splice(at, 1)
  clearTimeout(reader.idleTimer)
  reader.worker.ref()
  return reader
}

/** A thread done with a document: kept for the next one (`keepIdle` at most), or stopped. */
export function returnReader(reader: ReaderThread, keepIdle: number): void {
  reader.reads++
  if (reader.dead || reader.reads >= MAX_READS || idleOf(reader.heapMb) >= keepIdle) return stopReader(reader)
  park(reader)
}

/** Stop a thread (past a bound, crashed, or not kept): never taken again. `replaceUpTo`: a new one is started idle in its place, while fewer are idle. */
export function stopReader(reader: ReaderThread, replaceUpTo = 0): void {
  reader.dead = true
  drop(reader)
  void reader.worker.terminate()
  if (idleOf(reader.heapMb) < replaceUpTo) park(startReader(reader.heapMb))
}

/** Threads idle with heap bound `heapMb` (those of another, from before a reload, retire after IDLE_MS). */
const idleOf = (heapMb: number): number => idle.reduce((n, r) => n + (r.heapMb === heapMb ? 1 : 0), 0)

function startReader(heapMb: number): ReaderThread {
  const worker = new Worker(new URL('../../kit/worker-entry.mjs', import.meta.url), {
    workerData: { entry: new URL('./extract-worker.ts', import.meta.url).href }, resourceLimits: { maxOldGenerationSizeMb: heapMb },
  })
  const reader: ReaderThread = { worker, heapMb, reads: 0, dead: false }
  started++
  // One that fails or exits while idle (a replacement out of heap as it starts) leaves the pool, and
  // its error is not the process's (an 'error' no one listens to would throw); while reading, its reader sees both.
  worker.on('error', () => undefined).once('exit', () => { reader.dead = true; drop(reader) })
  return reader
}

/** Keep `reader` idle for the next document, for IDLE_MS, without keeping the process alive. */
function park(reader: ReaderThread): void {
  reader.worker.unref()
  reader.idleTimer = setTimeout(() => stopReader(reader), IDLE_MS).unref()
  idle.push(reader)
}

function drop(reader: ReaderThread): void {
  clearTimeout(reader.idleTimer)
  const at = idle.indexOf(reader)
  if (at >= 0) idle.splice(at, 1)
}
