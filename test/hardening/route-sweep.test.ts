/**
 * Every route a gateway with every built-in service serves, the management API's (from its own
 * OpenAPI document) and the API surfaces' (from the running config), sent what a careless or
 * hostile client sends: no body, bodies of the wrong shape, wrong-typed fields, NUL characters in
 * text (PostgreSQL cannot keep them), JSON nested past the limit, and path ids and query values
 * that are NUL, very long, non-ASCII or nonsense. Each answer must be the client's error (4xx) or
 * a success, never a 5xx, and each error must be JSON with a machine-readable code. It found a
 * NUL in an id (`/v1/fine_tuning/jobs/%00`, `DELETE /v1/models/%00`) and in a conversation's
 * metadata answered 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

const ADMIN = 'route-sweep-admin-key-0123456789'

const IDS = ['x', '%00', 'a'.repeat(3000), '%F0%9F%98%80', '..%2F..']
const NUL = '\\u0000'
const BODIES: (string | undefined)[] = [
  undefined, '', '[]', '"text"', 'null', '{}',
  '{"model":1,"input":{},"messages":"x","name":[],"metadata":7,"limit":-1,"file_ids":"f","purpose":9}',
  `{"model":"mock","messages":[{"role":"user","content":"${NUL}"}],"name":"${NUL}","title":"${NUL}","metadata":{"k":"${NUL}"},"input":"${NUL}","instructions":"${NUL}","items":[{"type":"message","role":"user","content":"${NUL}"}]}`,
  `{"a":${'['.repeat(2000)}${']'.repeat(2000)}}`,
]
const QUERIES = ['', '?limit=-1&after=%00&order=sideways', '?limit=abc&before=zz&from=notadate&to=1e999&group_by=nonsense&page_size=1e99']

let gw: RunningGateway
beforeAll(async () => {
  gw = await startTestGateway(`version: 1
store: { plugin: embedded, memory: true, vector: true }
queue: { plugin: memory }
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
auth:
  strategies:
    - plugin: api-key
      keys: [ { key: "${ADMIN}", user: admin, role: admin } ]
services:
  files: {}
  training: {}
  batches: {}
  analytics: {}
  keys: {}
  users: {}
  auth: {}
  docs: {}
  rag: { embedding_route: mock }
  conversations: {}
  chat: {}
  assistants: {}
surfaces:
  responses: {}
  anthropic: {}
`)
}, 60_000)
afterAll(() => gw?.close())

/** Every route as [METHOD, path template with `{}` where a parameter goes]. */
async function routes(): Promise<[string, string][]> {
  const all: [string, string][] = []
  const doc = (await (await fetch(`${gw.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> }
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const method of Object.keys(operations)) if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) all.push([method.toUpperCase(), path.replace(/\{[^}]+\}/g, '{}')])
  }
  for (const { surface } of gw.controller.current.surfaces) {
    for (const endpoint of surface.endpoints) all.push([endpoint.method.toUpperCase(), endpoint.path.replace(/:[^/]+/g, '{}')])
  }
  return all
}

describe('every route, sent malformed input', () => {
  it('answers a 4xx with a JSON error code or a success, never a 5xx', { timeout: 180_000 }, async () => {
    const list = await routes()
    // The management API, the OpenAI surface's model, file, batch, fine-tuning and vector store routes, Responses, Anthropic's.
    expect(list.length).toBeGreaterThan(80)
    const wrong: string[] = []
    let sent = 0
    for (const [method, template] of list) {
      for (const id of template.includes('{}') ? IDS : ['']) {
        const path = template.replaceAll('{}', id)
        const tries = method === 'GET' || method === 'DELETE' ? QUERIES.map((query) => ({ query, body: undefined })) : BODIES.map((body) => ({ query: '', body }))
        for (const { query, body } of tries) {
          const res = await fetch(`${gw.url}${path}${query}`, {
            method, body, headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          })
          const text = await res.text()
          sent++
          const said = `${res.status} ${method} ${path.slice(0, 60)}${query} ${(body ?? '(no body)').slice(0, 60)}: ${text.slice(0, 200)}`
          if (res.status >= 500 && res.status !== 501) wrong.push(said)
          else if (res.status >= 400) {
            let parsed: { error?: unknown } | undefined
            try { parsed = JSON.parse(text) } catch { parsed = undefined }
            const error = parsed?.error as { code?: unknown; type?: unknown } | string | undefined
            const code = typeof error === 'string' ? error : error?.code ?? error?.type
            if (typeof code !== 'string' || !code) wrong.push(`no error code: ${said}`)
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(1000)
    expect(wrong).toEqual([])
  })
})
