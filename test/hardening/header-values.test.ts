/**
 * What the gateway's own response headers echo of a request (a glob route's model, a warning that
 * quotes a parameter) is made fit for a header: Node refuses CR, LF and characters past U+00FF, and
 * throwing there turned a request already answered (and billed) upstream into a 500.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { message, MODEL, text } from '../providers/anthropic/anthropic-upstream.ts'

describe('response headers that echo the request', () => {
  let upstream: http.Server
  let gw: RunningGateway
  let calls = 0
  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        calls++
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(message([text('hi')])))
      })
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    gw = await startTestGateway(`version: 1
providers:
  mock: { plugin: mock }
  claude: { plugin: anthropic, api_key: sk-ant-test, base_url: "http://127.0.0.1:${(upstream.address() as AddressInfo).port}" }
routes:
  - { model: "local-*", targets: [ { provider: mock } ] }
  - { model: claude, targets: [ { provider: claude, model: ${MODEL} } ] }
`)
  })
  afterAll(async () => {
    await gw?.close()
    await new Promise((resolve) => upstream?.close(resolve))
  })

  const chat = (body: Record<string, unknown>) => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], ...body }) })

  it('a model name outside ASCII, passed on by a glob route, is answered, its header percent-encoded', async () => {
    for (const stream of [false, true]) {
      const res = await chat({ model: 'local-文', stream })
      expect(res.status).toBe(200)
      expect(res.headers.get('x-gateway-model')).toBe('local-%E6%96%87')
      await res.text()
    }
  })

  it('a warning quoting a parameter with CR LF or non-Latin text is answered, the header encoded, nothing injected', async () => {
    const before = calls
    const res = await chat({ model: 'claude', reasoning_effort: '文\r\nset-cookie: x=y' })
    expect(res.status).toBe(200)
    expect(calls).toBe(before + 1)
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(res.headers.get('x-gateway-warning')).toContain("no effort '%E6%96%87%0D%0Aset-cookie: x=y'")
  })

  it('a warning past 1 KB is cut, saying how long it was', async () => {
    const res = await chat({ model: 'claude', reasoning_effort: 'x'.repeat(5000) })
    expect(res.status).toBe(200)
    const warning = res.headers.get('x-gateway-warning') ?? ''
    expect(warning.length).toBeLessThanOrEqual(1024)
    expect(warning).toMatch(/\.\.\. \(\d+ characters in all\)$/)
  })
})
