/**
 * Clients that send their request slowly (a byte now and then) do not hold connections: headers
 * must arrive within server.headers_timeout_ms and the whole request within
 * server.request_timeout_ms, else the client gets a 408 in the API's error shape and the connection
 * closes. Responses are not bounded by those timeouts (a long stream runs to its end), and a client
 * refused with 401 does not keep its connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { connectRaw as connect, dribble, parseResponse } from '../helpers/raw-http.ts'

const HEADERS_TIMEOUT_MS = 400
const REQUEST_TIMEOUT_MS = 800

const CHAT = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hello' }] })

describe('slow clients', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(`version: 1
server: { headers_timeout_ms: ${HEADERS_TIMEOUT_MS}, request_timeout_ms: ${REQUEST_TIMEOUT_MS} }
providers:
  mock: { plugin: mock }
  slow: { plugin: mock, chunk_delay_ms: 150 }
routes:
  - model: mock
    targets: [ { provider: mock } ]
  - model: slow-stream
    targets: [ { provider: slow } ]
`)
  })
  afterAll(async () => { await gw?.close() })

  it('answers headers dribbled past headers_timeout_ms with a 408 in OpenAI\'s error shape and closes the connection', async () => {
    const client = await connect(gw.port)
    dribble(client.socket, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Padding: ${'a'.repeat(200)}\r\n\r\n`, 50)
    const closedAfter = await client.closed
    expect(closedAfter).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50)
    expect(closedAfter).toBeLessThan(HEADERS_TIMEOUT_MS + 1500)
    const res = parseResponse(client.received())
    expect(res.status).toBe(408)
    expect(res.headers.connection).toBe('close')
    expect(res.body.error).toMatchObject({ type: 'timeout_error', code: 'request_timeout' })
    expect(res.body.error.message).toMatch(/server\.headers_timeout_ms/)
  })

  it('answers a body dribbled past request_timeout_ms with a 408 and closes the connection', async () => {
    const client = await connect(gw.port)
    client.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${CHAT.length}\r\n\r\n`)
    dribble(client.socket, CHAT, 100)
    const closedAfter = await client.closed
    expect(closedAfter).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50)
    expect(closedAfter).toBeLessThan(REQUEST_TIMEOUT_MS + 1500)
    const res = parseResponse(client.received())
    expect(res.status).toBe(408)
    expect(res.body.error).toMatchObject({ type: 'timeout_error', code: 'request_timeout' })
  })

  it('does not answer twice when the app answered before the body arrived: the connection just closes', async () => {
    const client = await connect(gw.port)
    client.socket.write('POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n')
    dribble(client.socket, '{"name": "x"'.padEnd(100, ' '), 100)
    const closedAfter = await client.closed
    expect(closedAfter).toBeLessThan(REQUEST_TIMEOUT_MS + 1500)
    const raw = client.received()
    expect(raw.match(/HTTP\/1\.1 /g)).toHaveLength(1)
    expect(parseResponse(raw).status).toBe(404)
  })

  it('closes many dribbling connections at once, all within the timeout', async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => connect(gw.port)))
    for (const c of clients) dribble(c.socket, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ${'b'.repeat(100)}\r\n\r\n`, 100)
    const times = await Promise.all(clients.map((c) => c.closed))
    expect(Math.max(...times)).toBeLessThan(HEADERS_TIMEOUT_MS + 1500)
    for (const c of clients) expect(parseResponse(c.received()).status).toBe(408)
  })

  it('does not cut a streamed response that lasts longer than request_timeout_ms', async () => {
    const started = performance.now()
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow-stream', stream: true, messages: [{ role: 'user', content: 'one two three four five six seven eight nine ten' }] }),
    })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(performance.now() - started).toBeGreaterThan(REQUEST_TIMEOUT_MS + 500)
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true)
    expect(text).toContain('ten')
  })

  it('serves a keep-alive connection that sends its requests in time, again and again', async () => {
    const client = await connect(gw.port)
    for (let i = 0; i < 3; i++) {
      const before = client.received().length
      client.socket.write(`GET /health HTTP/1.1\r\nHost: x\r\n\r\n`)
      await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT_MS / 2 + 100))
      expect(parseResponse(client.received().slice(before)).status).toBe(200)
    }
    expect(client.socket.destroyed).toBe(false)
    client.socket.destroy()
  })
})

describe('unauthenticated clients', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(`version: 1
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
auth:
  strategies:
    - plugin: api-key
      keys: [ { key: "sk-right-key-0123456789", user: admin, role: admin } ]
`)
  })
  afterAll(async () => { await gw?.close() })

  it('closes the connection after a 401, even when the client keeps sending its body', async () => {
    const client = await connect(gw.port)
    client.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-wrong\r\nContent-Type: application/json\r\nContent-Length: ${CHAT.length}\r\n\r\n`)
    dribble(client.socket, CHAT, 200)
    const closedAfter = await client.closed
    expect(closedAfter).toBeLessThan(1500)
    const res = parseResponse(client.received())
    expect(res.status).toBe(401)
    expect(res.headers.connection).toBe('close')
    expect(res.body.error).toMatchObject({ type: 'authentication_error' })
  })

  it('keeps the connection of an authenticated client', async () => {
    const client = await connect(gw.port)
    client.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-right-key-0123456789\r\nContent-Type: application/json\r\nContent-Length: ${CHAT.length}\r\n\r\n${CHAT}`)
    await new Promise((r) => setTimeout(r, 300))
    const res = parseResponse(client.received())
    expect(res.status).toBe(200)
    expect(res.headers.connection).toBe('keep-alive')
    expect(client.socket.destroyed).toBe(false)
    client.socket.destroy()
  })
})
