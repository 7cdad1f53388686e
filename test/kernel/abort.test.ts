import { describe, expect, it } from 'vitest'
import { LazyAbort, abortReason, isAborted, onAbort } from '../../plugin-api/index.ts'

describe('LazyAbort (plugin-api/kit/abort.ts)', () => {
  it('calls its listeners once with the reason, and not those removed', () => {
    const abort = new LazyAbort()
    const heard: unknown[] = []
    onAbort(abort, (reason) => heard.push(['kept', reason]))
    const remove = onAbort(abort, (reason) => heard.push(['removed', reason]))
    remove()
    const reason = new Error('client closed the connection')
    abort.abort(reason)
    abort.abort(new Error('again'))
    expect(heard).toEqual([['kept', reason]])
    expect(isAborted(abort)).toBe(true)
    expect(abortReason(abort)).toBe(reason)
  })

  it('gives a signal that aborts with it, whether read before or after', () => {
    const before = new LazyAbort()
    const early = before.signal
    expect(early.aborted).toBe(false)
    before.abort(new Error('timed out'))
    expect(early.aborted).toBe(true)
    expect((early.reason as Error).message).toBe('timed out')
    const after = new LazyAbort()
    after.abort(new Error('gone'))
    expect(after.signal.aborted).toBe(true)
    expect((after.signal.reason as Error).message).toBe('gone')
  })

  it('calls a listener added after the abort at once', () => {
    const abort = new LazyAbort()
    abort.abort('why')
    let heard: unknown
    onAbort(abort, (reason) => { heard = reason })
    expect(heard).toBe('why')
  })

  it('takes an AbortSignal, or a call with only a signal, the same way', () => {
    const controller = new AbortController()
    const heard: unknown[] = []
    onAbort(controller.signal, (reason) => heard.push(reason))
    const remove = onAbort({ signal: controller.signal }, (reason) => heard.push(reason))
    remove()
    onAbort({ signal: controller.signal }, (reason) => heard.push(reason))
    expect(isAborted({ signal: controller.signal })).toBe(false)
    controller.abort('stop')
    expect(heard).toEqual(['stop', 'stop'])
    expect(isAborted(controller.signal)).toBe(true)
    expect(abortReason({ signal: controller.signal })).toBe('stop')
  })
})
