/**
 * /api/v1/openapi.json documents what the admin routes answer (the routes with their targets'
 * live state, a reload), and real answers validate against it: a gateway.yaml route with a
 * fallback target, its circuit closed, and a reload.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { documentedAnswers, expectDataDocumented, type DocumentedAnswers } from '../helpers/documented.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

describe('the documented answers of the admin routes', () => {
  let gw: RunningGateway
  let doc: any
  let answers: DocumentedAnswers

  beforeAll(async () => {
    gw = await startTestGateway(`version: 1
providers:
  mock: { plugin: mock }
routes:
  - model: chat
    strategy: fallback
    targets: [ { provider: mock, model: first, timeout_ms: 5000 }, { provider: mock } ]
    retry: { attempts: 2, backoff_ms: 10 }
services:
  docs: {}
`)
    doc = await (await fetch(`${gw.url}/api/v1/openapi.json`)).json()
    answers = documentedAnswers(doc, gw.url)
  }, 60_000)
  afterAll(async () => { await gw?.close() })

  it('declares a schema of its data for every route', () => {
    expectDataDocumented(doc, ['/api/v1/admin'], 2)
  })

  it('answers as documented', async () => {
    const [chat] = await answers.call('GET', '/api/v1/admin/routes')
    expect(chat).toMatchObject({ model: 'chat', strategy: 'fallback', source: 'config', targets: [{ model: 'first', timeout_ms: 5000, circuit: { state: 'closed' } }, { model: null }] })
    expect((await answers.call('POST', '/api/v1/admin/reload', {}, {})).status).toBe('unchanged')
    expect(answers.checked.size).toBe(2)
  })
})
