/**
 * Two gateways on one PostgreSQL, as two processes (or replicas) would be: a revoke applies at once
 * in the gateway that made it, and in the other within its cache TTL (there is no cross-process
 * invalidation; the short TTL bounds how long a revoked key keeps working elsewhere).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { DATABASE_URL, POSTGRES_ENABLED, dropSchema, uniqueSchema } from '../store/helpers.ts'
import { ADMIN, apiKeyStrategy, bearer, call, chat, config, createKey } from './helpers.ts'

describe.runIf(POSTGRES_ENABLED)('virtual keys across two gateways sharing PostgreSQL', () => {
  const schema = uniqueSchema('identity')
  let a: RunningGateway
  let b: RunningGateway
  beforeAll(async () => {
    const yaml = config({
      store: `store: { plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }\n`,
      auth: apiKeyStrategy('', '      cache_ttl_s: 1\n'),
      extra: 'services: { keys: {} }\n',
    })
    a = await startTestGateway(yaml)
    b = await startTestGateway(yaml)
  }, 60_000)
  afterAll(async () => {
    await a?.close()
    await b?.close()
    await dropSchema(schema)
  })

  it('accepts a key made on one gateway on the other', async () => {
    const { key, id } = await createKey(a, { role: 'user' })
    expect((await chat(b, bearer(key))).status).toBe(200)
    // Found in the shared store, not let through: b's keys API has it, and a key one character off is refused.
    expect((await call(b, 'GET', `/api/v1/keys/${id}`, { headers: ADMIN })).body.data).toMatchObject({ id, role: 'user' })
    const forged = `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`
    expect((await chat(b, bearer(forged))).body.error.code).toBe('invalid_api_key')
  })

  it('refuses a revoked key at once where it was revoked, and on the other gateway once its cache entry expires', async () => {
    const { key, id } = await createKey(a, { role: 'user' })
    expect((await chat(a, bearer(key))).status).toBe(200)
    expect((await chat(b, bearer(key))).status).toBe(200)
    expect((await call(a, 'DELETE', `/api/v1/keys/${id}`, { headers: ADMIN })).status).toBe(200)
    expect((await chat(a, bearer(key))).body.error.code).toBe('key_revoked')
    await sleep(1100)
    expect((await chat(b, bearer(key))).body.error.code).toBe('key_revoked')
  })

  it('rotates a key in place: the new secret works on both at once, the old one stops as a revoke would', async () => {
    const { key: old, id } = await createKey(a, { role: 'user' })
    expect((await chat(b, bearer(old))).status).toBe(200)
    const rotated = await call(a, 'POST', `/api/v1/keys/${id}/rotate`, { headers: ADMIN })
    expect(rotated.body.data).toMatchObject({ id, replaces: id })
    for (const gw of [a, b]) expect((await chat(gw, bearer(rotated.body.data.key))).status).toBe(200)
    expect((await chat(a, bearer(old))).body.error.code).toBe('key_rotated')
    await sleep(1100)
    expect((await chat(b, bearer(old))).body.error.code).toBe('key_rotated')
  })

  it('keeps a rotated key\'s old secret working on both for its grace period, and on neither after it', async () => {
    const { key: old, id } = await createKey(a, { role: 'user' })
    const rotated = await call(a, 'POST', `/api/v1/keys/${id}/rotate`, { headers: ADMIN, body: { grace_s: 2 } })
    const graceEnds = new Date(rotated.body.data.previous_secret_expires_at).getTime()
    for (const gw of [a, b]) {
      expect((await chat(gw, bearer(old))).status).toBe(200)
      expect((await chat(gw, bearer(rotated.body.data.key))).status).toBe(200)
    }
    await sleep(graceEnds - Date.now() + 50)
    for (const gw of [a, b]) expect((await chat(gw, bearer(old))).body.error.code).toBe('key_rotated')
  })
})
