/**
 * service.console over HTTP: the built console at / on the gateway's port, hashed assets cached for
 * a year and sent compressed, index.html revalidated with a CSP, the single-page app's routes
 * answered with index.html, and the APIs' unknown paths still 404s in their own shape.
 */
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

const APP_JS = 'console.log("app")'.repeat(50)
const INDEX = '<!doctype html><title>console</title><script type="module" src="/assets/app-3f9a1b.js"></script>'

/** A built console of our own (as vite writes it), so the test does not depend on the real build. */
async function fakeBuild(dir?: string): Promise<string> {
  dir ??= await mkdtemp(path.join(os.tmpdir(), 'gw-console-'))
  await mkdir(path.join(dir, 'assets'), { recursive: true })
  await writeFile(path.join(dir, 'index.html'), INDEX)
  await writeFile(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  await writeFile(path.join(dir, 'assets', 'app-3f9a1b.js'), APP_JS)
  await writeFile(path.join(dir, 'assets', 'app-3f9a1b.js.br'), brotliCompressSync(APP_JS))
  await writeFile(path.join(dir, 'assets', 'app-3f9a1b.js.gz'), gzipSync(APP_JS))
  return dir
}

const config = (dir: string) => `version: 1
providers: { mock: { plugin: mock } }
routes: [ { model: mock, targets: [ { provider: mock } ] } ]
services: { console: { dir: "${dir}" } }
`

let gw: RunningGateway
beforeAll(async () => { gw = await startTestGateway(config(await fakeBuild())) })
afterAll(async () => { await gw?.close() })

describe('service.console', () => {
  it('serves index.html at / with no-cache, an ETag and a content security policy', async () => {
    const res = await fetch(`${gw.url}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await res.text()).toBe(INDEX)
    const again = await fetch(`${gw.url}/`, { headers: { 'if-none-match': res.headers.get('etag')! } })
    expect(again.status).toBe(304)
  })

  it('answers the single-page app\'s own routes with index.html', async () => {
    for (const route of ['/chat', '/keys', '/analytics/deep/link?x=1']) {
      const res = await fetch(`${gw.url}${route}`)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(INDEX)
    }
  })

  it('serves hashed assets with a year-long immutable cache, brotli or gzip as the client accepts', async () => {
    const url = `${gw.url}/assets/app-3f9a1b.js`
    const br = await fetch(url, { headers: { 'accept-encoding': 'gzip, br' } })
    expect(br.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(br.headers.get('content-encoding')).toBe('br')
    expect(br.headers.get('vary')).toBe('accept-encoding')
    expect(br.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    // fetch decodes it; the wire carried the compressed bytes.
    expect(await br.text()).toBe(APP_JS)
    expect(Number(br.headers.get('content-length'))).toBe(brotliCompressSync(APP_JS).length)
    const gz = await fetch(url, { headers: { 'accept-encoding': 'gzip' } })
    expect(gz.headers.get('content-encoding')).toBe('gzip')
    const plain = await fetch(url, { headers: { 'accept-encoding': 'identity' } })
    expect(plain.headers.get('content-encoding')).toBeNull()
    expect(await plain.text()).toBe(APP_JS)
    const noBr = await fetch(url, { headers: { 'accept-encoding': 'br;q=0, gzip' } })
    expect(noBr.headers.get('content-encoding')).toBe('gzip')
  })

  it('answers a missing asset with 404, never with the page (a browser would run HTML as a script)', async () => {
    for (const missing of ['/assets/app-old000.js', '/missing.png']) {
      const res = await fetch(`${gw.url}${missing}`)
      expect(res.status).toBe(404)
      expect(res.headers.get('content-type') ?? '').not.toContain('text/html')
      expect(await res.text()).not.toContain('<!doctype html>')
    }
  })

  it('leaves the APIs\' unknown paths to their own 404s, in their shapes', async () => {
    const v1 = await fetch(`${gw.url}/v1/nothing-here`)
    expect(v1.status).toBe(404)
    expect((await v1.json()).error.code).toBe('unknown_url')
    const post = await fetch(`${gw.url}/v1/nothing-here`, { method: 'POST' })
    expect(post.status).toBe(404)
    const api = await fetch(`${gw.url}/api/v1/nothing-here`)
    expect(api.status).toBe(404)
    expect((await api.json()).success).toBe(false)
    // The kernel's own routes are not shadowed.
    expect((await (await fetch(`${gw.url}/health`)).json()).status).toBe('ok')
  })

  it('says how to build the console when it is not built, and serves it once built, without a restart', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'gw-console-empty-'))
    const other = await startTestGateway(config(empty))
    try {
      const res = await fetch(`${other.url}/`)
      expect(res.status).toBe(503)
      const page = await res.text()
      expect(page).toContain('npm run build:console')
      expect(page).toContain('then reload this page')
      // What the page says to do: build, then reload.
      await fakeBuild(empty)
      const built = await pageOnceChanged(other.url, page)
      expect(built.status).toBe(200)
      expect(built.text).toBe(INDEX)
      expect((await fetch(`${other.url}/assets/app-3f9a1b.js`)).status).toBe(200)
    } finally {
      await other.close()
    }
  })

  it('picks up a new build at the next page load, keeping the last build\'s hashed files for a tab opened on it', async () => {
    const dir = await fakeBuild()
    const other = await startTestGateway(config(dir))
    try {
      expect(await (await fetch(`${other.url}/`)).text()).toBe(INDEX)
      // As console/scripts/build.mjs leaves it: new hashed names, index.html, then .source-hash last.
      const next = INDEX.replace('app-3f9a1b.js', 'app-77c0de.js')
      await writeFile(path.join(dir, 'assets', 'app-77c0de.js'), 'console.log("next")')
      await writeFile(path.join(dir, 'index.html'), next)
      await writeFile(path.join(dir, '.source-hash'), 'next\n')
      const built = await pageOnceChanged(other.url, INDEX)
      expect(built.text).toBe(next)
      expect(await (await fetch(`${other.url}/assets/app-77c0de.js`)).text()).toBe('console.log("next")')
      expect((await fetch(`${other.url}/assets/app-3f9a1b.js`)).status).toBe(200)
    } finally {
      await other.close()
    }
  })
})

/** GET / until it answers something other than `before` (the gateway looks at the build at most once a second). */
async function pageOnceChanged(url: string, before: string): Promise<{ status: number; text: string }> {
  for (let tries = 0; ; tries++) {
    const res = await fetch(`${url}/`)
    const text = await res.text()
    if (text !== before || tries >= 50) return { status: res.status, text }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
