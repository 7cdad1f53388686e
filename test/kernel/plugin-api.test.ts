/**
 * The published plugin API: third-party plugins in TypeScript (test/fixtures/published-api),
 * importing only `ai-gateway/plugin`, loaded from gateway.yaml by path, each doing its kind's job
 * through the contract alone: a provider, an auth strategy, a stage, a service with its own table, a surface.
 */
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capability, postJson, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { UsageLog } from '../../plugins/contracts/capabilities.ts'
import { waitFor } from '../helpers/wait.ts'

const FIXTURES = path.resolve('test/fixtures/published-api')
const as = (user: string, role = 'user') => ({ 'x-fixture-user': user, 'x-fixture-role': role })

describe('third-party plugins on the published API', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(`version: 1
plugins: [ ./echo-provider, ./header-auth, ./redact-stage, ./rename-stage, ./pin-stage, ./notes-service, ./greetings-surface ]
store: { plugin: embedded, memory: true }
providers:
  echo: { plugin: echo-ts, prefix: heard }
  echo2: { plugin: echo-ts, prefix: echoed }
routes:
  - model: echo
    targets: [ { provider: echo } ]
  - model: echo-fallback
    strategy: fallback
    retry: { attempts: 0 }
    targets: [ { provider: echo }, { provider: echo } ]
  - model: echo-pair
    strategy: fallback
    retry: { attempts: 0 }
    # Models of their own: the failures this route's test provokes count toward these targets' circuits only.
    targets: [ { provider: echo, model: pair-a }, { provider: echo2, model: pair-b } ]
  - model: echo-breaker
    retry: { attempts: 0 }
    circuit: { failures: 2, window_s: 30, cooldown_s: 30 }
    targets: [ { provider: echo, model: breaker-a }, { provider: echo2, model: breaker-b } ]
auth:
  strategies: [ { plugin: header-ts } ]
stages:
  redact: { plugin: redact-ts, forbidden: [ "launch codes" ], routes: [ "echo" ] }
  rename: { plugin: rename-ts, names: { echo-legacy: echo } }
  pin: { plugin: pin-ts, header: x-pin-provider }
services:
  notes: { plugin: notes-ts, summary_model: echo }
surfaces:
  greetings: { plugin: greetings-ts }
`, { dir: FIXTURES })
  }, 60_000)
  afterAll(() => gw?.close())

  it('serves chat, streams and embeddings from the provider, driven by the official SDK', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', defaultHeaders: as('ann'), maxRetries: 0 })
    const answer = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'hello there' }] })
    expect(answer.choices[0].message.content).toBe('heard: hello there')
    let streamed = ''
    for await (const chunk of await client.chat.completions.create({ model: 'echo', stream: true, messages: [{ role: 'user', content: 'one two' }] })) streamed += chunk.choices[0]?.delta?.content ?? ''
    expect(streamed).toBe('heard: one two')
    const vectors = await client.embeddings.create({ model: 'echo', input: ['a', 'b'], encoding_format: 'float' })
    expect(vectors.data.map((d) => d.embedding)).toEqual([[1, 0, 0], [1, 0, 0]])
  })

  it('maps the provider\'s own error class by its shape: status, code, retryable (it falls back)', async () => {
    const busy = await postJson(`${gw.url}/v1/chat/completions`, { model: 'echo', metadata: { fail: 'busy' }, messages: [{ role: 'user', content: 'x' }] }, as('ann'))
    expect(busy.status).toBe(429)
    expect(busy.body.error).toMatchObject({ code: 'echo_busy', message: 'the echo is busy' })
    const fallback = await postJson(`${gw.url}/v1/chat/completions`, { model: 'echo-fallback', metadata: { fail: 'busy' }, messages: [{ role: 'user', content: 'x' }] }, as('ann'))
    expect(fallback.headers.get('x-gateway-attempts')).toBe('2')
  })

  it('authenticates with the strategy, and its own 401 reaches the client in the surface\'s shape', async () => {
    expect((await postJson(`${gw.url}/v1/chat/completions`, { model: 'echo', messages: [{ role: 'user', content: 'x' }] })).status).toBe(401)
    const banned = await postJson(`${gw.url}/v1/chat/completions`, { model: 'echo', messages: [{ role: 'user', content: 'x' }] }, as('banned'))
    expect(banned.status).toBe(401)
    expect(banned.body.error).toMatchObject({ code: 'user_banned', type: 'authentication_error' })
  })

  it('runs the stage on its routes: the provider never sees the e-mail address, a forbidden word is refused', async () => {
    const redacted = await postJson(`${gw.url}/v1/chat/completions`, { model: 'echo', messages: [{ role: 'user', content: 'mail ann@example.com now' }] }, as('ann'))
    expect(redacted.body.choices[0].message.content).toBe('heard: mail [email] now')
    expect(redacted.headers.get('x-redacted')).toBe('1')
    const refused = await postJson(`${gw.url}/v1/chat/completions`, { model: 'echo', messages: [{ role: 'user', content: 'the launch codes please' }] }, as('ann'))
    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({ code: 'content_refused', param: 'messages' })
    // Not on a route the stage does not name.
    const elsewhere = await postJson(`${gw.url}/v1/chat/completions`, { model: 'echo-fallback', messages: [{ role: 'user', content: 'ann@example.com' }] }, as('ann'))
    expect(elsewhere.body.choices[0].message.content).toBe('heard: ann@example.com')
    expect(elsewhere.headers.get('x-redacted')).toBeNull()
    // Its log phase saw the earlier requests' outcomes.
    const next = await postJson(`${gw.url}/v1/chat/completions`, { model: 'echo', messages: [{ role: 'user', content: 'x' }] }, as('ann'))
    expect(Number(next.headers.get('x-outcomes-so-far'))).toBeGreaterThanOrEqual(2)
  })

  it('lets a stage rewrite the request before routing (the request phase)', async () => {
    const legacy = await postJson(`${gw.url}/v1/chat/completions`, { model: 'echo-legacy', messages: [{ role: 'user', content: 'hi' }] }, as('ann'))
    expect(legacy.status).toBe(200)
    expect(legacy.headers.get('x-gateway-route')).toBe('echo')
  })

  it('lets a stage choose the targets (the targets phase): a pinned request goes to its provider alone, others keep the route\'s strategy', async () => {
    const ask = (headers: Record<string, string>, metadata?: Record<string, string>) => postJson(`${gw.url}/v1/chat/completions`, { model: 'echo-pair', metadata, messages: [{ role: 'user', content: 'hi' }] }, { ...as('ann'), ...headers })
    expect((await ask({})).body.choices[0].message.content).toBe('heard: hi')
    const pinned = await ask({ 'x-pin-provider': 'echo2' })
    expect(pinned.body.choices[0].message.content).toBe('echoed: hi')
    expect(pinned.headers.get('x-gateway-provider')).toBe('echo2')
    // The route falls back past a busy target; a pinned request is tried on its provider alone.
    expect((await ask({}, { fail: 'busy' })).headers.get('x-gateway-attempts')).toBe('2')
    const busy = await ask({ 'x-pin-provider': 'echo' }, { fail: 'busy' })
    expect(busy.status).toBe(429)
    expect(busy.headers.get('x-gateway-attempts')).toBe('1')
    // A provider the route does not have: the stage gives no plan, the route's strategy decides.
    expect((await ask({ 'x-pin-provider': 'elsewhere' })).body.choices[0].message.content).toBe('heard: hi')
  })

  it('keeps the routing stage\'s circuit breakers on a third-party stage\'s plan made through Circuits', async () => {
    const ask = (metadata?: Record<string, string>) => postJson(`${gw.url}/v1/chat/completions`, { model: 'echo-breaker', metadata, messages: [{ role: 'user', content: 'hi' }] }, { ...as('ann'), 'x-pin-provider': 'echo' })
    expect((await ask({ fail: 'busy' })).status).toBe(429)
    expect((await ask({ fail: 'busy' })).status).toBe(429)
    // Two failures open breaker-a's circuit: the pinned plan admits no target.
    const refused = await ask()
    expect(refused.status).toBe(503)
    expect(refused.body.error.code).toBe('circuit_open')
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(29)
    const routes = await (await fetch(`${gw.url}/api/v1/admin/routes`, { headers: as('root', 'admin') })).json()
    const targets = routes.data.find((r: { model: string }) => r.model === 'echo-breaker').targets
    expect(targets.map((t: { circuit: { state: string } }) => t.circuit.state)).toEqual(['open', 'closed'])
    // The route's own strategy, unpinned, falls back past the open target.
    const unpinned = await postJson(`${gw.url}/v1/chat/completions`, { model: 'echo-breaker', messages: [{ role: 'user', content: 'hi' }] }, as('ann'))
    expect(unpinned.body.choices[0].message.content).toBe('echoed: hi')
    expect(unpinned.headers.get('x-gateway-attempts')).toBe('1')
  })

  it('runs a stage\'s http phase on every request the config serves, not on the kernel\'s probes', async () => {
    expect((await postJson(`${gw.url}/v1/chat/completions`, { model: 'echo', messages: [{ role: 'user', content: 'x' }] })).headers.get('x-pin-stage')).toBe('seen')
    expect((await fetch(`${gw.url}/api/v1/notes`, { headers: as('ann') })).headers.get('x-pin-stage')).toBe('seen')
    expect((await fetch(`${gw.url}/notes-help`)).headers.get('x-pin-stage')).toBe('seen')
    expect((await fetch(`${gw.url}/v1/no-such-path`)).headers.get('x-pin-stage')).toBe('seen')
    expect((await fetch(`${gw.url}/health`)).headers.get('x-pin-stage')).toBeNull()
  })

  it('serves a service\'s public page outside /api/v1 without credentials, as it is', async () => {
    const page = await fetch(`${gw.url}/notes-help`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toContain('text/plain')
    expect(await page.text()).toBe('Notes help (you are nobody).')
  })

  it('mounts the service with its own table, validates its input, scopes its records, and calls the pipeline', async () => {
    const created = await postJson(`${gw.url}/api/v1/notes`, { text: 'the meeting moved to noon' }, as('ann'))
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ success: true, data: { user_id: 'ann', text: 'the meeting moved to noon' } })
    const invalid = await postJson(`${gw.url}/api/v1/notes`, { text: '' }, as('ann'))
    expect(invalid.status).toBe(400)
    expect(invalid.body).toMatchObject({ success: false, error: 'invalid_value', details: null })
    const unknown = await postJson(`${gw.url}/api/v1/notes`, { txt: 'x' }, as('ann'))
    expect(unknown.body).toMatchObject({ error: 'unknown_parameter' })

    const list = await (await fetch(`${gw.url}/api/v1/notes`, { headers: as('ann') })).json()
    expect(list.meta.count).toBe(1)
    expect((await (await fetch(`${gw.url}/api/v1/notes`, { headers: as('bob') })).json()).data).toEqual([])

    const id = created.body.data.id
    const summary = await postJson(`${gw.url}/api/v1/notes/${id}/summary`, {}, as('ann'))
    expect(summary.body.data).toMatchObject({ summary: 'heard: the meeting moved to noon', route: 'echo', provider: 'echo' })
    expect(summary.body.data.tokens).toBeGreaterThan(0)
    // Another user's note is not found, not forbidden.
    expect((await postJson(`${gw.url}/api/v1/notes/${id}/summary`, {}, as('bob'))).status).toBe(404)
    // The service's model call is a request of its own in the usage log.
    const log = capability(gw, UsageLog)
    const { value } = await waitFor(async () => {
      const rows = await log.list({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000), userId: 'ann' })
      return rows.find((r) => r.completionTokens === 6 && r.route === 'echo') ? rows : undefined
    })
    expect(value).toBeDefined()
  })

  it('serves a surface\'s routes as the router picks them: the first declared route that matches, fixed path or pattern', async () => {
    const get = async (path: string) => { const res = await fetch(`${gw.url}${path}`); return { status: res.status, body: await res.json(), stage: res.headers.get('x-pin-stage') } }
    expect(await get('/v1/greetings')).toEqual({ status: 200, body: { greetings: ['hello', 'hi'] }, stage: 'seen' })
    expect((await get('/v1/greetings/ann')).body).toEqual({ hello: 'ann' })
    // A fixed path declared after a pattern that matches it stays the pattern's.
    expect((await get('/v1/greetings/today')).body).toEqual({ hello: 'today' })
    // What the router allows besides the path as declared: any case, one trailing slash.
    expect((await get('/V1/Greetings/')).body).toEqual({ greetings: ['hello', 'hi'] })
    const sent = await postJson(`${gw.url}/v1/greetings`, { to: 'bob' })
    expect(sent).toMatchObject({ status: 201, body: { sent: 'bob' } })
    expect((await postJson(`${gw.url}/v1/greetings`, { too: 'bob' })).status).toBe(400)
    const wrongMethod = await fetch(`${gw.url}/v1/greetings`, { method: 'DELETE' })
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toContain('POST')
  })
})
