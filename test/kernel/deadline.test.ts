import { afterEach, describe, expect, it, vi } from 'vitest'
import { withDeadline, within } from '../../plugin-api/index.ts'

describe('withDeadline (the plugin API)', () => {
  afterEach(() => { vi.useRealTimers() })

  it('gives the value or the failure of a promise that settles in time, and leaves no timer behind', async () => {
    vi.useFakeTimers()
    await expect(withDeadline(Promise.resolve(42), 1000)).resolves.toBe(42)
    await expect(withDeadline(Promise.reject(new Error('refused')), 1000)).rejects.toThrow('refused')
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects with its message once the time is up, and is not moved by a late answer', async () => {
    vi.useFakeTimers()
    let answer!: (value: string) => void
    const late = withDeadline(new Promise<string>((resolve) => { answer = resolve }), 50, 'the cache did not answer')
    const outcome = late.then(() => 'resolved', (err: Error) => err.message)
    await vi.advanceTimersByTimeAsync(50)
    answer('too late')
    expect(await outcome).toBe('the cache did not answer')
  })

  it('names the time in its default message; within() says whether work ended in time', async () => {
    const never = new Promise(() => {})
    await expect(withDeadline(never, 10)).rejects.toThrow('no answer within 10 ms')
    await expect(within(Promise.reject(new Error('x')), 100)).resolves.toBe('done')
    await expect(within(never, 10)).resolves.toBe('timeout')
  })
})
