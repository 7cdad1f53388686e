/**
 * /api/v1/openapi.json documents what the admin routes answer (the routes with their targets'
 * live state, a reload), and real answers validate against it: a gateway.yaml route with a
 * fallback target, its circuit closed, and a reload.
 */
import { describe, expect, it } from 'vitest'
import { documentedSuite } from '../helpers/documented.ts'

describe('the documented answers of the admin routes', () => {
  const suite = documentedSuite({
    config: `version: 1
providers:
  mock: { plugin: mock }
routes:
  - model: chat
    strategy: fallback
    targets: [ { provider: mock, model: first, timeout_ms: 5000 }, { provider: mock } ]
    retry: { attempts: 2, backoff_ms: 10 }
services:
  docs: {}
`,
    prefixes: ['/api/v1/admin'],
    routes: 2,
  })

  it('answers as documented', async () => {
    const [chat] = await suite.call('GET', '/api/v1/admin/routes')
    expect(chat).toMatchObject({ model: 'chat', strategy: 'fallback', source: 'config', targets: [{ model: 'first', timeout_ms: 5000, circuit: { state: 'closed' } }, { model: null }] })
    expect((await suite.call('POST', '/api/v1/admin/reload', {})).status).toBe('unchanged')
    expect(suite.answers.checked.size).toBe(2)
  })
})
