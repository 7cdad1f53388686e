/**
 * service.docs: /api/v1/openapi.json is an OpenAPI 3.1 document made from the schemas the kernel
 * validates with (so every management route must declare them), and /docs shows it with Swagger
 * UI's files served by the gateway itself.
 */
import Ajv2020Module from 'ajv/dist/2020.js'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectDataDocumented } from '../helpers/documented.ts'
import { LAPTOP, launchBrowser, openPage, screenshot, skipWithoutChromium } from '../helpers/browser.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

// ajv's CommonJS default export, as ESM sees it.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

/** A gateway on the mock provider and in-memory stores; `services` is the YAML under `services:` (and may add top-level blocks after). */
const configServing = (services: string): string => `version: 1
store: { plugin: embedded, memory: true }
queue: { plugin: memory }
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
services:
${services}`

describe('the OpenAPI document and its viewer', () => {
  let gw: RunningGateway
  let doc: any
  beforeAll(async () => {
    gw = await startTestGateway(configServing(
      ['analytics', 'keys', 'users', 'files', 'training', 'conversations', 'chat', 'assistants', 'console'].map((name) => `  ${name}: {}\n`).join('') +
      '  rag: { embedding_route: mock }\n  auth: {}\n  docs: { title: Acme gateway }\nsurfaces:\n  responses: {}\n',
    ))
    const res = await fetch(`${gw.url}/api/v1/openapi.json`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/application\/json/)
    doc = await res.json()
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
  })

  it('describes every management route the config serves, with the schemas that validate it', () => {
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.title).toBe('Acme gateway')
    for (const path of ['/api/v1/assistants', '/api/v1/assistants/{id}', '/api/v1/chat/threads', '/api/v1/keys', '/api/v1/analytics/usage', '/api/v1/training/datasets', '/v1/responses', '/v1/conversations/{id}']) {
      expect(Object.keys(doc.paths), path).toContain(path)
    }
    const create = doc.paths['/api/v1/assistants'].post
    expect(create.requestBody.content['application/json'].schema.properties.name).toBeDefined()
    expect(create['x-permission']).toBe('manage_assistants')
    expect(create.responses.default.content['application/json'].schema.required).toEqual(['success', 'error'])
    expect(create.responses.default.content['application/json'].schema.properties.param.type).toBe('string')
    const usage = doc.paths['/api/v1/analytics/usage'].get
    expect(usage.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['from', 'to', 'group_by']))
  })

  it('has no management route without a schema: a body for each write, a schema for each path parameter', () => {
    const missing: string[] = []
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      if (!path.startsWith('/api/v1/')) continue
      for (const method of METHODS) {
        const op = item[method]
        if (!op) continue
        if ((method === 'post' || method === 'put' || method === 'patch') && !op.requestBody) missing.push(`${method} ${path}: no body schema`)
        for (const p of op.parameters ?? []) if (!p.schema || Object.keys(p.schema).length === 0) missing.push(`${method} ${path}: parameter ${p.name} has no schema`)
      }
    }
    expect(missing).toEqual([])
  })

  it('declares the data every management route answers (a redirect or a download excepted)', () => {
    expectDataDocumented(doc, ['/api/v1/'], 40)
  })

  it('is a valid document: every schema in it compiles as JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false })
    let compiled = 0
    const visit = (node: unknown, at: string): void => {
      if (!node || typeof node !== 'object') return
      const o = node as Record<string, unknown>
      if (o.schema && typeof o.schema === 'object' && !('$ref' in (o.schema as object))) {
        // A shared schema is a $ref into components: the document's components go beside it.
        expect(() => ajv.compile({ ...(o.schema as object), components: doc.components }), at).not.toThrow()
        compiled++
      }
      for (const [k, v] of Object.entries(o)) visit(v, `${at}/${k}`)
    }
    visit(doc.paths, '#/paths')
    expect(compiled).toBeGreaterThan(50)
  })

  it('serves /docs with Swagger UI from the gateway itself (no CDN), pointed at the document', async () => {
    const page = await fetch(`${gw.url}/docs`)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('<script src="/docs/swagger-ui-bundle.js">')
    expect(html).not.toMatch(/https?:\/\//)
    const bundle = await fetch(`${gw.url}/docs/swagger-ui-bundle.js`)
    expect(bundle.status).toBe(200)
    expect(bundle.headers.get('content-type')).toMatch(/javascript/)
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000)
    expect(await (await fetch(`${gw.url}/docs/init.js`)).text()).toContain("url: '/api/v1/openapi.json'")
    expect((await fetch(`${gw.url}/docs/package.json`)).status).toBe(404)
  })

  it.skipIf(skipWithoutChromium)('sends the console\'s security headers with /docs, and Swagger UI renders under its policy', async () => {
    const page = await fetch(`${gw.url}/docs`)
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    expect(page.headers.get('x-content-type-options')).toBe('nosniff')
    expect((await fetch(`${gw.url}/docs/swagger-ui-bundle.js`)).headers.get('x-content-type-options')).toBe('nosniff')
    const browser = await launchBrowser()
    try {
      const { page: tab } = await openPage(browser, LAPTOP)
      const refused: string[] = []
      tab.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text()) })
      await tab.goto(`${gw.url}/docs`)
      // The document's operations, grouped by tag, as Swagger UI draws them once it has fetched and read it.
      await tab.locator('.opblock').first().waitFor({ timeout: 20_000 })
      expect(await tab.getByText('Acme gateway').count()).toBeGreaterThan(0)
      // Swagger UI draws only the tags in view (a short tag first, /v1 stored-completions, leaves fewer drawn at once): count the operations drawn while scrolling down.
      const drawn = new Set<string>()
      await expect.poll(async () => {
        for (const text of await tab.locator('.opblock-summary').allInnerTexts()) drawn.add(text)
        await tab.mouse.wheel(0, 1500)
        return drawn.size
      }, { timeout: 15_000 }).toBeGreaterThan(20)
      await tab.evaluate(() => window.scrollTo(0, 0))
      await screenshot(tab, '70-api-docs')
      expect(refused).toEqual([])
    } finally {
      await browser.close()
    }
  }, 60_000)
})

describe('the OpenAPI document across a reload', () => {
  it('is built once per set of routes and follows a reload that changes them', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-docs-'))
    const file = path.join(dir, 'gateway.yaml')
    await writeFile(file, configServing('  docs: {}\n  keys: {}\n'))
    const gw = await startTestGateway({ file })
    try {
      const paths = async () => Object.keys((await (await fetch(`${gw.url}/api/v1/openapi.json`)).json()).paths)
      const before = await paths()
      expect(before.some((p) => p.startsWith('/api/v1/keys'))).toBe(true)
      expect(await paths()).toEqual(before)
      await writeFile(file, configServing('  docs: {}\n  users: {}\n'))
      expect((await gw.controller.reload('test')).status).toBe('reloaded')
      const after = await paths()
      expect(after.some((p) => p.startsWith('/api/v1/users'))).toBe(true)
      expect(after.some((p) => p.startsWith('/api/v1/keys'))).toBe(false)
    } finally {
      await gw.close()
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
