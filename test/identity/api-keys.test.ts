import { setTimeout as sleep } from 'node:timers/promises'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { Identity } from '../../plugins/contracts/capabilities.ts'
import { ADMIN, ADMIN_KEY, apiKeyStrategy, bearer, call, chat, config, createKey, modelIds } from './helpers.ts'

const USER_KEY = 'test-user-key-abcdef0123456789'

describe('config keys, without a store', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(config({
      store: '',
      auth: apiKeyStrategy(`        - { key: "${USER_KEY}", user: alice, role: user, department: research, allowed_models: [mock-a, 'claude-*'] }\n`),
    }))
  })
  afterAll(() => gw?.close())

  it('accepts a key as Authorization: Bearer and as x-api-key', async () => {
    expect((await chat(gw, bearer(ADMIN_KEY))).status).toBe(200)
    expect((await chat(gw, { 'x-api-key': ADMIN_KEY })).status).toBe(200)
    expect((await chat(gw, { authorization: `bearer   ${USER_KEY}` })).status).toBe(200)
    // Each header is really read: an unknown key in it is refused.
    for (const headers of [bearer('sk-not-a-real-key-0000000000'), { 'x-api-key': 'sk-not-a-real-key-0000000000' }]) {
      expect((await chat(gw, headers)).body.error.code).toBe('invalid_api_key')
    }
  })

  it('refuses an unknown key with 401 invalid_api_key in the OpenAI error shape, without echoing the key', async () => {
    const res = await chat(gw, bearer('sk-not-a-real-key-0000000000'))
    expect(res.status).toBe(401)
    expect(res.body).toEqual({ error: { message: 'Invalid API key.', type: 'authentication_error', code: 'invalid_api_key', param: null } })
  })

  it('answers a request without credentials with 401 missing_credentials', async () => {
    const res = await chat(gw, {})
    expect(res.status).toBe(401)
    expect(res.body.error).toMatchObject({ type: 'authentication_error', code: 'missing_credentials' })
  })

  it('leaves a JWT-shaped bearer token to other strategies (here none, so 401 missing_credentials)', async () => {
    const res = await chat(gw, bearer('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'))
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('missing_credentials')
  })

  it('puts the 401 in Anthropic\'s shape on /v1/messages and in the envelope on /api/v1', async () => {
    const messages = await call(gw, 'POST', '/v1/messages', { headers: { 'x-api-key': 'wrong-key-0000000000000000' }, body: { model: 'mock-a', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] } })
    expect(messages.status).toBe(401)
    expect(messages.body).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: 'Invalid API key.' } })
    const admin = await call(gw, 'GET', '/api/v1/admin/routes', { headers: bearer('wrong-key-0000000000000000') })
    expect(admin.status).toBe(401)
    expect(admin.body).toMatchObject({ success: false, data: null, error: 'invalid_api_key', message: 'Invalid API key.' })
  })

  it('limits a key with allowed_models: other models are 403, and /v1/models lists only what it may use', async () => {
    const res = await chat(gw, bearer(USER_KEY), 'mock-b')
    expect(res.status).toBe(403)
    expect(res.body.error).toMatchObject({ type: 'permission_error', code: 'model_not_allowed', param: 'model' })
    expect(res.body.error.message).toContain("may not use the model 'mock-b'")
    expect((await chat(gw, bearer(USER_KEY), 'claude-3-haiku')).status).toBe(200)
    expect(await modelIds(gw, bearer(USER_KEY))).toEqual(['mock-a'])
    expect(await modelIds(gw, ADMIN)).toEqual(['mock-a', 'mock-b', 'b-alias', 'mock-c'])
    expect((await call(gw, 'GET', '/v1/models/mock-b', { headers: bearer(USER_KEY) })).status).toBe(404)
  })

  it('lets only roles with manage_gateway reach /api/v1/admin', async () => {
    expect((await call(gw, 'GET', '/api/v1/admin/routes', { headers: ADMIN })).status).toBe(200)
    const res = await call(gw, 'GET', '/api/v1/admin/routes', { headers: bearer(USER_KEY) })
    expect(res.status).toBe(403)
    expect(res.body).toMatchObject({ success: false, error: 'permission_denied' })
  })
})

describe('config errors at load time', () => {
  const start = (auth: string, store = '') => startTestGateway(config({ store, auth }))

  it('refuses virtual_keys: true without a store, saying what to add', async () => {
    await expect(start(apiKeyStrategy('', '      virtual_keys: true\n'))).rejects.toThrow(/virtual_keys needs a store: add `store:`/)
  })

  it('refuses an api-key strategy with no keys and no store', async () => {
    await expect(start('    - { plugin: api-key }\n')).rejects.toThrow(/no keys to accept/)
  })

  it('refuses a config key shorter than 16 characters (an unset variable must not become a key)', async () => {
    await expect(start('    - plugin: api-key\n      keys: [ { key: "short", user: x } ]\n')).rejects.toThrow(/auth\.strategies\[0\]\.keys\[0\]\.key/)
  })

  it('refuses the keys and users services without a store, saying what to add', async () => {
    await expect(startTestGateway(config({ store: '', auth: apiKeyStrategy(), extra: 'services: { keys: {} }\n' }))).rejects.toThrow(/services\.keys: service\.keys needs Store, .*add `store:`/)
    await expect(startTestGateway(config({ store: '', auth: apiKeyStrategy(), extra: 'services: { users: {} }\n' }))).rejects.toThrow(/services\.users: service\.users needs Store, .*add `store:`/)
  })

  it('refuses the same key listed twice without printing it', async () => {
    const error = await start(`    - plugin: api-key\n      keys: [ { key: "${USER_KEY}", user: a }, { key: "${USER_KEY}", user: b } ]\n`).catch((e: Error) => e)
    expect(String(error)).toMatch(/auth\.strategies\[0\]\.keys\[1\]\.key: the same key as keys\[0\]/)
    expect(String(error)).not.toContain(USER_KEY)
    // As `gateway validate` reports it: the config's check, with the line, not only the start.
    const { loadConfig } = await import('../../core/config/index.ts')
    const { builtinRegistry } = await import('../../core/plugins/loader.ts')
    const text = config({ store: '', auth: `    - plugin: api-key\n      keys: [ { key: "${USER_KEY}", user: a }, { key: "${USER_KEY}", user: b } ]\n` })
    await expect(loadConfig({ text, label: 'gw.yaml', dir: process.cwd() }, await builtinRegistry(), {})).rejects.toThrow(/gw\.yaml:\d+:\d+ auth\.strategies\[0\]\.keys\[1\]\.key: the same key as keys\[0\]/)
  })
})

describe('virtual keys in the store', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(config({ auth: apiKeyStrategy('', '      cache_ttl_s: 60\n'), extra: 'services: { keys: {}, users: {} }\n' }))
  })
  afterAll(() => gw?.close())

  it('drives /v1 with the official OpenAI SDK, the virtual key as its apiKey', async () => {
    const { key } = await createKey(gw, { name: 'sdk', role: 'user' })
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 })
    const res = await client.chat.completions.create({ model: 'mock-a', messages: [{ role: 'user', content: 'hello key' }] })
    expect(res.choices[0].message.content).toBe('echo: hello key')
    let text = ''
    for await (const chunk of await client.chat.completions.create({ model: 'mock-a', stream: true, messages: [{ role: 'user', content: 'streamed' }] })) text += chunk.choices[0]?.delta?.content ?? ''
    expect(text).toBe('echo: streamed')
    expect((await client.models.list()).data.map((m) => m.id)).toContain('mock-a')
    const bad = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: `${key}x`, maxRetries: 0 })
    await expect(bad.chat.completions.create({ model: 'mock-a', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError)
  })

  it('drives /v1/messages with the Anthropic SDK, sending the key as a bearer token and as x-api-key', async () => {
    const { key } = await createKey(gw, { name: 'anthropic', role: 'user' })
    const viaBearer = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 })
    const a = await viaBearer.messages.create({ model: 'mock-a', max_tokens: 20, messages: [{ role: 'user', content: 'bearer' }] })
    expect(a.content[0]).toMatchObject({ type: 'text', text: 'echo: bearer' })
    const viaHeader = new Anthropic({ baseURL: gw.url, apiKey: null, authToken: null, defaultHeaders: { 'x-api-key': key }, maxRetries: 0 })
    const b = await viaHeader.messages.create({ model: 'mock-a', max_tokens: 20, messages: [{ role: 'user', content: 'header' }] })
    expect(b.content[0]).toMatchObject({ type: 'text', text: 'echo: header' })
    const wrong = new Anthropic({ baseURL: gw.url, apiKey: 'gw-wrongwrongwrongwrongwrong', maxRetries: 0 })
    await expect(wrong.messages.create({ model: 'mock-a', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(Anthropic.AuthenticationError)
  })

  it('shows the key once: the list and the record have its prefix, never the key or its hash', async () => {
    const { key, id, record } = await createKey(gw, { name: 'shown-once' })
    expect(key).toMatch(/^gw-[\w-]{32}$/)
    expect(key.startsWith(record.prefix)).toBe(true)
    expect(record.prefix).toHaveLength('gw-'.length + 8)
    const one = await call(gw, 'GET', `/api/v1/keys/${id}`, { headers: ADMIN })
    const list = await call(gw, 'GET', '/api/v1/keys', { headers: ADMIN })
    for (const text of [JSON.stringify(one.body), JSON.stringify(list.body)]) {
      expect(text).toContain(record.prefix)
      expect(text).not.toContain(key)
      expect(text).not.toMatch(/key_hash|"key":/)
    }
  })

  it('serves repeated requests from the cache: one store lookup for many requests', async () => {
    const { key } = await createKey(gw, { name: 'cached', role: 'user' })
    const lookups = vi.spyOn(capability(gw, Identity).apiKeys, 'findByHash')
    try {
      await Promise.all(Array.from({ length: 10 }, () => chat(gw, bearer(key))))
      for (let i = 0; i < 10; i++) expect((await chat(gw, bearer(key))).status).toBe(200)
      expect(lookups).toHaveBeenCalledTimes(1)
    } finally {
      lookups.mockRestore()
    }
  })

  it('refuses a revoked key at once, although it was cached, with 401 key_revoked', async () => {
    const { key, id } = await createKey(gw, { name: 'to-revoke', role: 'user' })
    expect((await chat(gw, bearer(key))).status).toBe(200)
    const revoked = await call(gw, 'DELETE', `/api/v1/keys/${id}`, { headers: ADMIN })
    expect(revoked.status).toBe(200)
    expect(revoked.body.data).toMatchObject({ id, status: 'revoked' })
    const res = await chat(gw, bearer(key))
    expect(res.status).toBe(401)
    expect(res.body.error).toEqual({ message: 'This API key has been revoked.', type: 'authentication_error', code: 'key_revoked', param: null })
    expect((await call(gw, 'DELETE', `/api/v1/keys/${id}`, { headers: ADMIN })).body.message).toBe('already revoked')
  })

  it('refuses an expired key with 401 key_expired', async () => {
    const { key } = await createKey(gw, { name: 'short-lived', role: 'user', expires_at: new Date(Date.now() + 1200).toISOString() })
    expect((await chat(gw, bearer(key))).status).toBe(200)
    await sleep(1300)
    const res = await chat(gw, bearer(key))
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe('key_expired')
  })

  it('refuses an unknown key (and a known key with one character changed) with 401 invalid_api_key', async () => {
    const { key } = await createKey(gw, { role: 'user' })
    const altered = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A')
    for (const k of ['gw-unknownunknownunknownunknownun', altered]) {
      const res = await chat(gw, bearer(k))
      expect(res.status).toBe(401)
      expect(res.body.error.code).toBe('invalid_api_key')
    }
  })

  it('rotates a key in place: a new secret for the same key, the old secret refused (more in key-rotation.test.ts)', async () => {
    const { key: old, id } = await createKey(gw, { name: 'rotating', role: 'user', allowed_models: ['mock-a'], limits: { requests_per_minute: 5 } })
    const res = await call(gw, 'POST', `/api/v1/keys/${id}/rotate`, { headers: ADMIN })
    expect(res.status).toBe(201)
    expect(res.body.data).toMatchObject({ id, name: 'rotating', role: 'user', allowed_models: ['mock-a'], limits: { requests_per_minute: 5 }, replaces: id, status: 'active' })
    expect(res.body.data.key).not.toBe(old)
    expect((await chat(gw, bearer(res.body.data.key))).status).toBe(200)
    expect((await chat(gw, bearer(old))).body.error.code).toBe('key_rotated')
    await call(gw, 'DELETE', `/api/v1/keys/${id}`, { headers: ADMIN })
    expect((await call(gw, 'POST', `/api/v1/keys/${id}/rotate`, { headers: ADMIN })).status).toBe(409)
  })

  it('stores per-key limits and refuses unknown fields with a 400 naming them', async () => {
    const { record } = await createKey(gw, { limits: { tokens_per_minute: 1000, budget_usd_per_month: 25 } })
    expect(record.limits).toEqual({ tokens_per_minute: 1000, budget_usd_per_month: 25 })
    const typo = await call(gw, 'POST', '/api/v1/keys', { headers: ADMIN, body: { limits: { request_per_minute: 1 } } })
    expect(typo.status).toBe(400)
    expect(typo.body).toMatchObject({ success: false, error: 'unknown_parameter' })
    expect(typo.body.message).toContain('limits.request_per_minute')
    const unknown = await call(gw, 'POST', '/api/v1/keys', { headers: ADMIN, body: { nmae: 'x' } })
    expect(unknown.body.message).toContain("Unknown field 'nmae'")
    const past = await call(gw, 'POST', '/api/v1/keys', { headers: ADMIN, body: { expires_at: '2001-01-01T00:00:00Z' } })
    expect(past.body).toMatchObject({ error: 'invalid_request', details: null })
  })

  it('records the key\'s last use without a write per request', async () => {
    const { key, id } = await createKey(gw, { role: 'user' })
    const touches = vi.spyOn(capability(gw, Identity).apiKeys, 'touchLastUsed')
    try {
      for (let i = 0; i < 5; i++) await chat(gw, bearer(key))
      expect(touches).toHaveBeenCalledTimes(1)
    } finally {
      touches.mockRestore()
    }
    await vi.waitFor(async () => expect((await call(gw, 'GET', `/api/v1/keys/${id}`, { headers: ADMIN })).body.data.last_used_at).not.toBeNull())
  })
})

describe('per-key limits', () => {
  it('are carried by the key\'s principal and enforced by the limits stage', async () => {
    const gw = await startTestGateway(config({ auth: apiKeyStrategy(), extra: 'services: { keys: {} }\nlimits: { backend: { plugin: memory } }\n' }))
    try {
      const { key } = await createKey(gw, { role: 'user', limits: { requests_per_minute: 2 } })
      const { key: other } = await createKey(gw, { role: 'user' })
      expect((await chat(gw, bearer(key))).status).toBe(200)
      expect((await chat(gw, bearer(key))).status).toBe(200)
      expect((await chat(gw, bearer(key))).status).toBe(429)
      expect((await chat(gw, bearer(other))).status).toBe(200)
    } finally {
      await gw.close()
    }
  })
})
