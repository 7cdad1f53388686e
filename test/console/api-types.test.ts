/**
 * The console's request types are generated from the gateway's OpenAPI document
 * (console/scripts/api-types.ts, openapi-typescript) and committed: this fails when a route's
 * schema changed and console/src/api/openapi.ts was not generated again, so the console's
 * type-check sees the API as it is.
 */
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { TYPES_FILE, expectedTypes, typesSource } from '../../console/scripts/api-types.ts'

describe('the console\'s generated API types', () => {
  it('are what the current route schemas generate (run `npm run generate:console-api` if not)', async () => {
    const committed = await readFile(TYPES_FILE, 'utf8')
    const expected = await expectedTypes()
    // A short message first: the full diff of a 4000-line file says little.
    expect(committed === expected, 'console/src/api/openapi.ts is stale: run `npm run generate:console-api` and commit it').toBe(true)
    expect(committed).toContain('"/api/v1/training/jobs/{id}/deploy"')
  }, 120_000)

  it('hold one type for a schema routes share: /usage and /costs name one AnalyticsRangeMeta', async () => {
    const committed = await readFile(TYPES_FILE, 'utf8')
    // Before, each route's `meta` was an identical inline copy: two types that could drift apart in the console.
    expect(committed.match(/\bAnalyticsRangeMeta: \{/g)).toHaveLength(1)
    expect(committed.match(/meta\?: components\["schemas"\]\["AnalyticsRangeMeta"\];/g)).toHaveLength(2)
    expect(committed.match(/buckets: string\[\] \| null;/g)).toHaveLength(1)
  })

  it('change when a field of a route\'s body is renamed (the check compares what matters)', async () => {
    const doc = (name: string) => ({
      openapi: '3.1.0', info: { title: 't', version: '1' },
      paths: { '/api/v1/things': { post: { requestBody: { content: { 'application/json': { schema: { type: 'object', required: [name], properties: { [name]: { type: 'string' } } } } } }, responses: {} } } },
    })
    const before = await typesSource(doc('route'))
    const after = await typesSource(doc('model'))
    expect(before).toContain('route: string')
    expect(after).toContain('model: string')
    expect(after).not.toBe(before)
  })
})
