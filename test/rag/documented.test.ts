/**
 * /api/v1/openapi.json documents what the RAG routes answer (collections, documents, search):
 * every route has a response schema, and real answers validate against it (a failed ingest with
 * its error, its retry, hits with their sources), so a field a view adds or renames without its
 * schema fails here (and the console, typed from the document, sees it at type-check).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { documentedAnswers, expectDataDocumented, type DocumentedAnswers } from '../helpers/documented.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { KEYS, api, ragConfig, startRagUpstream, type Api, type RagUpstream } from './helpers.ts'

const DANA = { authorization: `Bearer ${KEYS.dana}` }

describe('the documented answers of the RAG routes', () => {
  let gw: RunningGateway
  let upstream: RagUpstream
  let rag: Api
  let doc: any
  let answers: DocumentedAnswers

  beforeAll(async () => {
    upstream = await startRagUpstream()
    gw = await startTestGateway(`${ragConfig(upstream)}  docs: {}\n`)
    rag = api(gw)
    doc = await (await fetch(`${gw.url}/api/v1/openapi.json`, { headers: DANA })).json()
    answers = documentedAnswers(doc, gw.url)
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('declares a schema of its data for every route', () => {
    expectDataDocumented(doc, ['/api/v1/rag'], 6)
  })

  it('answers as documented: collections, a failed and retried document, search', async () => {
    const { call } = answers
    const base = '/api/v1/rag/collections'
    const created = await call('POST', base, DANA, { name: 'Handbook', dept_scope: 'research', metadata: { team: 'hr' } })
    expect(created).toMatchObject({ name: 'Handbook', dept_scope: 'research', documents: { total: 0 } })
    expect(await call('GET', base, DANA)).toHaveLength(1)
    await call('PATCH', `${base}/${created.id}`, DANA, { name: 'HR handbook' })

    upstream.beforeEmbed = () => { throw new Error('embedding backend on fire') }
    const form = new FormData()
    form.append('file', new Blob(['The zeppelin hangar opens at dawn.'], { type: 'text/plain' }), 'zeppelin.txt')
    form.append('attributes', JSON.stringify({ year: 2026, public: true }))
    let failed: any
    try {
      const [queued] = await call('POST', `${base}/${created.id}/documents`, DANA, form)
      ;[failed] = await rag.settled(created.id, 'dana')
      expect(failed).toMatchObject({ id: queued.id, status: 'failed' })
    } finally {
      upstream.beforeEmbed = undefined
    }
    const [listed] = await call('GET', `${base}/${created.id}/documents`, DANA)
    expect(listed.error.message).toContain('embedding backend on fire')
    await call('POST', `${base}/${created.id}/documents/${failed.id}/retry`, DANA)
    await rag.settled(created.id, 'dana')
    const done = await call('GET', `${base}/${created.id}/documents/${failed.id}`, DANA)
    expect(done).toMatchObject({ status: 'completed', error: null, attributes: { year: 2026, public: true } })
    expect((await call('GET', `${base}/${created.id}`, DANA)).documents).toMatchObject({ completed: 1, total: 1 })

    const [hit] = await call('POST', `${base}/${created.id}/search`, DANA, { query: 'zeppelin hangar', hybrid: true })
    expect(hit).toMatchObject({ document_id: failed.id, filename: 'zeppelin.txt' })
    expect(await call('DELETE', `${base}/${created.id}/documents/${failed.id}`, DANA)).toEqual({ id: failed.id, deleted: true })
    expect(await call('DELETE', `${base}/${created.id}`, DANA)).toEqual({ id: created.id, deleted: true })
    expect(answers.checked.size).toBe(11)
  }, 60_000)
})
