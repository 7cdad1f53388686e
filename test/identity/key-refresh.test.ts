/**
 * A virtual key in steady use is looked up again in the background before its cache entry
 * expires, so its requests never wait for the store at expiry; the entry is trusted no longer than
 * `cache_ttl_s` (a refresh that fails leaves it to expire as before, tried once), and a revoke seen
 * by a refresh applies at once.
 */
import { describe, expect, it } from 'vitest'
import { GatewayError, type Principal } from '../../plugin-api/index.ts'
import type { ApiKeyMatch, ApiKeyRepository } from '../../plugins/contracts/capabilities.ts'
import { VirtualKeys } from '../../plugins/auth/api-key/virtual-keys.ts'
import { testLogger } from '../helpers/gateway.ts'

const TTL_MS = 1000
const HASH = 'a'.repeat(64)
const RECORD: ApiKeyMatch = {
  id: 'key-1', prefix: 'gw-abc', name: null, userId: 'alice', department: null, role: 'user', allowedModels: null,
  limits: {}, createdAt: new Date(0), expiresAt: null, revokedAt: null, lastUsedAt: new Date(), previousPrefix: null, previousExpiresAt: null, createdBy: null, rotatedBy: null, secret: 'current',
}

/** A store whose lookups wait until the test answers them, counted. */
function slowStore() {
  const pending: Array<{ resolve: (record: ApiKeyMatch | undefined) => void; reject: (err: Error) => void }> = []
  let answer: { record: ApiKeyMatch } | undefined
  const keys = {
    findByHash: () => new Promise<ApiKeyMatch | undefined>((resolve, reject) => {
      pending.push({ resolve, reject })
      if (answer) resolve(answer.record)
    }),
    touchLastUsed: async () => {},
  } as unknown as ApiKeyRepository
  /** From now on every lookup (those waiting too) answers `record` at once. */
  const answerAll = (record: ApiKeyMatch): void => {
    answer = { record }
    for (const p of pending) p.resolve(record)
  }
  return { keys, pending, lookups: () => pending.length, answerAll }
}

function setup() {
  const store = slowStore()
  // lru-cache reads a start time of 0 as "no time kept": the test's clock starts later.
  const clock = { t: 0, now() { return 10_000 + this.t } }
  const virtualKeys = new VirtualKeys(store.keys, { ttlMs: TTL_MS, max: 10, clock }, testLogger())
  /** A request at time `t`: its answer if it came without waiting, else the promise. */
  const at = (t: number) => {
    clock.t = t
    return virtualKeys.authenticate(HASH)
  }
  const settle = () => new Promise((r) => setImmediate(r))
  return { store, at, settle, virtualKeys }
}

describe('virtual keys: refreshed before their cache entry expires', () => {
  it('a key in use is looked up again during the last fifth of its entry\'s time, while the entry still answers', async () => {
    const { store, at, settle } = setup()
    const first = at(0)
    expect(first).toBeInstanceOf(Promise)
    store.pending[0].resolve(RECORD)
    expect(((await first) as Principal).userId).toBe('alice')

    expect((at(700) as Principal).userId).toBe('alice')
    expect(store.lookups()).toBe(1)
    // Within the last 200 ms: answered from the entry, a lookup started beside it, once.
    expect((at(850) as Principal).userId).toBe('alice')
    expect((at(900) as Principal).userId).toBe('alice')
    expect(store.lookups()).toBe(2)
    store.pending[1].resolve(RECORD)
    await settle()
    // Past the first entry's end (1000), without waiting: the refresh at 900 started a new one.
    expect(at(1500)).not.toBeInstanceOf(Promise)
    expect(store.lookups()).toBe(2)
  })

  it('a refresh that finds the key revoked applies at once', async () => {
    const { store, at, settle } = setup()
    const first = at(0)
    store.pending[0].resolve(RECORD)
    await first
    at(900)
    store.pending[1].resolve({ ...RECORD, revokedAt: new Date() })
    await settle()
    expect(() => at(950)).toThrow(/revoked/)
  })

  it('a refresh that fails leaves the entry to expire as it would have, tried once, and the store\'s failure is a 503 after', async () => {
    const { store, at, settle } = setup()
    const first = at(0)
    store.pending[0].resolve(RECORD)
    await first
    at(850)
    store.pending[1].reject(new Error('connection refused'))
    await settle()
    // Still the entry's answer, and no lookup per request against a store that is down.
    expect((at(900) as Principal).userId).toBe('alice')
    expect((at(990) as Principal).userId).toBe('alice')
    expect(store.lookups()).toBe(2)
    // Expired: the request waits for the store, whose failure it reports.
    const after = at(1001)
    expect(after).toBeInstanceOf(Promise)
    store.pending[2].reject(new Error('connection refused'))
    const failure = await (after as Promise<Principal>).catch((err: unknown) => err)
    expect(failure).toBeInstanceOf(GatewayError)
    expect((failure as GatewayError).status).toBe(503)
  })

  it('a revoke while the entry is being refreshed drops it: the refresh, read before the revoke, is not kept', async () => {
    const { store, at, settle, virtualKeys } = setup()
    const first = at(0)
    store.pending[0].resolve(RECORD)
    await first
    at(850)
    virtualKeys.forget({ type: 'key-changed', keyId: RECORD.id })
    store.pending[1].resolve(RECORD)
    await settle()
    const next = at(900)
    expect(next).toBeInstanceOf(Promise)
    store.answerAll({ ...RECORD, revokedAt: new Date() })
    await expect(next).rejects.toThrow(/revoked/)
  })

  it('a revoke while a key\'s first lookup is in flight makes that lookup read again', async () => {
    const { store, at, virtualKeys } = setup()
    const first = at(0)
    virtualKeys.forget({ type: 'key-changed', keyId: RECORD.id })
    store.pending[0].resolve(RECORD)
    await waitForLookups(store, 2)
    store.pending[1].resolve({ ...RECORD, revokedAt: new Date() })
    await expect(first).rejects.toThrow(/revoked/)
  })
})

async function waitForLookups(store: { lookups(): number }, n: number): Promise<void> {
  for (let i = 0; i < 100 && store.lookups() < n; i++) await new Promise((r) => setImmediate(r))
  expect(store.lookups()).toBe(n)
}
