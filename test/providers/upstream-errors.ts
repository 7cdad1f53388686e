/**
 * The upstream-error cases every translated provider (one whose wire is not OpenAI's) must pass:
 * its refusals of the gateway's credentials, its other failures in its own bodies, a slow answer, a
 * slow stream and a dead address, each checked in OpenAI's error shape. A provider's errors test
 * names its wire here and adds what only that provider does (its 429 details, its 422s...).
 *
 * A gateway per test: the failures each test provokes must not add up to open the target's circuit.
 */
import type http from 'node:http'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { postJson, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { freePort } from '../helpers/ports.ts'
import { credentialsRefused, sendJson, type RoutedUpstream } from '../helpers/upstream.ts'

/** An upstream failure in the provider's own body, and the message the gateway must keep from it. */
export interface UpstreamFailure {
  /** Names the case in the test title: `Gemini 400 (INVALID_ARGUMENT)`. */
  readonly label: string
  readonly upstream: number
  readonly body: unknown
  readonly message: string
}

/** A failure and what the client gets for it. */
export interface MappedFailure extends UpstreamFailure {
  readonly expected: number
  readonly type: string
  readonly code: string
}

export interface ProviderWire {
  /** The provider's name, as the gateway prefixes its messages (`gemini: ...`). */
  readonly name: string
  readonly apiKey: string
  start(): Promise<RoutedUpstream>
  config(upstreamUrl: string, options?: { timeoutMs?: number }): string
  readonly chatPath: string
  readonly streamPath: string
  /** A whole chat answer saying `text`, in the provider's shape. */
  answer(text: string): unknown
  /** A 200 stream of `texts`, one event each, `delayMs` apart, in the provider's framing. */
  stream(res: http.ServerResponse, texts: readonly string[], delayMs: number): Promise<void>
  /** The gateway's own credentials refused (401, 403). */
  readonly refusals: readonly UpstreamFailure[]
  readonly failures: readonly MappedFailure[]
}

export interface ErrorFixture {
  readonly upstream: RoutedUpstream
  readonly gw: RunningGateway
  /** The official SDK on this test's gateway, without retries. */
  readonly client: OpenAI
}

export const CHAT = { model: 'chat', messages: [{ role: 'user' as const, content: 'Hi' }] }

/** The shared cases in a describe block; `more` adds the provider's own tests to it, given the fixture. */
export function describeUpstreamErrors(wire: ProviderWire, more: (f: ErrorFixture) => void): void {
  describe(`${wire.name}: upstream errors in OpenAI's error shape`, () => {
    let upstream: RoutedUpstream
    let gw: RunningGateway
    let client: OpenAI
    beforeAll(async () => {
      upstream = await wire.start()
      // A first request through a provider's SDK in this process is slow (its code paths load and
      // compile); on a busy machine it outlasted the 300 ms timeout below and a 401 came back as a
      // 504. One answered request through a gateway with the default timeout warms it first.
      upstream.route(wire.chatPath, (_req, res) => sendJson(res, 200, wire.answer('warm')))
      const warm = await startTestGateway(wire.config(upstream.url))
      try {
        expect((await postJson(`${warm.url}/v1/chat/completions`, CHAT)).status).toBe(200)
      } finally {
        await warm.close()
      }
      // The first gateway of the process also loads the gateway's modules: 10 s at load 14, over 30 s at load 20.
    }, 120_000)
    afterAll(() => upstream.close())
    beforeEach(async () => {
      gw = await startTestGateway(wire.config(upstream.url, { timeoutMs: 300 }))
      client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
    })
    afterEach(() => gw.close())

    // The gateway's own credentials refused: a 502 that says so, not the client's 401/403.
    // Titles through `%s`, unquoted: `a Gemini 400 (INVALID_ARGUMENT) becomes a 400 invalid_request_error`.
    const titled = <T extends UpstreamFailure>(cases: readonly T[], title: (c: T) => string = (c) => c.label) => cases.map((c) => [title(c), c] as const)

    it.each(titled(wire.refusals))('a %s becomes a 502 upstream_auth_failed, keeping the provider\'s message', async (_label, { upstream: status, body, message }) => {
      upstream.route(wire.chatPath, (_req, res) => sendJson(res, status, body))
      const res = await postJson(`${gw.url}/v1/chat/completions`, CHAT)
      expect(res.status).toBe(502)
      expect(res.body.error).toEqual({ message: credentialsRefused(wire.name, status as 401 | 403, message), type: 'upstream_error', code: 'upstream_auth_failed', param: null })
    })

    it.each(titled(wire.failures, (c) => `${c.label} becomes a ${c.expected} ${c.type}`))('a %s, keeping the provider\'s message', async (_label, { upstream: status, body, message, expected, type, code }) => {
      upstream.route(wire.chatPath, (_req, res) => sendJson(res, status, body))
      const res = await postJson(`${gw.url}/v1/chat/completions`, CHAT)
      expect(res.status).toBe(expected)
      expect(res.body.error).toEqual({ message: `${wire.name}: ${message}`, type, code, param: null })
      expectOpenAISchema('ErrorResponse', res.body)
    })

    it('an upstream slower than timeout_ms is a 504', async () => {
      // The upstream answers after 3 s (or never, once the gateway hangs up): a 504 before then can
      // only be the 300 ms timeout, however loaded the machine is.
      upstream.route(wire.chatPath, async (_req, res) => {
        await new Promise((resolve) => { res.once('close', resolve); setTimeout(resolve, 3000).unref() })
        if (!res.destroyed) sendJson(res, 200, wire.answer('late'))
      })
      const started = Date.now()
      const res = await postJson(`${gw.url}/v1/chat/completions`, CHAT)
      expect(res.status).toBe(504)
      expect(res.body.error).toMatchObject({ type: 'timeout_error', code: 'upstream_timeout' })
      expect(Date.now() - started).toBeLessThan(3000)
    })

    it('timeout_ms bounds the wait for a stream to start, not the stream itself', async () => {
      // Two events 400 ms apart: the whole stream outlasts the 300 ms timeout, its start does not.
      upstream.route(wire.streamPath, (_req, res) => wire.stream(res, ['slow ', 'but steady'], 400))
      const stream = await client.chat.completions.create({ ...CHAT, stream: true })
      let text = ''
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? ''
      expect(text).toBe('slow but steady')
    })

    it('an upstream that refuses connections is a 502 that names no secret', async () => {
      const dead = await startTestGateway(wire.config(`http://127.0.0.1:${await freePort()}`))
      try {
        const res = await postJson(`${dead.url}/v1/chat/completions`, CHAT)
        expect(res.status).toBe(502)
        expect(res.body.error).toMatchObject({ type: 'upstream_error', code: 'upstream_unreachable' })
        expect(res.body.error.message).toMatch(new RegExp(`^${wire.name}: upstream unreachable`))
        expect(res.body.error.message).not.toContain(wire.apiKey)
      } finally {
        await dead.close()
      }
    })

    more({ get upstream() { return upstream }, get gw() { return gw }, get client() { return client } })
  })
}
