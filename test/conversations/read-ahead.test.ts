import { describe, expect, it } from 'vitest'
import { readAhead } from '../../plugins/services/conversations/read-ahead.ts'

/** A source whose first element waits for `release()`: the test decides when the upstream answers. */
function heldSource(values: readonly string[]): { source: AsyncIterable<string>; release(): void; stopped: () => boolean } {
  let release!: () => void
  const gate = new Promise<void>((resolve) => { release = resolve })
  let stopped = false
  async function* generate(): AsyncGenerator<string> {
    try {
      await gate
      yield* values
    } finally {
      stopped = true
    }
  }
  return { source: generate(), release, stopped: () => stopped }
}

describe('readAhead (response.created names the upstream model when its first chunk comes soon)', () => {
  it('hands back the first element when it comes within the wait, and the stream from the start', async () => {
    const held = heldSource(['a', 'b', 'c'])
    held.release()
    const { first, stream } = await readAhead(held.source, 5_000)
    expect(first).toBe('a')
    const all: string[] = []
    for await (const value of stream) all.push(value)
    expect(all).toEqual(['a', 'b', 'c'])
  })

  it('does not wait past its bound for a slow first element (a reasoning model), and loses nothing of the stream', async () => {
    const held = heldSource(['a', 'b'])
    // Resolving at all while the source is still held is the proof: without the bound this would hang.
    const { first, stream } = await readAhead(held.source, 20)
    expect(first).toBeUndefined()
    held.release()
    const all: string[] = []
    for await (const value of stream) all.push(value)
    expect(all).toEqual(['a', 'b'])
  })

  it('fails where the stream is read when the source fails before its first element, and stops the source when the reader stops', async () => {
    async function* failing(): AsyncGenerator<string> { throw new Error('upstream gone') }
    const { first, stream } = await readAhead(failing(), 5_000)
    expect(first).toBeUndefined()
    await expect((async () => { for await (const _ of stream) { /* nothing */ } })()).rejects.toThrow('upstream gone')

    const held = heldSource(['a', 'b', 'c'])
    held.release()
    const ahead = await readAhead(held.source, 5_000)
    for await (const value of ahead.stream) if (value === 'a') break
    expect(held.stopped()).toBe(true)
  })
})
