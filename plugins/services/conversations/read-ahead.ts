/**
 * A stream with its first element read ahead, and the whole stream still to read from the start.
 * A streamed turn reads the upstream's first chunk before it says anything, so that
 * response.created can name the model the upstream reports (OpenAI names the resolved model in
 * every event). A stream that fails before its first element fails where it is read, as before.
 */
export interface ReadAhead<T> {
  /** The first element; undefined for an empty stream or one that failed before it. */
  readonly first: T | undefined
  /** Every element, the first included; stopping early stops the source. */
  readonly stream: AsyncIterable<T>
}

export async function readAhead<T>(source: AsyncIterable<T>): Promise<ReadAhead<T>> {
  const it = source[Symbol.asyncIterator]()
  const head = await it.next().then((r) => ({ r }), (error: unknown) => ({ error }))
  async function* all(): AsyncGenerator<T> {
    if ('error' in head) throw head.error
    if (head.r.done) return
    yield head.r.value
    // Delegating passes a consumer's early stop (return) on to the source.
    yield* { [Symbol.asyncIterator]: () => it }
  }
  return { first: 'r' in head && !head.r.done ? head.r.value : undefined, stream: all() }
}
