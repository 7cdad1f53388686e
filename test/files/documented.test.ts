/**
 * /api/v1/openapi.json documents what the management API's file routes answer (a file's record,
 * a list, a deletion; the content as bytes), and real answers validate against it, so a field a
 * view adds or renames without its schema fails here.
 */
import { describe, expect, it } from 'vitest'
import { documentedSuite } from '../helpers/documented.ts'
import { ADMIN, apiKeyStrategy, config } from '../identity/helpers.ts'

describe('the documented answers of the file routes', () => {
  const suite = documentedSuite({
    config: config({ auth: apiKeyStrategy(), extra: 'services: { files: {}, docs: {} }\n' }),
    headers: ADMIN,
    prefixes: ['/api/v1/files'],
    routes: 3,
  })

  it('documents the content as bytes', () => {
    expect(Object.keys(suite.doc.paths['/api/v1/files/{id}/content'].get.responses['200'].content)).toEqual(['application/octet-stream'])
  })

  it('answers as documented', async () => {
    const { call } = suite
    const form = new FormData()
    form.append('file', new Blob(['hello'], { type: 'text/plain' }), 'hello.txt')
    form.append('purpose', 'user_data')
    const created = await call('POST', '/api/v1/files', form)
    expect(created).toMatchObject({ filename: 'hello.txt', purpose: 'user_data', bytes: 5 })
    expect(await call('GET', '/api/v1/files')).toHaveLength(1)
    await call('GET', `/api/v1/files/${created.id}`)
    expect(await call('DELETE', `/api/v1/files/${created.id}`)).toEqual({ id: created.id, deleted: true })
    expect(suite.answers.checked.size).toBe(4)
  })
})
