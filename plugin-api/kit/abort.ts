/**
 * Aborting without an AbortSignal until one is asked for. Node 20 makes an AbortSignal slowly, and
 * its listeners are EventTarget's: one signal and one listener per request cost a passthrough
 * request ~13% of its CPU (bench/ab.ts, a shared signal against one per request). A call's abort
 * source is a LazyAbort (the kernel's, for the client's connection and an attempt's timers); code
 * that waits on it takes a listener with `onAbort`, and reads `signal` only to hand it to an API
 * that wants one.
 */

/** What a call can be aborted by: a signal, or something that makes one only when read (a ProviderCall, a LazyAbort). */
export type AbortSource = AbortSignal | { readonly signal: AbortSignal; readonly aborted?: boolean; onAbort?(listener: (reason: unknown) => void): () => void }

/** An abort source whose AbortSignal is made when first read. */
export class LazyAbort {
  #controller: AbortController | undefined
  #aborted = false
  #reason: unknown
  #listeners: ((reason: unknown) => void)[] | undefined

  get aborted(): boolean {
    return this.#aborted
  }

  get reason(): unknown {
    return this.#reason
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  /** `listener` called once when this aborts (at once if it has); returns what removes it. */
  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.#aborted) {
      listener(this.#reason)
      return () => {}
    }
    (this.#listeners ??= []).push(listener)
    return () => {
      const at = this.#listeners?.indexOf(listener) ?? -1
      if (at >= 0) this.#listeners!.splice(at, 1)
    }
  }

  abort(reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
    const listeners = this.#listeners
    this.#listeners = undefined
    for (const listener of listeners ?? []) listener(reason)
  }
}

/** Whether `source` aborted, without making its signal. */
export function isAborted(source: AbortSource): boolean {
  return source instanceof AbortSignal ? source.aborted : (source.aborted ?? source.signal.aborted)
}

/** Why `source` aborted (its signal is made, if it was not, only now: an abort is rare). */
export function abortReason(source: AbortSource): unknown {
  return source instanceof AbortSignal ? source.reason : source.signal.reason
}

/** `listener` called once when `source` aborts (at once if it has), without making its signal where it can; returns what removes it. */
export function onAbort(source: AbortSource, listener: (reason: unknown) => void): () => void {
  if (!(source instanceof AbortSignal) && source.onAbort) return source.onAbort(listener)
  const signal = source instanceof AbortSignal ? source : source.signal
  if (signal.aborted) {
    listener(signal.reason)
    return () => {}
  }
  const fire = (): void => listener(signal.reason)
  signal.addEventListener('abort', fire, { once: true })
  return () => signal.removeEventListener('abort', fire)
}
