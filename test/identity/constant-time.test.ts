/**
 * Config keys are compared in constant time: the presented key's sha256 against every configured
 * key's with timingSafeEqual, never stopping at the first match, so neither a key's prefix nor its
 * position in the list changes the work done.
 */
import { describe, expect, it, vi } from 'vitest'
import type { PluginContext } from '../../plugin-api/types.ts'
import { testLogger } from '../helpers/gateway.ts'

const compare = vi.hoisted(() => ({ calls: 0 }))
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>()
  const timingSafeEqual: typeof crypto.timingSafeEqual = (a, b) => {
    compare.calls++
    return crypto.timingSafeEqual(a, b)
  }
  return { ...crypto, default: { ...crypto, timingSafeEqual }, timingSafeEqual }
})

const { default: apiKey } = await import('../../plugins/auth/api-key/index.ts')

const KEYS = ['first-key-0123456789abcdef', 'second-key-0123456789abcde', 'third-key-0123456789abcdef']

function strategy() {
  const ctx = { id: 'auth.api-key', name: 'api-key#0', logger: testLogger(), configDir: '.', tryGet: () => undefined, provide: () => undefined } as unknown as PluginContext
  return apiKey.setup(ctx, { keys: KEYS.map((key, i) => ({ key, user: `u${i}`, role: 'user' })), cache_ttl_s: 30, cache_size: 10 }) as Awaited<ReturnType<typeof apiKey.setup>>
}
const headers = (key: string) => ({ headers: { authorization: `Bearer ${key}` }, method: 'POST', path: '/v1/chat/completions' })

describe('config key comparison', () => {
  it('compares against every configured key whether the match is first, last, or nowhere', async () => {
    const auth = await strategy()
    for (const [presented, expected] of [[KEYS[0], 'config:u0'], [KEYS[2], 'config:u2'], ['first-key-0123456789abcdeX', undefined]] as const) {
      compare.calls = 0
      const principal = await auth.authenticate(headers(presented)).catch(() => undefined)
      expect(principal?.userId).toBe(expected)
      expect(compare.calls).toBe(KEYS.length)
    }
  })

  it('takes as long for a key sharing a configured key\'s prefix as for an unrelated one', async () => {
    const auth = await strategy()
    const time = async (key: string) => {
      const start = process.hrtime.bigint()
      await auth.authenticate(headers(key)).catch(() => undefined)
      return Number(process.hrtime.bigint() - start)
    }
    const nearly: number[] = []
    const unrelated: number[] = []
    for (let i = 0; i < 4000; i++) {
      nearly.push(await time('first-key-0123456789abcdeX'))
      unrelated.push(await time('zzzzzzzzzzzzzzzzzzzzzzzzzz'))
    }
    const median = (xs: number[]) => xs.sort((p, q) => p - q)[xs.length >> 1]
    const ratio = median(nearly) / median(unrelated)
    // Both paths hash the key and compare digests; noise aside, they are the same work.
    expect(ratio).toBeGreaterThan(0.7)
    expect(ratio).toBeLessThan(1.4)
  })
})
