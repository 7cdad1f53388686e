import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { ADMIN, apiKeyStrategy, bearer, call, chat, config, createKey, modelIds } from './helpers.ts'

const RESEARCH_KEY = 'dept-research-key-0123456789ab'
const SALES_KEY = 'dept-sales-key-0123456789abcd'
const GHOST_KEY = 'dept-ghost-key-0123456789abcd'
const NOBODY_KEY = 'dept-nobody-key-0123456789abc'
const PEOPLE = `        - { key: "${RESEARCH_KEY}", user: rita, role: user, department: research }
        - { key: "${SALES_KEY}", user: sam, role: user, department: sales }
        - { key: "${GHOST_KEY}", user: gus, role: user, department: ghosts }
        - { key: "${NOBODY_KEY}", user: nora, role: user }
`

function departmentsConfig(researchModels: string): string {
  return config({
    auth: apiKeyStrategy(PEOPLE),
    extra: `services: { keys: {} }
limits: { backend: { plugin: memory } }
departments:
  research:
    models: ${researchModels}
    route_overrides: { mock-c: mock-b }
    budget: { usd_per_month: 500 }
    limits: { requests_per_minute: 60 }
  sales: { models: [mock-c] }
`,
  })
}

describe('department model scopes', () => {
  let gw: RunningGateway
  beforeAll(async () => { gw = await startTestGateway(departmentsConfig("[mock-a, 'claude-3-*']")) })
  afterAll(() => gw?.close())

  it('lets a department use its models (names and globs) and refuses others with a 403 that names only the caller\'s department', async () => {
    expect((await chat(gw, bearer(RESEARCH_KEY), 'mock-a')).status).toBe(200)
    expect((await chat(gw, bearer(RESEARCH_KEY), 'claude-3-haiku')).status).toBe(200)
    const res = await chat(gw, bearer(RESEARCH_KEY), 'claude-opus')
    expect(res.status).toBe(403)
    expect(res.body.error).toEqual({
      message: "Your department (research) may not use the model 'claude-opus'; GET /v1/models lists the models you may use.",
      type: 'permission_error', code: 'model_not_allowed', param: 'model',
    })
    expect(JSON.stringify(res.body)).not.toMatch(/sales|mock-c/)
  })

  it('lists in /v1/models only the routes the caller\'s department may use', async () => {
    // mock-c is listed for research because research overrides it (to mock-b).
    expect(await modelIds(gw, bearer(RESEARCH_KEY))).toEqual(['mock-a', 'mock-c'])
    expect(await modelIds(gw, bearer(SALES_KEY))).toEqual(['mock-c'])
    expect(await modelIds(gw, ADMIN)).toEqual(['mock-a', 'mock-b', 'b-alias', 'mock-c'])
  })

  it('lists the intersection of the department\'s models and the key\'s allowed models', async () => {
    const admin = await startTestGateway(departmentsConfig('[mock-a, mock-b]'))
    try {
      const { key } = await createKey(admin, { user_id: null, department: 'research', allowed_models: ['mock-b', 'claude-*'] })
      expect(await modelIds(admin, bearer(key))).toEqual(['mock-b', 'b-alias'])
      expect((await chat(admin, bearer(key), 'mock-a')).body.error.message).toContain('This API key may not use')
      expect((await chat(admin, bearer(key), 'b-alias')).status).toBe(200)
    } finally {
      await admin.close()
    }
  })

  it('sends a department\'s members to its route override, even for a model its list does not name', async () => {
    const res = await chat(gw, bearer(RESEARCH_KEY), 'mock-c')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-gateway-route')).toBe('mock-b')
    expect((await chat(gw, bearer(SALES_KEY), 'mock-c')).headers.get('x-gateway-route')).toBe('mock-c')
  })

  it('refuses a caller whose department is not configured, and leaves callers without a department unrestricted', async () => {
    const ghost = await chat(gw, bearer(GHOST_KEY), 'mock-a')
    expect(ghost.status).toBe(403)
    expect(ghost.body.error.code).toBe('department_not_configured')
    expect(await modelIds(gw, bearer(GHOST_KEY))).toEqual([])
    expect((await chat(gw, bearer(NOBODY_KEY), 'mock-b')).status).toBe(200)
  })

  it('applies the scope to embeddings and /v1/messages too', async () => {
    const embed = await call(gw, 'POST', '/v1/embeddings', { headers: bearer(SALES_KEY), body: { model: 'mock-a', input: 'x' } })
    expect(embed.status).toBe(403)
    const messages = await call(gw, 'POST', '/v1/messages', { headers: { 'x-api-key': SALES_KEY }, body: { model: 'mock-a', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] } })
    expect(messages.status).toBe(403)
    expect(messages.body).toMatchObject({ type: 'error', error: { type: 'permission_error' } })
  })
})

describe('department scopes hot-reload', () => {
  let dir: string
  let file: string
  let gw: RunningGateway | undefined
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gw-departments-'))
    file = path.join(dir, 'gateway.yaml')
  })
  afterEach(async () => {
    await gw?.close()
    gw = undefined
    await rm(dir, { recursive: true, force: true })
  })

  it('applies a change to a department\'s models mid-run: to cached keys, to /v1/models, and not to a request already streaming', async () => {
    await writeFile(file, departmentsConfig('[mock-a]').replace('providers:\n  mock: { plugin: mock }', 'providers:\n  mock: { plugin: mock, chunk_delay_ms: 40 }'))
    gw = await startTestGateway({ file }, { watch: false })
    const { key } = await createKey(gw, { user_id: null, department: 'research', name: 'batch' })
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 })
    expect((await chat(gw, bearer(key), 'mock-a')).status).toBe(200)
    expect((await chat(gw, bearer(key), 'mock-b')).status).toBe(403)
    expect(await modelIds(gw, bearer(key))).toEqual(['mock-a', 'mock-c'])

    // A stream on mock-a starts under the old config...
    const stream = await client.chat.completions.create({ model: 'mock-a', stream: true, messages: [{ role: 'user', content: 'one two three four five six' }] })
    const streamed = (async () => {
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
      return text
    })()

    // ...while the department's models change to mock-b only.
    await writeFile(file, departmentsConfig('[mock-b]').replace('providers:\n  mock: { plugin: mock }', 'providers:\n  mock: { plugin: mock, chunk_delay_ms: 40 }'))
    expect((await gw.controller.reload('test')).status).toBe('reloaded')

    expect((await chat(gw, bearer(key), 'mock-b')).status).toBe(200)
    expect((await chat(gw, bearer(key), 'mock-a')).status).toBe(403)
    expect(await modelIds(gw, bearer(key))).toEqual(['mock-b', 'b-alias', 'mock-c'])
    expect(await streamed).toBe('echo: one two three four five six')
  })

  it('rejects a reload whose department names a route that does not exist, and keeps serving the old scopes', async () => {
    await writeFile(file, departmentsConfig('[mock-a]'))
    gw = await startTestGateway({ file }, { watch: false })
    await writeFile(file, departmentsConfig('[mock-z]'))
    const outcome = await gw.controller.reload('test')
    expect(outcome.status).toBe('failed')
    expect(outcome.status === 'failed' && outcome.error.message).toMatch(/departments\.research\.models\[0\]: no route answers 'mock-z'/)
    expect((await chat(gw, bearer(RESEARCH_KEY), 'mock-a')).status).toBe(200)
  })
})

describe('roles: and departments: in gateway.yaml are checked', () => {
  const start = (extra: string, routes?: string) => startTestGateway(config({ store: '', auth: apiKeyStrategy(), extra, ...(routes ? { routes } : {}) }))

  it('refuses unknown keys in a role or a department, naming the line', async () => {
    await expect(start('roles:\n  analyst: { permissions: [chat], scope: own_data, scopes: x }\n')).rejects.toThrow(/test\.yaml:\d+:\d+ roles\.analyst\.scopes: unknown key 'scopes' \(did you mean 'scope'\?\)/)
    await expect(start('departments:\n  research: { model: [mock-a] }\n')).rejects.toThrow(/departments\.research\.model: unknown key 'model' \(did you mean 'models'\?\)/)
  })

  it('refuses a role without a scope, or with a scope that does not exist', async () => {
    await expect(start('roles:\n  analyst: { permissions: [chat] }\n')).rejects.toThrow(/roles\.analyst: missing required key 'scope'/)
    await expect(start('roles:\n  analyst: { permissions: [chat], scope: team_data }\n')).rejects.toThrow(/roles\.analyst\.scope: must be one of/)
  })

  it('refuses department models and overrides that no route answers, and accepts globs that match one', async () => {
    await expect(start('departments:\n  research: { models: [nope-*] }\n')).rejects.toThrow(/departments\.research\.models\[0\]: no route answers 'nope-\*'/)
    await expect(start('departments:\n  research: { route_overrides: { mock-a: missing } }\n')).rejects.toThrow(/departments\.research\.route_overrides\.mock-a: no route named 'missing'/)
    const gw = await start("departments:\n  research: { models: ['mock-*', 'claude-3-5-*', b-alias] }\n")
    await gw.close()
  })

  it('refuses a route condition naming a department or a role that does not exist', async () => {
    const routes = 'providers:\n  mock: { plugin: mock }\nroutes:\n  - { model: m, when: { departments: [reserch] }, targets: [ { provider: mock } ] }\n  - { model: m, when: { roles: [superuser] }, targets: [ { provider: mock } ] }\n'
    const error = await start('departments:\n  research: {}\n', routes).catch((e: Error) => e.message)
    expect(error).toMatch(/routes\[0\]\.when\.departments\[0\]: no department 'reserch'/)
    expect(error).toMatch(/routes\[1\]\.when\.roles\[0\]: no role 'superuser'/)
  })

  it('merges gateway.yaml roles over the built-in ones', async () => {
    const gw = await startTestGateway(config({
      store: '',
      auth: apiKeyStrategy(`        - { key: "${RESEARCH_KEY}", user: u, role: user }\n`),
      extra: 'roles:\n  user: { permissions: [view_analytics], scope: own_data }\n',
    }))
    try {
      expect((await chat(gw, bearer(RESEARCH_KEY))).status).toBe(403)
      expect((await chat(gw, ADMIN)).status).toBe(200)
    } finally {
      await gw.close()
    }
  })
})
