/**
 * /api/v1/openapi.json documents what the RAG routes answer (collections, documents, search):
 * every route has a response schema, and real answers validate against it (a failed ingest with
 * its error, its retry, hits with their sources), so a field a view adds or renames without its
 * schema fails here (and the console, typed from the document, sees it at type-check).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { documentedSuite } from '../helpers/documented.ts'
import { KEYS, api, ragConfig, startRagUpstream, type RagUpstream } from './helpers.ts'

describe('the documented answers of the RAG routes', () => {
  let upstream: RagUpstream
  beforeAll(async () => { upstream = await startRagUpstream() })
  afterAll(async () => { await upstream?.close() })
  const suite = documentedSuite({
    config: () => `${ragConfig(upstream)}  docs: {}\n`,
    headers: { authorization: `Bearer ${KEYS.dana}` },
    prefixes: ['/api/v1/rag'],
    routes: 6,
  })

  it('answers as documented: collections, a failed and retried document, search', async () => {
    const { call } = suite
    const rag = api(suite.gw)
    const base = '/api/v1/rag/collections'
    const created = await call('POST', base, { name: 'Handbook', dept_scope: 'research', metadata: { team: 'hr' } })
    expect(created).toMatchObject({ name: 'Handbook', dept_scope: 'research', documents: { total: 0 } })
    expect(await call('GET', base)).toHaveLength(1)
    await call('PATCH', `${base}/${created.id}`, { name: 'HR handbook' })

    upstream.beforeEmbed = () => { throw new Error('embedding backend on fire') }
    const form = new FormData()
    form.append('file', new Blob(['The zeppelin hangar opens at dawn.'], { type: 'text/plain' }), 'zeppelin.txt')
    form.append('attributes', JSON.stringify({ year: 2026, public: true }))
    let failed: any
    try {
      const [queued] = await call('POST', `${base}/${created.id}/documents`, form)
      ;[failed] = await rag.settled(created.id, 'dana')
      expect(failed).toMatchObject({ id: queued.id, status: 'failed' })
    } finally {
      upstream.beforeEmbed = undefined
    }
    const [listed] = await call('GET', `${base}/${created.id}/documents`)
    expect(listed.error.message).toContain('embedding backend on fire')
    await call('POST', `${base}/${created.id}/documents/${failed.id}/retry`)
    await rag.settled(created.id, 'dana')
    const done = await call('GET', `${base}/${created.id}/documents/${failed.id}`)
    expect(done).toMatchObject({ status: 'completed', error: null, attributes: { year: 2026, public: true } })
    expect((await call('GET', `${base}/${created.id}`)).documents).toMatchObject({ completed: 1, total: 1 })

    const [hit] = await call('POST', `${base}/${created.id}/search`, { query: 'zeppelin hangar', hybrid: true })
    expect(hit).toMatchObject({ document_id: failed.id, filename: 'zeppelin.txt' })
    expect(await call('DELETE', `${base}/${created.id}/documents/${failed.id}`)).toEqual({ id: failed.id, deleted: true })
    expect(await call('DELETE', `${base}/${created.id}`)).toEqual({ id: created.id, deleted: true })
    expect(suite.answers.checked.size).toBe(11)
  }, 60_000)
})
