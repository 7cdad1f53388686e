/**
 * Shutdown (SIGTERM runs the same close()) drains keep-alive connections without resetting a
 * request: responses in flight carry `Connection: close`, so clients do not send another request
 * on a socket about to close, and each connection closes as its response ends; a stream under way
 * runs to its end first.
 */
import http from 'node:http'
import { describe, expect, it, vi } from 'vitest'
import { startTestGateway } from '../helpers/gateway.ts'
import { connectRaw, parseResponse } from '../helpers/raw-http.ts'

const CONFIG = `version: 1
providers:
  slow: { plugin: mock, latency_ms: 300 }
  streamer: { plugin: mock, chunk_delay_ms: 60 }
routes:
  - model: slow
    targets: [ { provider: slow } ]
  - model: stream
    targets: [ { provider: streamer } ]
`

interface Answer {
  status: number
  connection: string | undefined
  body: string
  socketClosed: Promise<void>
}

/** POST a chat request through `agent`; resolves with the answer, or rejects (a reset) with the error. */
function post(agent: http.Agent, port: number, body: object): Promise<Answer> {
  const payload = JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const socketClosed = new Promise<void>((done) => { if (res.socket.destroyed) done(); else res.socket.once('close', () => done()) })
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text, socketClosed }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}

const ask = (model: string, extra: object = {}): object => ({ model, messages: [{ role: 'user', content: 'one two three four five six' }], ...extra })

describe('draining on close', () => {
  it('answers every request in flight on keep-alive connections, with Connection: close, and resets none', async () => {
    const gw = await startTestGateway(CONFIG)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
    try {
      // Open eight keep-alive connections and leave them idle in the agent's pool.
      const warm = await Promise.all(Array.from({ length: 8 }, () => post(agent, gw.port, ask('slow'))))
      expect(warm.every((a) => a.status === 200 && a.connection === 'keep-alive')).toBe(true)

      const inflight = Array.from({ length: 8 }, () => post(agent, gw.port, ask('slow')).then((a) => a, (err: Error) => err))
      const stream = post(new http.Agent({ keepAlive: true }), gw.port, ask('stream', { stream: true })).then((a) => a, (err: Error) => err)
      await new Promise((r) => setTimeout(r, 100))
      const closing = gw.close()
      const answers = await Promise.all(inflight)
      for (const answer of answers) {
        expect(answer).not.toBeInstanceOf(Error)
        expect((answer as Answer).status).toBe(200)
        expect((answer as Answer).connection).toBe('close')
      }
      // The server closes each connection once its response is out.
      await Promise.all(answers.map((a) => (a as Answer).socketClosed))

      const streamed = await stream
      expect(streamed).not.toBeInstanceOf(Error)
      expect((streamed as Answer).status).toBe(200)
      expect((streamed as Answer).body.trimEnd().endsWith('data: [DONE]')).toBe(true)
      await (streamed as Answer).socketClosed
      await closing
    } finally {
      agent.destroy()
      await gw.close()
    }
  })

  it('serves a request that was still arriving when the drain began, with Connection: close', async () => {
    const gw = await startTestGateway(CONFIG)
    const { socket, received, closed } = await connectRaw(gw.port)
    try {
      const payload = JSON.stringify(ask('slow'))
      socket.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n')
      await new Promise((r) => setTimeout(r, 50))
      const closing = gw.close()
      await new Promise((r) => setTimeout(r, 50))
      socket.write(`Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`)
      await closed
      await closing
      const answer = parseResponse(received())
      expect(answer.status).toBe(200)
      expect(answer.headers.connection).toBe('close')
      expect(answer.body.choices[0].message.content).toBe('echo: one two three four five six')
    } finally {
      socket.destroy()
      await gw.close()
    }
  })

  it('serves, rather than resets, the next request a busy keep-alive client sends just after the drain began', async () => {
    const gw = await startTestGateway(CONFIG)
    const { socket, received, reset, closed } = await connectRaw(gw.port)
    try {
      const request = `GET /health HTTP/1.1\r\nHost: x\r\n\r\n`
      socket.write(request)
      // The whole first answer has arrived (however loaded the machine) before the drain begins.
      await vi.waitFor(() => {
        const answer = parseResponse(received())
        expect(answer.status).toBe(200)
        expect(answer.body).toBeTypeOf('object') // the JSON body whole, not only its head
      }, { timeout: 10_000, interval: 5 })
      // The connection is idle now; the drain begins and, a moment later, the client's next request arrives.
      const first = received().length
      const closing = gw.close()
      await new Promise((r) => setTimeout(r, 20))
      socket.write(request)
      await closed
      await closing
      expect(reset()).toBe(false)
      const second = parseResponse(received().slice(first))
      expect(second.status).toBe(200)
      expect(second.headers.connection).toBe('close')
    } finally {
      socket.destroy()
      await gw.close()
    }
  })

  it("closes a connection that never sent a byte (a client's spare, as undici opens one beside an aborted stream) at once, not at shutdown_timeout_ms", async () => {
    const gw = await startTestGateway(CONFIG)
    const { socket, closed } = await connectRaw(gw.port)
    try {
      const started = performance.now()
      await gw.close()
      await closed
      // The default shutdown_timeout_ms is 10 s: without the close it waited all of it.
      expect(performance.now() - started).toBeLessThan(5_000)
    } finally {
      socket.destroy()
    }
  })
})
