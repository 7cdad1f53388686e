/** Shared set-up for the routing suites: OpenAI-shaped mock upstreams that fail on demand. */
import http from 'node:http'
import { afterEach } from 'vitest'
import { sendJson, sendSse, startUpstream, type MockUpstream, type RecordedRequest } from '../helpers/upstream.ts'
import { startTestGateway, postJson, type RunningGateway } from '../helpers/gateway.ts'

export const completion = (content: string, model = 'up-model') => ({
  id: 'chatcmpl-up', object: 'chat.completion', created: 1, model,
  choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
})

export const chunk = (content: string | null, finish: string | null = null) => ({
  id: 'chatcmpl-up', object: 'chat.completion.chunk', created: 1, model: 'up-model',
  choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finish, logprobs: null }],
})

/** What an upstream does with its next request. */
export type Behaviour =
  | { ok: string; delayMs?: number }
  | { status: number; retryAfter?: string; message?: string }
  | { hang: true }
  | { stream: string[]; delayMs?: number; firstDelayMs?: number; dieAfter?: number }

/**
 * An OpenAI-compatible upstream that answers each request with the next scripted behaviour
 * (the last one repeats). Records request times and whether the client hung up early.
 */
export async function scriptedUpstream(name: string, script: Behaviour[]): Promise<MockUpstream & { times: number[]; aborted: number; script: Behaviour[] }> {
  const state = { times: [] as number[], aborted: 0, script }
  let i = 0
  const upstream = await startUpstream(async (req: RecordedRequest, res: http.ServerResponse) => {
    state.times.push(performance.now())
    const b = state.script[Math.min(i++, state.script.length - 1)]
    res.once('close', () => { if (!res.writableFinished) state.aborted++ })
    if ('hang' in b) return
    if ('status' in b) {
      sendJson(res, b.status, { error: { message: b.message ?? `${name} says ${b.status}`, type: 'server_error', code: null, param: null } }, b.retryAfter ? { 'retry-after': b.retryAfter } : {})
      return
    }
    if ('ok' in b) {
      if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs))
      if (!res.destroyed) sendJson(res, 200, completion(b.ok, req.body.model))
      return
    }
    if (b.firstDelayMs) await new Promise((r) => setTimeout(r, b.firstDelayMs))
    if (res.destroyed) return
    if (b.dieAfter !== undefined) {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (const word of b.stream.slice(0, b.dieAfter)) res.write(`data: ${JSON.stringify(chunk(word))}\n\n`)
      await new Promise((r) => setTimeout(r, 20))
      res.socket?.destroy()
      return
    }
    await sendSse(res, [...b.stream.map((w) => ({ data: chunk(w) })), { data: chunk(null, 'stop') }, { data: '[DONE]' }], { delayMs: b.delayMs })
  })
  // `aborted` is read live (a getter), not copied.
  return Object.defineProperty(Object.assign(upstream, { times: state.times, script: state.script }), 'aborted', { get: () => state.aborted }) as MockUpstream & typeof state
}

export function provider(name: string, upstream: { url: string } | string): string {
  const url = typeof upstream === 'string' ? upstream : `${upstream.url}/v1`
  return `  ${name}: { plugin: openai, api_key: sk-test-${name}, base_url: "${url}" }\n`
}

export const ask = { model: 'r', messages: [{ role: 'user', content: 'hi' }] }

/**
 * Per-test gateways and upstreams, closed after each test. Call once at the top of a test file.
 */
export function routingFixtures() {
  const cleanup: (() => Promise<void>)[] = []
  afterEach(async () => { while (cleanup.length) await cleanup.pop()!() })
  return {
    cleanup,
    async gateway(yaml: string): Promise<RunningGateway> {
      const gw = await startTestGateway(`version: 1\n${yaml}`)
      cleanup.push(() => gw.close())
      return gw
    },
    async upstream(...args: Parameters<typeof scriptedUpstream>) {
      const u = await scriptedUpstream(...args)
      cleanup.push(() => u.close())
      return u
    },
    chat: (gw: RunningGateway, body: object = ask, headers: Record<string, string> = {}) => postJson(`${gw.url}/v1/chat/completions`, body, headers),
  }
}
