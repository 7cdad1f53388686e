/**
 * The data plugins' repositories, run unchanged against the embedded store and a real PostgreSQL
 * (the same SQL must mean the same thing on both), on tables their owners' migrations made:
 * identity's users and API keys, the usage stage's events.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GatewayError } from '../../plugin-api/errors.ts'
import type { OpenedStore } from '../../plugins/store/kit/store.ts'
import type { ApiKeyRepository, UsageEvent, UserRepository } from '../../plugins/contracts/capabilities.ts'
import { apiKeyRepository } from '../../plugins/services/identity/data/api-keys.ts'
import { hashApiKey, newApiKey } from '../../plugins/services/identity/data/keys.ts'
import { userRepository } from '../../plugins/services/identity/data/users.ts'
import { usageRepository, type UsageEventRepository } from '../../plugins/stages/usage/repository.ts'
import { IDENTITY_MIGRATIONS, migrateOwners, storeTargets, USAGE_MIGRATIONS } from './helpers.ts'

/** Resolve to the GatewayError a promise rejects with. */
async function gatewayError(promise: Promise<unknown>): Promise<GatewayError> {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  expect(err).toBeInstanceOf(GatewayError)
  return err as GatewayError
}

const HOUR = 3_600_000
const DAY1 = Date.parse('2025-03-01T00:00:00Z')
const DAY2 = Date.parse('2025-03-02T00:00:00Z')

/**
 * Usage fixture: 8 events over two UTC days. Expected numbers below are computed by hand.
 *   day 1: alice/research gpt-4o x3 (one 500), bob/sales claude x1 (429)
 *   day 2: alice/research gpt-4o x1, carol/research claude x2, anonymous (no user) mock x1
 */
function usageFixture(prefix: string): UsageEvent[] {
  const e = (n: number, at: number, fields: Partial<UsageEvent>): UsageEvent => ({
    eventId: randomUUID(), time: new Date(at), requestId: `${prefix}-${n}`, status: 200, latencyMs: 100, ...fields,
  })
  return [
    e(1, DAY1 + 1 * HOUR, { userId: 'alice', department: 'research', route: 'chat', provider: 'openai', model: 'gpt-4o', promptTokens: 10, completionTokens: 20, costUsd: 0.0105, latencyMs: 100, keyId: 'k1' }),
    e(2, DAY1 + 1 * HOUR + 60_000, { userId: 'alice', department: 'research', route: 'chat', provider: 'openai', model: 'gpt-4o', promptTokens: 30, completionTokens: 40, cachedTokens: 5, costUsd: 0.0200, latencyMs: 200, keyId: 'k1', streamed: true, ttftMs: 50 }),
    e(3, DAY1 + 2 * HOUR, { userId: 'alice', department: 'research', route: 'chat', provider: 'openai', model: 'gpt-4o', status: 500, errorType: 'upstream_error', attempts: 3, latencyMs: 300, keyId: 'k2' }),
    e(4, DAY1 + 5 * HOUR, { userId: 'bob', department: 'sales', route: 'fast', provider: 'anthropic', model: 'claude', status: 429, errorType: 'rate_limit_error', latencyMs: 400 }),
    e(5, DAY2 + 1 * HOUR, { userId: 'alice', department: 'research', route: 'chat', provider: 'openai', model: 'gpt-4o', promptTokens: 5, completionTokens: 5, costUsd: 0.0015, latencyMs: 50, cacheHit: true }),
    e(6, DAY2 + 3 * HOUR, { userId: 'carol', department: 'research', route: 'fast', provider: 'anthropic', model: 'claude', promptTokens: 100, completionTokens: 200, costUsd: 0.25, latencyMs: 1000 }),
    e(7, DAY2 + 3 * HOUR + 1, { userId: 'carol', department: 'research', route: 'fast', provider: 'anthropic', model: 'claude', promptTokens: 50, completionTokens: 50, costUsd: 0.125, latencyMs: 3000 }),
    e(8, DAY2 + 4 * HOUR, { route: 'mock', provider: 'mock', model: 'mock-1', promptTokens: 1, completionTokens: 1, latencyMs: 10 }),
  ]
}
const RANGE = { from: new Date(DAY1), to: new Date(DAY2 + 24 * HOUR) }

for (const target of storeTargets('repos')) {
  describe.runIf(target.enabled)(`the ${target.name} store`, () => {
    let store: OpenedStore
    let users: UserRepository
    let apiKeys: ApiKeyRepository
    let usage: UsageEventRepository
    beforeAll(async () => {
      store = await target.open()
      await migrateOwners(store, [IDENTITY_MIGRATIONS, USAGE_MIGRATIONS])
      users = userRepository(store.sql)
      apiKeys = apiKeyRepository(store.sql)
      usage = usageRepository(store.sql)
    }, 60_000)
    afterAll(async () => {
      await store?.dispose()
      await target.cleanup()
    })

    describe('users', () => {
      it('upserts by external subject, keeping the fields an update does not name', async () => {
        const created = await users.upsertBySubject({ externalSubject: 'oidc|alice', email: 'alice@example.com', name: 'Alice', department: 'research' })
        expect(created).toMatchObject({ externalSubject: 'oidc|alice', email: 'alice@example.com', name: 'Alice', role: 'user', department: 'research' })
        expect(created.lastSeenAt).toBeInstanceOf(Date)

        const promoted = await users.upsertBySubject({ externalSubject: 'oidc|alice', role: 'department_admin' })
        expect(promoted).toMatchObject({ id: created.id, email: 'alice@example.com', name: 'Alice', role: 'department_admin', department: 'research' })
        expect(promoted.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime())

        const unchanged = await users.upsertBySubject({ externalSubject: 'oidc|alice', role: 'department_admin' })
        expect(unchanged.updatedAt).toEqual(promoted.updatedAt)

        const cleared = await users.upsertBySubject({ externalSubject: 'oidc|alice', department: null })
        expect(cleared.department).toBeNull()
        expect(await users.findBySubject('oidc|alice')).toEqual(cleared)
      })

      it('gets by id, and finds nothing for an unknown or malformed id', async () => {
        const user = await users.upsertBySubject({ externalSubject: 'oidc|getme' })
        expect(await users.get(user.id)).toEqual(user)
        expect(await users.get('00000000-0000-0000-0000-000000000000')).toBeUndefined()
        expect(await users.get('not-a-uuid')).toBeUndefined()
      })

      it('pages a list: 100 by default, never more than 1000 however many are asked for, from the offset', async () => {
        await store.sql.query(`INSERT INTO users (external_subject, department) SELECT 'page|' || lpad(g::text, 4, '0'), 'paging' FROM generate_series(1, 1002) AS g`)
        const subjects = async (page: { limit?: number; offset?: number }) => (await users.list({ department: 'paging', ...page })).map((u) => u.externalSubject)
        expect(await subjects({})).toHaveLength(100)
        expect(await subjects({ limit: 5000 })).toHaveLength(1000)
        expect(await subjects({ limit: 0 })).toHaveLength(1)
        const tail = await subjects({ limit: 1000, offset: 1000 })
        expect(tail).toHaveLength(2)
        expect(await subjects({ limit: 3, offset: -5 })).toHaveLength(3)
        // Rows made in one statement share created_at; seq orders them, so pages do not overlap.
        const all = [...await subjects({ limit: 1000 }), ...tail]
        expect(new Set(all).size).toBe(1002)
        expect(all).toEqual([...all].sort())
      })

      it('sets role and department, and lists by them', async () => {
        const u1 = await users.upsertBySubject({ externalSubject: 'list|1', department: 'ops' })
        const u2 = await users.upsertBySubject({ externalSubject: 'list|2', department: 'ops' })
        await users.upsertBySubject({ externalSubject: 'list|3', department: 'finance' })
        expect((await users.setRole(u2.id, 'admin'))?.role).toBe('admin')
        // In the order they were made, though the embedded store's clock may give both one created_at.
        expect((await users.list({ department: 'ops' })).map((u) => u.id)).toEqual([u1.id, u2.id])
        expect((await users.list({ department: 'ops', role: 'admin' })).map((u) => u.id)).toEqual([u2.id])
        expect((await users.setDepartment(u1.id, 'finance'))?.department).toBe('finance')
        expect((await users.list({ department: 'ops' })).map((u) => u.id)).toEqual([u2.id])
        expect(await users.list({ department: 'ops', limit: 1, offset: 1 })).toEqual([])
        expect(await users.setRole('00000000-0000-0000-0000-000000000000', 'admin')).toBeUndefined()
      })
    })

    describe('API keys', () => {
      it('creates a key from its hash and prefix, finds it by hash, and never returns the hash', async () => {
        const owner = await users.upsertBySubject({ externalSubject: 'keys|owner', department: 'research' })
        const secret = newApiKey()
        expect(secret.key.startsWith(secret.prefix)).toBe(true)
        const expiresAt = new Date(Date.now() + 86_400_000)
        const created = await apiKeys.create({
          keyHash: secret.hash, prefix: secret.prefix, name: 'ci', userId: owner.id, department: 'research', role: 'user',
          allowedModels: ['chat-default', 'claude-*'], limits: { requests_per_minute: 60, budget_usd_per_month: 50 }, expiresAt,
        })
        expect(created).toMatchObject({
          prefix: secret.prefix, name: 'ci', userId: owner.id, department: 'research', role: 'user',
          allowedModels: ['chat-default', 'claude-*'], limits: { requests_per_minute: 60, budget_usd_per_month: 50 },
          expiresAt, revokedAt: null, lastUsedAt: null,
        })
        expect(Object.values(created)).not.toContain(secret.hash)
        expect(created).toMatchObject({ previousPrefix: null, previousExpiresAt: null })
        expect(await apiKeys.findByHash(hashApiKey(secret.key))).toEqual({ ...created, secret: 'current' })
        expect(await apiKeys.findByHash(hashApiKey(`${secret.key}x`))).toBeUndefined()
        expect(await apiKeys.get(created.id)).toEqual(created)
      })

      it('lists by user and by department, newest first, hiding revoked keys unless asked', async () => {
        const owner = await users.upsertBySubject({ externalSubject: 'keys|lister' })
        const make = async (department: string) => {
          const k = newApiKey()
          const key = await apiKeys.create({ keyHash: k.hash, prefix: k.prefix, userId: owner.id, department })
          await new Promise((r) => setTimeout(r, 5))
          return key
        }
        const first = await make('dept-a')
        const second = await make('dept-a')
        const third = await make('dept-b')
        expect((await apiKeys.list({ userId: owner.id })).map((k) => k.id)).toEqual([third.id, second.id, first.id])
        expect((await apiKeys.list({ department: 'dept-a' })).map((k) => k.id)).toEqual([second.id, first.id])

        expect(await apiKeys.revoke(second.id)).toBe(true)
        expect(await apiKeys.revoke(second.id)).toBe(false)
        expect((await apiKeys.list({ department: 'dept-a' })).map((k) => k.id)).toEqual([first.id])
        expect((await apiKeys.list({ department: 'dept-a', includeRevoked: true })).map((k) => k.id)).toEqual([second.id, first.id])
        expect((await apiKeys.get(second.id))?.revokedAt).toBeInstanceOf(Date)
        expect(await apiKeys.list({ userId: 'not-a-uuid' })).toEqual([])
      })

      it('rotates a key in place: same id, a new secret, the old one kept as the previous until its grace ends, one previous at most', async () => {
        const [a, b, c, d] = [newApiKey(), newApiKey(), newApiKey(), newApiKey()]
        const key = await apiKeys.create({ keyHash: a.hash, prefix: a.prefix, name: 'kept', limits: { requests_per_minute: 5 } })
        const graceEnds = new Date(Date.now() + 60_000)
        const rotator = await users.upsertBySubject({ externalSubject: 'keys|rotator' })
        const rotated = await apiKeys.rotate(key.id, { keyHash: b.hash, prefix: b.prefix }, graceEnds, rotator.id)
        expect(rotated).toEqual({ ...key, prefix: b.prefix, previousPrefix: a.prefix, previousExpiresAt: graceEnds, rotatedBy: rotator.id })
        expect(await apiKeys.findByHash(b.hash)).toEqual({ ...rotated, secret: 'current' })
        expect(await apiKeys.findByHash(a.hash)).toEqual({ ...rotated, secret: 'previous' })
        // Again: b becomes the previous secret (here already past its grace) and a is gone.
        const past = new Date(Date.now() - 1)
        const again = await apiKeys.rotate(key.id, { keyHash: c.hash, prefix: c.prefix }, past, null)
        expect(again).toMatchObject({ id: key.id, prefix: c.prefix, previousPrefix: b.prefix, previousExpiresAt: past })
        expect(await apiKeys.findByHash(a.hash)).toBeUndefined()
        expect(await apiKeys.findByHash(b.hash)).toMatchObject({ id: key.id, secret: 'previous' })
        expect(await apiKeys.findByHash(c.hash)).toMatchObject({ id: key.id, secret: 'current' })
        // A revoked or expired key keeps its secrets.
        await apiKeys.revoke(key.id)
        expect(await apiKeys.rotate(key.id, { keyHash: d.hash, prefix: d.prefix }, past, null)).toBeUndefined()
        const expired = await apiKeys.create({ keyHash: d.hash, prefix: d.prefix, expiresAt: new Date(Date.now() - 1000) })
        expect(await apiKeys.rotate(expired.id, { keyHash: newApiKey().hash, prefix: 'x' }, past, null)).toBeUndefined()
        expect(await apiKeys.findByHash(d.hash)).toMatchObject({ id: expired.id, secret: 'current' })
        expect(await apiKeys.rotate('not-a-uuid', { keyHash: newApiKey().hash, prefix: 'x' }, past, null)).toBeUndefined()
      })

      it('lowers a user\'s keys\' roles with the user\'s, and takes along on a department move only the keys whose secret the user made', async () => {
        const owner = await users.upsertBySubject({ externalSubject: 'keys|mover', department: 'a' })
        const lead = await users.upsertBySubject({ externalSubject: 'keys|lead', department: 'a' })
        const make = async (role: string, createdBy: string | null = owner.id) => {
          const k = newApiKey()
          return apiKeys.create({ keyHash: k.hash, prefix: k.prefix, userId: owner.id, department: 'a', role, createdBy })
        }
        const admin = await make('admin')
        const user = await make('user')
        const revoked = await make('admin')
        await apiKeys.revoke(revoked.id)
        expect((await apiKeys.activeRolesOfUser(owner.id)).sort()).toEqual(['admin', 'user'])
        await apiKeys.replaceUserKeyRoles(owner.id, ['admin'], 'user')
        expect((await apiKeys.get(admin.id))?.role).toBe('user')
        expect((await apiKeys.get(revoked.id))?.role).toBe('admin') // revoked keys are left alone

        expect(user.createdBy).toBe(owner.id)
        const byLead = await make('user', lead.id)
        const unknown = await make('user', null)
        // The owner's own key, rotated by the lead (who now holds its secret), and one the lead's, rotated by the owner.
        const rotatedByLead = await make('user')
        const k1 = newApiKey()
        await apiKeys.rotate(rotatedByLead.id, { keyHash: k1.hash, prefix: k1.prefix }, new Date(), lead.id)
        const rotatedByOwner = await make('user', lead.id)
        const k2 = newApiKey()
        const grace = new Date(Date.now() + 3600_000)
        await apiKeys.rotate(rotatedByOwner.id, { keyHash: k2.hash, prefix: k2.prefix }, grace, owner.id)

        const revokedNow = await apiKeys.moveUserKeys(owner.id, 'b')
        expect(revokedNow.sort()).toEqual([byLead.id, unknown.id, rotatedByLead.id].sort())
        for (const id of [admin.id, user.id, revoked.id, rotatedByOwner.id]) expect((await apiKeys.get(id))?.department).toBe('b')
        for (const id of revokedNow) expect(await apiKeys.get(id)).toMatchObject({ department: 'a', revokedAt: expect.any(Date) })
        expect((await apiKeys.get(user.id))?.revokedAt).toBeNull()
        // The secret the owner's rotation replaced was the lead's: its grace ends with the move.
        expect((await apiKeys.get(rotatedByOwner.id))!.previousExpiresAt!.getTime()).toBeLessThanOrEqual(Date.now())
        expect((await apiKeys.get(user.id))?.previousExpiresAt).toBeNull()
        expect(await apiKeys.moveUserKeys(owner.id, 'c')).toEqual([])
        expect(await apiKeys.activeRolesOfUser('not-a-uuid')).toEqual([])
        expect(await apiKeys.moveUserKeys('not-a-uuid', 'c')).toEqual([])
      })

      it('records last use at most once a minute', async () => {
        const k = newApiKey()
        const key = await apiKeys.create({ keyHash: k.hash, prefix: k.prefix })
        const t0 = new Date('2030-01-01T00:00:00Z')
        await apiKeys.touchLastUsed(key.id, t0)
        expect((await apiKeys.get(key.id))?.lastUsedAt).toEqual(t0)
        await apiKeys.touchLastUsed(key.id, new Date(t0.getTime() + 30_000))
        expect((await apiKeys.get(key.id))?.lastUsedAt).toEqual(t0)
        const later = new Date(t0.getTime() + 61_000)
        await apiKeys.touchLastUsed(key.id, later)
        expect((await apiKeys.get(key.id))?.lastUsedAt).toEqual(later)
      })

      it('refuses an unknown owner with a 400 naming user_id, and a duplicate hash with a 409', async () => {
        const k = newApiKey()
        const unknownOwner = await gatewayError(apiKeys.create({ keyHash: k.hash, prefix: k.prefix, userId: '00000000-0000-0000-0000-000000000000' }))
        expect(unknownOwner).toMatchObject({ status: 400, code: 'invalid_reference', param: 'user_id' })

        await apiKeys.create({ keyHash: k.hash, prefix: k.prefix })
        const duplicate = await gatewayError(apiKeys.create({ keyHash: k.hash, prefix: k.prefix }))
        expect(duplicate).toMatchObject({ status: 409, code: 'conflict', param: 'key_hash' })
        expect(duplicate.message).not.toContain(k.hash)
      })
    })

    describe('usage events', () => {
      beforeAll(async () => {
        expect(await usage.insertBatch(usageFixture('agg'))).toBe(8)
      })

      it('writes a batch in one statement and skips events already stored', async () => {
        const events = Array.from({ length: 250 }, (_, i): UsageEvent => ({
          eventId: randomUUID(), time: new Date(Date.parse('2024-06-01T00:00:00Z') + i * 1000), requestId: `bulk-${i}`, status: 200, latencyMs: i,
        }))
        expect(await usage.insertBatch(events)).toBe(250)
        expect(await usage.insertBatch(events.slice(0, 10))).toBe(0)
        const extra: UsageEvent = { eventId: randomUUID(), time: new Date('2024-06-02T00:00:00Z'), requestId: 'bulk-extra', status: 200, latencyMs: 1, batch: true, reasoningTokens: 7 }
        expect(await usage.insertBatch([events[0], extra])).toBe(1)
        expect(await usage.insertBatch([])).toBe(0)
        const stored = await usage.list({ from: new Date('2024-06-01T00:00:00Z'), to: new Date('2024-06-03T00:00:00Z'), limit: 1000 })
        expect(stored).toHaveLength(251)
        // The batch with an event already stored went in by INSERT ... ON CONFLICT, not COPY: every column, the last ones too.
        expect(stored.find((e) => e.requestId === 'bulk-extra')).toMatchObject({ batch: true, reasoningTokens: 7 })
      })

      it('stores every field of an event as written', async () => {
        const [first, second] = await usage.list({ ...RANGE, limit: 2 })
        expect(first).toMatchObject({
          requestId: 'agg-1', userId: 'alice', keyId: 'k1', department: 'research', route: 'chat', provider: 'openai', model: 'gpt-4o',
          status: 200, errorType: null, attempts: 1, cacheHit: false, promptTokens: 10, completionTokens: 20, cachedTokens: 0,
          costUsd: 0.0105, latencyMs: 100, ttftMs: null, streamed: false,
        })
        expect(first.time).toEqual(new Date(DAY1 + HOUR))
        expect(second).toMatchObject({ requestId: 'agg-2', cachedTokens: 5, streamed: true, ttftMs: 50 })
      })

      it('keeps awkward values exactly: quotes, backslashes, tabs, line breaks, `\\N`, `\\.` and emoji in text, a cost in scientific notation, milliseconds, a zero', async () => {
        // Outside RANGE, so the aggregates below do not see it.
        const at = new Date(DAY1 - 10 * 24 * HOUR + 123)
        const event: UsageEvent = {
          eventId: randomUUID(), time: at, requestId: 'odd-"1",\\ {x}\t\\N', status: 200, latencyMs: 12.6, ttftMs: 0,
          department: 'R&D "Zürich" \\ 🚀\r\n', route: 'a,b', provider: 'p', model: 'null', costUsd: 1.2e-7, promptTokens: 0, streamed: true,
          userId: '\\.', errorType: '\\\t',
        }
        expect(await usage.insertBatch([event])).toBe(1)
        const [stored] = await usage.list({ from: new Date(at.getTime() - 1), to: new Date(at.getTime() + 1), limit: 5 })
        expect(stored).toMatchObject({
          requestId: 'odd-"1",\\ {x}\t\\N', department: 'R&D "Zürich" \\ 🚀\r\n', route: 'a,b', model: 'null', userId: '\\.', keyId: null, errorType: '\\\t',
          costUsd: 1.2e-7, latencyMs: 13, ttftMs: 0, streamed: true, cacheHit: false, attempts: 1,
        })
        expect(stored.time).toEqual(at)
      })

      it('rejects an event without a request id before writing any of its batch', async () => {
        const good: UsageEvent = { eventId: randomUUID(), time: new Date('2024-07-01T00:00:00Z'), requestId: 'valid-1', status: 200, latencyMs: 1 }
        const bad = { eventId: randomUUID(), time: new Date('2024-07-01T00:00:00Z'), status: 200, latencyMs: 1 } as unknown as UsageEvent
        const err = await gatewayError(usage.insertBatch([good, bad]))
        expect(err).toMatchObject({ status: 400, code: 'invalid_usage_event', param: 'events[1].requestId' })
        expect(await usage.list({ from: new Date('2024-07-01T00:00:00Z'), to: new Date('2024-07-02T00:00:00Z') })).toEqual([])
      })

      it('aggregates by model per UTC day: requests, tokens, cost, error rate, p50/p95 latency', async () => {
        const rows = await usage.aggregate({ ...RANGE, groupBy: 'model', interval: 'day' })
        expect(rows.map((r) => [r.bucket?.toISOString(), r.group])).toEqual([
          ['2025-03-01T00:00:00.000Z', 'claude'],
          ['2025-03-01T00:00:00.000Z', 'gpt-4o'],
          ['2025-03-02T00:00:00.000Z', 'claude'],
          ['2025-03-02T00:00:00.000Z', 'gpt-4o'],
          ['2025-03-02T00:00:00.000Z', 'mock-1'],
        ])
        // day 1, gpt-4o: latencies 100, 200, 300 -> p50 200; p95 = 200 + 0.9 * 100 = 290.
        expect(rows[1]).toEqual({
          bucket: new Date(DAY1), group: 'gpt-4o', requests: 3, errors: 1, errorRate: 1 / 3, cacheHits: 0,
          promptTokens: 40, completionTokens: 60, cachedTokens: 5, cacheWriteTokens: 0, reasoningTokens: 0, totalTokens: 100, costUsd: 0.0305, unpricedRequests: 0, unpricedModels: [],
          latencyP50Ms: 200, latencyP95Ms: 290,
        })
        // day 2, claude: latencies 1000, 3000 -> p50 2000; p95 = 1000 + 0.95 * 2000 = 2900.
        expect(rows[2]).toMatchObject({ requests: 2, errors: 0, errorRate: 0, totalTokens: 400, costUsd: 0.375, latencyP50Ms: 2000, latencyP95Ms: 2900 })
        expect(rows[0]).toMatchObject({ requests: 1, errors: 1, errorRate: 1, totalTokens: 0, costUsd: 0 })
      })

      it('aggregates over the whole range by user, department, provider, route and key', async () => {
        const byUser = await usage.aggregate({ ...RANGE, groupBy: 'user' })
        expect(byUser.map((r) => [r.group, r.requests, r.costUsd])).toEqual([
          ['alice', 4, 0.032], ['bob', 1, 0], ['carol', 2, 0.375], [null, 1, 0],
        ])
        expect(byUser.every((r) => r.bucket === null)).toBe(true)

        const byDepartment = await usage.aggregate({ ...RANGE, groupBy: 'department' })
        expect(byDepartment.map((r) => [r.group, r.requests, r.errors, r.totalTokens])).toEqual([
          ['research', 6, 1, 510], ['sales', 1, 1, 0], [null, 1, 0, 2],
        ])
        const byProvider = await usage.aggregate({ ...RANGE, groupBy: 'provider' })
        expect(byProvider.map((r) => [r.group, r.requests])).toEqual([['anthropic', 3], ['mock', 1], ['openai', 4]])
        const byRoute = await usage.aggregate({ ...RANGE, groupBy: 'route' })
        expect(byRoute.map((r) => [r.group, r.requests])).toEqual([['chat', 4], ['fast', 3], ['mock', 1]])
        const byKey = await usage.aggregate({ ...RANGE, groupBy: 'key' })
        expect(byKey.map((r) => [r.group, r.requests])).toEqual([['k1', 2], ['k2', 1], [null, 5]])

        const [total] = await usage.aggregate(RANGE)
        // latencies sorted: 10 50 100 200 300 400 1000 3000 -> p50 = (200 + 300) / 2; p95 = 1000 + 0.65 * 2000.
        expect(total).toMatchObject({ requests: 8, errors: 2, errorRate: 0.25, promptTokens: 196, completionTokens: 316, costUsd: 0.407, latencyP50Ms: 250, latencyP95Ms: 2300 })
      })

      it('leaves requests refused before any upstream call out of the latency percentiles, and counts them', async () => {
        const at = Date.parse('2024-09-01T00:00:00Z')
        const e = (n: number, fields: Partial<UsageEvent>): UsageEvent => ({ eventId: randomUUID(), time: new Date(at + n * 1000), requestId: `refused-${n}`, userId: 'dave', status: 200, latencyMs: 100, attempts: 1, ...fields })
        expect(await usage.insertBatch([
          e(1, { latencyMs: 100 }), e(2, { latencyMs: 200 }), e(3, { latencyMs: 300 }),
          e(4, { status: 502, errorType: 'upstream_error', attempts: 2, latencyMs: 400 }), // went upstream: timed
          e(5, { cacheHit: true, attempts: 0, latencyMs: 5 }), // answered from the cache: timed
          // Refused by the gateway itself, each in about a millisecond: counted, not timed.
          e(6, { status: 401, errorType: 'authentication_error', attempts: 0, latencyMs: 1 }),
          e(7, { status: 403, errorType: 'permission_error', attempts: 0, latencyMs: 1 }),
          e(8, { status: 429, errorType: 'rate_limit_error', attempts: 0, latencyMs: 1 }),
          e(9, { status: 400, errorType: 'invalid_request_error', attempts: 0, latencyMs: 1 }),
          e(10, { userId: 'eve', status: 429, errorType: 'rate_limit_error', attempts: 0, latencyMs: 2 }),
        ])).toBe(10)
        const range = { from: new Date(at), to: new Date(at + HOUR) }
        const [dave, eve] = await usage.aggregate({ ...range, groupBy: 'user' })
        // timed: 5 100 200 300 400 -> p50 200; p95 = 300 + 0.8 * 100 = 380.
        expect(dave).toMatchObject({ group: 'dave', requests: 9, errors: 5, latencyP50Ms: 200, latencyP95Ms: 380 })
        // Only refusals: nothing timed.
        expect(eve).toMatchObject({ group: 'eve', requests: 1, errors: 1, latencyP50Ms: null, latencyP95Ms: null })
      })

      it('lists every bucket of a range, with or without events, in a time zone (a 25-hour day, a half-hour offset)', async () => {
        const days = await usage.buckets({ from: new Date('2026-10-31T04:00:00Z'), to: new Date('2026-11-03T05:00:00Z'), interval: 'day', timeZone: 'America/New_York' })
        expect(days.map((d) => d.toISOString())).toEqual(['2026-10-31T04:00:00.000Z', '2026-11-01T04:00:00.000Z', '2026-11-02T05:00:00.000Z'])
        const hours = await usage.buckets({ from: new Date('2026-11-01T04:00:00Z'), to: new Date('2026-11-02T05:00:00Z'), interval: 'hour', timeZone: 'America/New_York' })
        expect(hours).toHaveLength(25)
        const kolkata = await usage.buckets({ from: new Date('2025-01-01T00:00:00Z'), to: new Date('2025-01-01T02:00:00Z'), interval: 'hour', timeZone: 'Asia/Kolkata' })
        expect(kolkata.map((d) => d.toISOString())).toEqual(['2024-12-31T23:30:00.000Z', '2025-01-01T00:30:00.000Z', '2025-01-01T01:30:00.000Z'])
      })

      it('buckets by UTC hour', async () => {
        const rows = await usage.aggregate({ from: new Date(DAY1), to: new Date(DAY2), interval: 'hour' })
        expect(rows.map((r) => [r.bucket?.toISOString(), r.requests])).toEqual([
          ['2025-03-01T01:00:00.000Z', 2], ['2025-03-01T02:00:00.000Z', 1], ['2025-03-01T05:00:00.000Z', 1],
        ])
      })

      it('scopes to one user or one department, as RBAC asks', async () => {
        const own = await usage.aggregate({ ...RANGE, userId: 'alice', groupBy: 'model' })
        expect(own.map((r) => [r.group, r.requests])).toEqual([['gpt-4o', 4]])
        const department = await usage.aggregate({ ...RANGE, department: 'research', groupBy: 'user' })
        expect(department.map((r) => [r.group, r.requests])).toEqual([['alice', 4], ['carol', 2]])
        expect(await usage.aggregate({ ...RANGE, department: 'nobody' })).toEqual([])
      })

      it('sums cost in a scope for budgets, to the cent and beyond', async () => {
        expect(await usage.totalCostUsd(RANGE)).toBeCloseTo(0.407, 10)
        expect(await usage.totalCostUsd({ ...RANGE, department: 'research' })).toBeCloseTo(0.407, 10)
        expect(await usage.totalCostUsd({ ...RANGE, keyId: 'k1' })).toBeCloseTo(0.0305, 10)
        expect(await usage.totalCostUsd({ from: new Date(DAY2), to: RANGE.to, userId: 'alice' })).toBeCloseTo(0.0015, 10)
        expect(await usage.totalCostUsd({ from: new Date(0), to: new Date(1), userId: 'alice' })).toBe(0)
      })

      it('sums each listed key\'s cost in a range and since an instant in one read, as totalCostUsd does key by key', async () => {
        const keys = [...new Set((await usage.list({ ...RANGE, limit: 100 })).map((e) => e.keyId).filter((k): k is string => k !== null))]
        expect(keys.length).toBeGreaterThan(1)
        const since = new Date(DAY2)
        const spent = await usage.costUsdByKey!([...keys, 'no-such-key'], { from: RANGE.from, since, to: RANGE.to })
        for (const keyId of keys) {
          expect(spent.get(keyId)?.total, keyId).toBeCloseTo(await usage.totalCostUsd({ ...RANGE, keyId }), 10)
          expect(spent.get(keyId)?.since, keyId).toBeCloseTo(await usage.totalCostUsd({ from: since, to: RANGE.to, keyId }), 10)
        }
        expect(spent.has('no-such-key')).toBe(false)
        expect((await usage.costUsdByKey!([], { from: RANGE.from, since, to: RANGE.to })).size).toBe(0)
      })

      it('refuses an unknown group_by or interval and an empty range with a 400 naming the parameter', async () => {
        expect(await gatewayError(usage.aggregate({ ...RANGE, groupBy: 'user_id; DROP TABLE users' as never }))).toMatchObject({ status: 400, param: 'group_by' })
        expect(await gatewayError(usage.aggregate({ ...RANGE, interval: 'week' as never }))).toMatchObject({ status: 400, param: 'interval' })
        expect(await gatewayError(usage.aggregate({ from: RANGE.to, to: RANGE.from }))).toMatchObject({ status: 400, param: 'from' })
        expect(await gatewayError(usage.totalCostUsd({ from: new Date('nope'), to: RANGE.to }))).toMatchObject({ status: 400, param: 'from' })
      })
    })

    describe('transactions', () => {
      it('commits what the callback did through repositories bound to `tx` when it resolves', async () => {
        const k = newApiKey()
        const { userId, keyId } = await store.transaction(async (tx) => {
          const user = await userRepository(tx).upsertBySubject({ externalSubject: 'tx|commit' })
          const key = await apiKeyRepository(tx).create({ keyHash: k.hash, prefix: k.prefix, userId: user.id })
          return { userId: user.id, keyId: key.id }
        })
        expect((await apiKeys.list({ userId })).map((key) => key.id)).toEqual([keyId])
      })

      it('rolls everything back when the callback throws', async () => {
        const k = newApiKey()
        await expect(store.transaction(async (tx) => {
          const user = await userRepository(tx).upsertBySubject({ externalSubject: 'tx|rollback' })
          await apiKeyRepository(tx).create({ keyHash: k.hash, prefix: k.prefix, userId: user.id })
          await tx.query('SELECT 1')
          throw new Error('changed my mind')
        })).rejects.toThrow('changed my mind')
        expect(await users.findBySubject('tx|rollback')).toBeUndefined()
        expect(await apiKeys.findByHash(k.hash)).toBeUndefined()
      })

      it('rolls back a statement that failed in the database, and the store stays usable', async () => {
        const err = await gatewayError(store.transaction(async (tx) => {
          await userRepository(tx).upsertBySubject({ externalSubject: 'tx|bad-reference' })
          const k = newApiKey()
          return apiKeyRepository(tx).create({ keyHash: k.hash, prefix: k.prefix, userId: '00000000-0000-0000-0000-000000000000' })
        }))
        expect(err).toMatchObject({ status: 400, param: 'user_id' })
        expect(await users.findBySubject('tx|bad-reference')).toBeUndefined()
        expect(await users.upsertBySubject({ externalSubject: 'tx|after-failure' })).toMatchObject({ externalSubject: 'tx|after-failure' })
      })

      it('keeps concurrent transactions apart', async () => {
        const results = await Promise.all(Array.from({ length: 5 }, (_, i) => store.transaction(async (tx) => {
          await userRepository(tx).upsertBySubject({ externalSubject: `tx|parallel-${i}` })
          if (i === 2) throw new Error('only this one fails')
          return i
        }).catch((e: Error) => e.message)))
        expect(results).toEqual([0, 1, 'only this one fails', 3, 4])
        const stored = await Promise.all(results.map((_, i) => users.findBySubject(`tx|parallel-${i}`)))
        expect(stored.map((u) => u !== undefined)).toEqual([true, true, false, true, true])
      })
    })
  })
}
