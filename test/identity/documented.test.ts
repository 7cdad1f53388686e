/**
 * /api/v1/openapi.json documents what the keys and users routes answer: every route has a
 * response schema, and real answers (the envelope's `data`) validate against it, so a field added
 * to or renamed in a view without its schema fails here (and the console, typed from the
 * document, sees it at type-check).
 */
import { describe, expect, it } from 'vitest'
import { documentedSuite } from '../helpers/documented.ts'
import { ADMIN, apiKeyStrategy, bearer, config } from './helpers.ts'

const RITA_KEY = 'documented-rita-key-0123456789'

describe('the documented answers of the keys and users routes', () => {
  const suite = documentedSuite({
    config: config({
      auth: apiKeyStrategy(`        - { key: "${RITA_KEY}", user: rita, role: user, department: research }\n`),
      extra: 'services: { keys: {}, users: {}, docs: {} }\ndepartments:\n  research: {}\n  sales: {}\n',
    }),
    headers: ADMIN,
    prefixes: ['/api/v1/keys', '/api/v1/users'],
    routes: 7,
  })

  it('answers as documented', async () => {
    const { call } = suite
    const me = await suite.answers.call('GET', '/api/v1/users/me', bearer(RITA_KEY))
    expect(me).toMatchObject({ role: 'user', department: 'research' })
    await call('GET', '/api/v1/users/me')
    const users = await call('GET', '/api/v1/users')
    const rita = users.find((u: { id: string }) => u.id === me.user_id)
    expect(rita, JSON.stringify(users)).toBeDefined()
    await call('GET', `/api/v1/users/${rita.id}`)
    await call('PATCH', `/api/v1/users/${rita.id}`, { department: 'sales' })
    await call('GET', '/api/v1/users/roles')
    expect(await call('GET', '/api/v1/users/departments')).toHaveLength(2)

    const created = await call('POST', '/api/v1/keys', {
      name: 'documented', user_id: rita.id, allowed_models: ['mock-a'], limits: { requests_per_minute: 60 }, expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    })
    expect(created.key).toMatch(/\S{20,}/)
    await call('GET', '/api/v1/keys')
    await call('GET', `/api/v1/keys/${created.id}`)
    const rotated = await call('POST', `/api/v1/keys/${created.id}/rotate`, { grace_s: 60 })
    expect(rotated).toMatchObject({ id: created.id, replaces: created.id })
    const revoked = await call('DELETE', `/api/v1/keys/${rotated.id}`)
    expect(revoked.status).toBe('revoked')
    expect(suite.answers.checked.size).toBe(11)
  })
})
