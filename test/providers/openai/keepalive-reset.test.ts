/**
 * The kit's pooled client against an upstream that resets a kept-alive connection: a request
 * sent on a reused socket that the upstream resets before answering is sent once more on a fresh
 * connection (nothing had reached the client), and counted; a second reset is the client's 502,
 * and so is a reset once the answer has begun (the upstream had the request: never sent twice).
 */
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'

const COMPLETION = {
  id: 'chatcmpl-1', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello.', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
}

describe('provider.openai over a pooled keep-alive connection the upstream resets', () => {
  let upstream: http.Server
  let gw: RunningGateway
  let client: OpenAI
  /** Which socket each request arrived on, in order, and what the upstream did with it. */
  const seen: Array<{ socket: number; answered: boolean; userAgent: string | undefined }> = []
  let resetWhen: (requestOnSocket: number) => boolean = () => false
  /** The upstream sends its answer's headers and part of its body, then resets. */
  let cutMidBody = false

  beforeAll(async () => {
    const sockets = new WeakMap<Socket, { id: number; requests: number }>()
    let nextSocket = 0
    upstream = http.createServer((req, res) => {
      const socket = req.socket
      let entry = sockets.get(socket)
      if (!entry) sockets.set(socket, (entry = { id: ++nextSocket, requests: 0 }))
      entry.requests++
      const reset = resetWhen(entry.requests)
      seen.push({ socket: entry.id, answered: !reset, userAgent: req.headers['user-agent'] })
      req.resume()
      req.on('end', () => {
        // A TCP reset, as an upstream (or a load balancer before it) sends when it drops an idle connection.
        if (reset) return socket.resetAndDestroy()
        if (cutMidBody) {
          const body = JSON.stringify(COMPLETION)
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) }).write(body.slice(0, 40))
          setTimeout(() => socket.resetAndDestroy(), 50)
          return
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(COMPLETION))
      })
    })
    upstream.keepAliveTimeout = 60_000
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`
    gw = await startTestGateway(`
version: 1
providers:
  up: { plugin: openai, api_key: sk-test, base_url: "${base}" }
routes:
  - { model: chat, targets: [ { provider: up, model: gpt-4o-mini } ] }
`)
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gw?.close()
    upstream?.closeAllConnections()
    await new Promise((resolve) => upstream?.close(resolve))
  })
  beforeEach(() => {
    seen.length = 0
    resetWhen = () => false
    cutMidBody = false
  })

  const retries = async (): Promise<number> => {
    const text = await (await fetch(`${gw.url}/metrics`)).text()
    const line = text.split('\n').find((l) => l.startsWith('gateway_upstream_retries_total{') && l.includes('provider="up"') && l.includes('reason="connection_reset"'))
    return line ? Number(line.split(' ').at(-1)) : 0
  }

  it('sends the request again on a fresh connection when the reused one is reset before any answer', async () => {
    resetWhen = (n) => n === 2
    const before = await retries()
    const first = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
    const second = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'again' }] })

    expect(first.choices[0].message.content).toBe('Hello.')
    expect(second.choices[0].message.content).toBe('Hello.')
    // The second request went out on the first request's (kept-alive) socket, was reset, and went again on a new one.
    expect(seen.map((s) => s.answered)).toEqual([true, false, true])
    expect(seen[1].socket).toBe(seen[0].socket)
    expect(seen[2].socket).not.toBe(seen[0].socket)
    // Sent by the kit's own client, not the SDK's fetch.
    expect(seen.every((s) => s.userAgent === 'ai-gateway')).toBe(true)
    expect(await retries()).toBe(before + 1)
  })

  it('retries once only: a second reset is the client\'s 502 naming the reset', async () => {
    resetWhen = () => true
    const before = await retries()
    const err = (await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect(err.status).toBe(502)
    expect(err.message).toContain('ECONNRESET')
    expect(seen.filter((s) => !s.answered)).toHaveLength(2)
    expect(await retries()).toBe(before + 1)
  })

  it('does not send again once the answer has started: a reset mid-body is the client\'s 502', async () => {
    cutMidBody = true
    const before = await retries()
    const err = (await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect(err.status).toBe(502)
    expect(err.message).toContain('ECONNRESET')
    // The upstream had the request and was answering it: sent once only, nothing counted as a retry.
    expect(seen).toHaveLength(1)
    expect(await retries()).toBe(before)
  })
})
