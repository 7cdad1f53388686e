/**
 * /api/v1/openapi.json documents what the keys and users routes answer: every route has a
 * response schema, and real answers (the envelope's `data`) validate against it, so a field added
 * to or renamed in a view without its schema fails here (and the console, typed from the
 * document, sees it at type-check).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { documentedAnswers, expectDataDocumented, type DocumentedAnswers } from '../helpers/documented.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { ADMIN, apiKeyStrategy, bearer, call, config } from './helpers.ts'

const RITA_KEY = 'documented-rita-key-0123456789'

describe('the documented answers of the keys and users routes', () => {
  let gw: RunningGateway
  let doc: any
  let answers: DocumentedAnswers

  beforeAll(async () => {
    gw = await startTestGateway(config({
      auth: apiKeyStrategy(`        - { key: "${RITA_KEY}", user: rita, role: user, department: research }\n`),
      extra: 'services: { keys: {}, users: {}, docs: {} }\ndepartments:\n  research: {}\n  sales: {}\n',
    }))
    doc = (await call(gw, 'GET', '/api/v1/openapi.json', { headers: ADMIN })).body
    answers = documentedAnswers(doc)
  }, 60_000)
  afterAll(async () => { await gw?.close() })

  async function documented(headers: Record<string, string>, method: string, path: string, body?: unknown): Promise<any> {
    const res = await call(gw, method, path, { headers, body })
    return answers.check(method, path, res.status, res.body)
  }

  it('declares a schema of its data for every route', () => {
    expectDataDocumented(doc, ['/api/v1/keys', '/api/v1/users'], 7)
  })

  it('answers as documented', async () => {
    const me = await documented(bearer(RITA_KEY), 'GET', '/api/v1/users/me')
    expect(me).toMatchObject({ role: 'user', department: 'research' })
    await documented(ADMIN, 'GET', '/api/v1/users/me')
    const users = await documented(ADMIN, 'GET', '/api/v1/users')
    const rita = users.find((u: { id: string }) => u.id === me.user_id)
    expect(rita, JSON.stringify(users)).toBeDefined()
    await documented(ADMIN, 'GET', `/api/v1/users/${rita.id}`)
    await documented(ADMIN, 'PATCH', `/api/v1/users/${rita.id}`, { department: 'sales' })
    await documented(ADMIN, 'GET', '/api/v1/users/roles')
    expect(await documented(ADMIN, 'GET', '/api/v1/users/departments')).toHaveLength(2)

    const created = await documented(ADMIN, 'POST', '/api/v1/keys', {
      name: 'documented', user_id: rita.id, allowed_models: ['mock-a'], limits: { requests_per_minute: 60 }, expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    })
    expect(created.key).toMatch(/\S{20,}/)
    await documented(ADMIN, 'GET', '/api/v1/keys')
    await documented(ADMIN, 'GET', `/api/v1/keys/${created.id}`)
    const rotated = await documented(ADMIN, 'POST', `/api/v1/keys/${created.id}/rotate`, { grace_s: 60 })
    expect(rotated.replaces).toBe(created.id)
    const revoked = await documented(ADMIN, 'DELETE', `/api/v1/keys/${rotated.id}`)
    expect(revoked.status).toBe('revoked')
    expect(answers.checked.size).toBe(11)
  })
})
