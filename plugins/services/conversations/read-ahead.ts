/**
 * A stream with its first element read ahead, and the whole stream still to read from the start.
 * A streamed turn waits a moment for the upstream's first chunk before it says anything, so that
 * response.created can name the model the upstream reports (OpenAI names the resolved model in
 * every event). The wait is bounded: a reasoning model may think for a minute before its first
 * chunk, and a client needs response.created (its id, to cancel or to follow) at once, not then.
 * A stream that fails before its first element fails where it is read, as before.
 */
export interface ReadAhead<T> {
  /** The first element, if it came within the wait; undefined for an empty stream, one that failed, or a slow one. */
  readonly first: T | undefined
  /** Every element, the first included; stopping early stops the source. */
  readonly stream: AsyncIterable<T>
}

export async function readAhead<T>(source: AsyncIterable<T>, waitMs: number): Promise<ReadAhead<T>> {
  const it = source[Symbol.asyncIterator]()
  const head = it.next().then((r) => ({ r }), (error: unknown) => ({ error }))
  let timer: NodeJS.Timeout | undefined
  const early = await Promise.race([head, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), waitMs) })])
  clearTimeout(timer)
  async function* all(): AsyncGenerator<T> {
    const first = await head
    if ('error' in first) throw first.error
    if (first.r.done) return
    let delegated = false
    try {
      yield first.r.value
      delegated = true
      // Delegating passes a consumer's early stop (return) on to the source.
      yield* { [Symbol.asyncIterator]: () => it }
    } finally {
      // A consumer that stops at the first element never reached the delegation: stop the source here.
      if (!delegated) await it.return?.()
    }
  }
  return { first: early && 'r' in early && !early.r.done ? early.r.value : undefined, stream: all() }
}
