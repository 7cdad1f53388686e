/** The kit's loadOnce, which every provider uses for its SDK client: made once, shared, and tried again after a failed load. */
import { describe, expect, it } from 'vitest'
import { loadOnce } from '../../plugins/providers/kit/provider-kit.ts'

describe('loadOnce', () => {
  it('loads once and shares the result, also between calls made while it loads', async () => {
    let loads = 0
    const load = loadOnce(async () => ({ client: ++loads }))
    const [a, b] = await Promise.all([load(), load()])
    expect(a).toBe(b)
    expect(await load()).toBe(a)
    expect(loads).toBe(1)
  })

  it('does not keep a failed load: the next call loads again', async () => {
    let loads = 0
    const load = loadOnce(async () => {
      if (++loads === 1) throw new Error('the SDK could not be imported')
      return 'client'
    })
    await expect(load()).rejects.toThrow('could not be imported')
    expect(await load()).toBe('client')
    expect(await load()).toBe('client')
    expect(loads).toBe(2)
  })
})
