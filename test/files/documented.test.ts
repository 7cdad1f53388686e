/**
 * /api/v1/openapi.json documents what the management API's file routes answer (a file's record,
 * a list, a deletion; the content as bytes), and real answers validate against it, so a field a
 * view adds or renames without its schema fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { documentedAnswers, expectDataDocumented, type DocumentedAnswers } from '../helpers/documented.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { ADMIN, apiKeyStrategy, config } from '../identity/helpers.ts'

describe('the documented answers of the file routes', () => {
  let gw: RunningGateway
  let doc: any
  let answers: DocumentedAnswers

  beforeAll(async () => {
    gw = await startTestGateway(config({ auth: apiKeyStrategy(), extra: 'services: { files: {}, docs: {} }\n' }))
    doc = await (await fetch(`${gw.url}/api/v1/openapi.json`, { headers: ADMIN })).json()
    answers = documentedAnswers(doc, gw.url)
  }, 120_000)
  afterAll(async () => { await gw?.close() })

  it('declares a schema of its data for every route, and the content as bytes', () => {
    expectDataDocumented(doc, ['/api/v1/files'], 3)
    expect(Object.keys(doc.paths['/api/v1/files/{id}/content'].get.responses['200'].content)).toEqual(['application/octet-stream'])
  })

  it('answers as documented', async () => {
    const form = new FormData()
    form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'hello.txt')
    form.append('purpose', 'user_data')
    const created = await answers.call('POST', '/api/v1/files', ADMIN, form)
    expect(created).toMatchObject({ filename: 'hello.txt', purpose: 'user_data', bytes: 5 })
    expect(await answers.call('GET', '/api/v1/files', ADMIN)).toHaveLength(1)
    await answers.call('GET', `/api/v1/files/${created.id}`, ADMIN)
    expect(await answers.call('DELETE', `/api/v1/files/${created.id}`, ADMIN)).toEqual({ id: created.id, deleted: true })
    expect(answers.checked.size).toBe(4)
  })
})
