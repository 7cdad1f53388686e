/**
 * The exchanges this page runs, each belonging to its thread: the question and the answer as it
 * streams, the Stop that ends it, and the question last sent there (what Retry and Edit rewind
 * to). Kept outside the page, by thread id, so opening another thread leaves an answer streaming
 * in its own (its Stop ends that answer only, and the other thread's composer stays free), and
 * coming back shows it as far as it got, or kept once it ended.
 */
import { useSyncExternalStore } from 'react'
import type { ChatTurn } from './bubble'

/** The key of a new chat's exchange until its thread is made. */
export const NEW_CHAT = ''

export interface Run {
  /** The page's own copy of the exchange (question, answer), until the gateway's replaces it. */
  readonly live: readonly ChatTurn[]
  /** The answer streaming now, if any: aborting it stops that answer. */
  readonly controller?: AbortController
  /** The question sent last and the stored message it followed. */
  readonly lastSent?: { readonly text: string; readonly after: string | null }
}

const EMPTY: Run = { live: [] }
let runs = new Map<string, Run>()
/**
 * The thread the new chat on screen became, until the page is at that thread's address. The page
 * shows it from the moment its exchange moves there: the router's move to /chat/<id> is a
 * transition, which a busy page (a delta every few ms) can hold back until the whole answer has
 * come, and the page still at /chat meanwhile showed neither the answer nor Stop.
 */
let madeThread: string | undefined
const listeners = new Set<() => void>()

function publish(next: Map<string, Run>): void {
  runs = next
  for (const listener of listeners) listener()
}

export function runOf(key: string): Run {
  return runs.get(key) ?? EMPTY
}

/** Change one thread's run (its other fields stay). */
export function updateRun(key: string, change: (run: Run) => Run): void {
  const next = new Map(runs)
  next.set(key, change(runOf(key)))
  publish(next)
}

/** One turn of a thread's live exchange changed (a delta arrived, it stopped or failed). */
export function updateTurn(key: string, turnId: string, change: (turn: ChatTurn) => ChatTurn): void {
  updateRun(key, (run) => ({ ...run, live: run.live.map((t) => (t.id === turnId ? change(t) : t)) }))
}

/** The new chat's exchange, now that its thread is made, goes with it, and the page shows that thread (in one change: no frame without either). */
export function moveNewChat(to: string): void {
  const next = new Map(runs)
  next.set(to, runOf(NEW_CHAT))
  next.delete(NEW_CHAT)
  madeThread = to
  publish(next)
}

/** The page is at another address, closed, or starts a new chat: it shows what its address says. */
export function forgetMadeThread(): void {
  if (madeThread === undefined) return
  madeThread = undefined
  publish(runs)
}

/**
 * Forget the exchanges that ended, except `keep`'s: a thread opened again shows the gateway's copy
 * (a stopped answer is kept there, marked incomplete), not a second one of the page's.
 */
export function forgetEnded(keep: string): void {
  const next = new Map([...runs].filter(([key, run]) => key === keep || run.controller))
  if (next.size !== runs.size) publish(next)
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** The thread the new chat on screen became, while the page's address has not caught up. */
export function useMadeThread(): string | undefined {
  return useSyncExternalStore(subscribe, () => madeThread)
}

/** The run of thread `key`, rendered again when it changes. */
export function useRun(key: string): Run {
  return useSyncExternalStore(subscribe, () => runOf(key))
}

/** Whether thread `key`'s answer is streaming now; rendered again only when that changes (not per delta). */
export function useAnswering(key: string): boolean {
  return useSyncExternalStore(subscribe, () => runOf(key).controller !== undefined)
}
