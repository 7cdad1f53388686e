/**
 * `client.models.list()` and `client.models.retrieve(id)` as the official openai Node SDK calls
 * them: every name a chat request may use can be retrieved (an alias, a name a glob route
 * answers, a name with a slash), in OpenAI's Model schema; a name the caller may not use is a
 * NotFoundError, as OpenAI answers it.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { expectOpenAISchema } from '../../helpers/openai-schema.ts'
import type { GatewayCalls, Logger, ModelInfo, Provider } from '../../../plugin-api/index.ts'
import { ModelDiscovery } from '../../../plugins/surfaces/openai/models.ts'

const ALICE = 'sk-alice-0123456789abcdef'
const SAM = 'sk-sam-0123456789abcdef0'

let gw: RunningGateway

beforeAll(async () => {
  gw = await startTestGateway(`version: 1
providers:
  m: { plugin: mock }
routes:
  - { model: chat-default, aliases: [default], targets: [ { provider: m } ] }
  - { model: "claude-*", targets: [ { provider: m } ] }
  - { model: openai/gpt-4o, targets: [ { provider: m } ] }
  - { model: secret, targets: [ { provider: m } ] }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: ${ALICE}, user: alice, role: admin, department: research }
        - { key: ${SAM}, user: sam, role: user, department: sales }
departments:
  research: {}
  sales: { models: [chat-default, default, "claude-*", openai/gpt-4o] }
`)
})
afterAll(async () => { await gw?.close() })

const sdk = (apiKey = ALICE) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 })
const hello = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] })

describe('models through the openai SDK', () => {
  it('models.list() answers OpenAI\'s list schema, each entry a Model', async () => {
    const page = await sdk().models.list()
    expectOpenAISchema('ListModelsResponse', { object: 'list', data: page.data })
    expect(page.data.map((m) => m.id)).toEqual(expect.arrayContaining(['chat-default', 'default', 'openai/gpt-4o', 'secret']))
  })

  it.each(['chat-default', 'default', 'openai/gpt-4o', 'claude-3-5-haiku'])('models.retrieve(%j) answers every name chat answers', async (id) => {
    await sdk().chat.completions.create(hello(id))
    const model = await sdk().models.retrieve(id)
    expectOpenAISchema('Model', model)
    expect(model).toMatchObject({ id, object: 'model' })
  })

  it('a name no route answers, or one the caller\'s department may not use, is a NotFoundError with code model_not_found', async () => {
    for (const [key, id] of [[ALICE, 'gpt-9'], [SAM, 'secret']] as const) {
      const err = await sdk(key).models.retrieve(id).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(OpenAI.NotFoundError)
      expect(err).toMatchObject({ code: 'model_not_found', param: 'model' })
    }
    expect((await sdk(SAM).models.list()).data.map((m) => m.id)).not.toContain('secret')
  })
})

/**
 * A glob route (`claude-*`) has no name of its own to list: /v1/models lists the names it answers
 * of its providers' own model lists, for the caller, so pickers show them.
 */
describe('models a glob route answers, from its providers\' lists', () => {
  let upstream: http.Server
  let upstreamLists = 0
  let listed: RunningGateway
  const BOB = 'sk-bob-0123456789abcdef00'

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      req.resume()
      if (req.method === 'GET' && req.url === '/v1/models') {
        upstreamLists++
        const data = ['gpt-4o', 'gpt-4o-mini', 'o3', 'text-embedding-3-small'].map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'openai' }))
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data }))
      } else if (req.method === 'POST' && req.url === '/v1/chat/completions') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
          id: 'chatcmpl-1', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-mini',
          choices: [{ index: 0, message: { role: 'assistant', content: 'hello', refusal: null }, finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }))
      } else if (req.url?.startsWith('/broken/')) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"down","type":"server_error"}}')
      } // else /slow/: never answered
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
    listed = await startTestGateway(`version: 1
providers:
  m: { plugin: mock, models: [claude-3-5-haiku, claude-sonnet-4, mock-1, gpt-4o-mini] }
  up: { plugin: openai, api_key: sk-test, base_url: "${origin}/v1" }
  broken: { plugin: openai, api_key: sk-test, base_url: "${origin}/broken/v1" }
  slow: { plugin: openai, api_key: sk-test, base_url: "${origin}/slow/v1" }
routes:
  - { model: chat-default, targets: [ { provider: m } ] }
  - { model: "claude-*", targets: [ { provider: m } ] }
  - { model: "gpt-*", targets: [ { provider: up } ] }
  - { model: "broken-*", targets: [ { provider: broken } ] }
  - { model: "slow-*", targets: [ { provider: slow } ] }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: ${ALICE}, user: alice, role: admin }
        - { key: ${SAM}, user: sam, role: user, department: sales }
        - { key: ${BOB}, user: bob, role: user, department: support }
departments:
  sales: { models: [chat-default, "claude-3-5-*", gpt-4o-mini] }
  support: { models: ["claude-*"] }
`)
  })
  afterAll(async () => {
    await listed?.close()
    upstream?.closeAllConnections()
    await new Promise((resolve) => upstream?.close(resolve))
  })

  const client = (apiKey: string) => new OpenAI({ baseURL: `${listed.url}/v1`, apiKey, maxRetries: 0 })
  const ids = async (apiKey: string) => (await client(apiKey).models.list()).data.map((m) => m.id)

  it('lists the routes\' own names, then the names each glob answers of its providers\' lists; a provider that fails or hangs adds nothing', async () => {
    const started = Date.now()
    // The slow provider's first list is given up after 5 s; the rest are listed meanwhile.
    expect(await ids(ALICE)).toEqual(['chat-default', 'claude-3-5-haiku', 'claude-sonnet-4', 'gpt-4o-mini', 'gpt-4o'])
    expect(Date.now() - started).toBeLessThan(15_000)
    // Once failed, a provider is not waited for again until its retry.
    const again = Date.now()
    expect(await ids(ALICE)).toEqual(['chat-default', 'claude-3-5-haiku', 'claude-sonnet-4', 'gpt-4o-mini', 'gpt-4o'])
    expect(Date.now() - again).toBeLessThan(1_000)
  })

  it('lists for each caller only what their department answers', async () => {
    expect(await ids(SAM)).toEqual(['chat-default', 'claude-3-5-haiku', 'gpt-4o-mini'])
    expect(await ids(BOB)).toEqual(['claude-3-5-haiku', 'claude-sonnet-4'])
  })

  it('a listed name is one chat answers and models.retrieve() finds', async () => {
    for (const id of await ids(SAM)) {
      expect((await client(SAM).models.retrieve(id)).id).toBe(id)
      expect((await client(SAM).chat.completions.create({ model: id, messages: [{ role: 'user', content: 'hi' }] })).choices).toHaveLength(1)
    }
  })

  it('Anthropic\'s SDK lists them too', async () => {
    const anthropic = new Anthropic({ baseURL: listed.url, apiKey: BOB, maxRetries: 0 })
    const page = await anthropic.models.list()
    expect(page.data.map((m) => m.id)).toEqual(['claude-3-5-haiku', 'claude-sonnet-4'])
  })

  it('gives Anthropic\'s SDK the release date a provider\'s list has, and the gateway\'s start for a route (never 1970)', async () => {
    const anthropic = new Anthropic({ baseURL: listed.url, apiKey: ALICE, maxRetries: 0 })
    const created = Object.fromEntries((await anthropic.models.list()).data.map((m) => [m.id, m.created_at]))
    // The upstream lists gpt-4o with created 1700000000.
    expect(created['gpt-4o']).toBe('2023-11-14T22:13:20.000Z')
    expect((await anthropic.models.retrieve('gpt-4o')).created_at).toBe('2023-11-14T22:13:20.000Z')
    expect(Date.parse(created['chat-default'])).toBeGreaterThan(Date.parse('2024-01-01'))
  })

  it('asks a provider once in five minutes, not at every list', async () => {
    const before = upstreamLists
    for (let i = 0; i < 5; i++) await ids(ALICE)
    expect(upstreamLists).toBe(before)
    expect(upstreamLists).toBe(1)
  })

  it('list_glob_models: false lists the routes and aliases only', async () => {
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
    const off = await startTestGateway(`version: 1
providers:
  m: { plugin: mock, models: [claude-3-5-haiku] }
  up: { plugin: openai, api_key: sk-test, base_url: "${origin}/v1" }
routes:
  - { model: chat-default, targets: [ { provider: m } ] }
  - { model: "claude-*", targets: [ { provider: m } ] }
  - { model: "gpt-*", targets: [ { provider: up } ] }
surfaces:
  openai: { list_glob_models: false }
`)
    try {
      const before = upstreamLists
      const page = await new OpenAI({ baseURL: `${off.url}/v1`, apiKey: 'unused', maxRetries: 0 }).models.list()
      expect(page.data.map((m) => m.id)).toEqual(['chat-default'])
      expect(upstreamLists).toBe(before)
    } finally {
      await off.close()
    }
  })
})

describe('a provider\'s model list over time (ModelDiscovery)', () => {
  afterAll(() => { vi.useRealTimers() })

  /** A provider whose lists answer when the test says, and a caller whose glob route is on it. */
  function setup() {
    const pending: { resolve: (ids: string[]) => void; reject: (err: Error) => void }[] = []
    const provider = {
      chat: () => { throw new Error('not used') },
      listModels: () => new Promise<ModelInfo[]>((resolve, reject) => {
        pending.push({ resolve: (ids) => resolve(ids.map((id) => ({ id, object: 'model', created: 0, owned_by: 'x' }))), reject })
      }),
    } as unknown as Provider
    const gateway = {
      globRoutes: () => [{ name: 'x-*', targets: [{ provider: 'p', model: undefined, embeddings: false }], signature: '', settings: {} }],
      routes: (model: string) => (model.startsWith('x-') ? ({}) : undefined),
    } as unknown as GatewayCalls
    const warned: unknown[] = []
    const logger = { warn: (o: unknown) => warned.push(o) } as unknown as Logger
    return { pending, discovery: new ModelDiscovery(() => provider, logger), gateway, warned }
  }

  it('serves a kept list while a fresh one is fetched, and the fresh one after', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { pending, discovery, gateway } = setup()
    const first = discovery.names(gateway)
    pending[0].resolve(['x-1', 'y-1'])
    expect(await first).toEqual(['x-1'])
    vi.setSystemTime(Date.now() + 4 * 60_000)
    expect(await discovery.names(gateway)).toEqual(['x-1'])
    expect(pending).toHaveLength(1)
    vi.setSystemTime(Date.now() + 2 * 60_000)
    // Stale: answered at once from the kept list; a fresh one asked for.
    expect(await discovery.names(gateway)).toEqual(['x-1'])
    expect(pending).toHaveLength(2)
    pending[1].resolve(['x-1', 'x-2'])
    await Promise.resolve()
    expect(await discovery.names(gateway)).toEqual(['x-1', 'x-2'])
  })

  it('a refresh that fails keeps the list it was to replace', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { pending, discovery, gateway, warned } = setup()
    const first = discovery.names(gateway)
    pending[0].resolve(['x-1', 'x-2'])
    expect(await first).toEqual(['x-1', 'x-2'])
    vi.setSystemTime(Date.now() + 6 * 60_000)
    expect(await discovery.names(gateway)).toEqual(['x-1', 'x-2'])
    pending[1].reject(new Error('upstream down'))
    await Promise.resolve()
    expect(await discovery.names(gateway)).toEqual(['x-1', 'x-2'])
    expect(warned).toHaveLength(1)
    vi.setSystemTime(Date.now() + 20_000)
    expect(await discovery.names(gateway)).toEqual(['x-1', 'x-2'])
    expect(pending).toHaveLength(2)
  })

  it('a failed list adds nothing, is logged, and is asked again after 30 s without making a list wait', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { pending, discovery, gateway, warned } = setup()
    const first = discovery.names(gateway)
    pending[0].reject(new Error('upstream down'))
    expect(await first).toEqual([])
    expect(warned).toHaveLength(1)
    vi.setSystemTime(Date.now() + 10_000)
    expect(await discovery.names(gateway)).toEqual([])
    expect(pending).toHaveLength(1)
    vi.setSystemTime(Date.now() + 25_000)
    // Asked again, and not waited for: the failed list answers meanwhile.
    expect(await discovery.names(gateway)).toEqual([])
    expect(pending).toHaveLength(2)
    pending[1].resolve(['x-3'])
    await Promise.resolve()
    expect(await discovery.names(gateway)).toEqual(['x-3'])
  })
})
