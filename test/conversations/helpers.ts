/**
 * Conversations fixtures: a gateway with the conversations services and the responses surface,
 * an OpenAI-wire mock upstream that answers from the messages it gets (and records them), keys for
 * users in two departments, and small request helpers. `store` picks the embedded store or a
 * PostgreSQL schema of the run's own.
 */
import type http from 'node:http'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream, type RecordedRequest } from '../helpers/upstream.ts'
import { DATABASE_URL, dropSchema, uniqueSchema } from '../store/helpers.ts'

export const KEYS = {
  admin: 'conv-admin-key-0123456789abcdef',
  alice: 'conv-alice-key-0123456789abcdef', // user, research
  bob: 'conv-bob-key-0123456789abcdef01', // user, research
  carol: 'conv-carol-key-0123456789abcdef', // user, sales
  lead: 'conv-lead-key-0123456789abcdef0', // department_admin, research
} as const
export type Who = keyof typeof KEYS
export const as = (who: Who): Record<string, string> => ({ authorization: `Bearer ${KEYS[who]}` })

/** How the mock upstream answers requests for particular upstream models: the text, from the last user message's. */
export type ModelAnswers = Readonly<Record<string, (lastUserText: string) => string>>

/**
 * What the mock upstream answers: `reply to: <last user text>`, or a tool call when the text asks
 * for one; a model in `answers` answers its own text, one in `failing` a 500. `served`: the model the answer names (OpenAI's dated snapshot), else the one asked for.
 */
export function openAIUpstreamHandler(options: { delayMs?: number; answers?: ModelAnswers; failing?: readonly string[]; served?: (model: string) => string } = {}) {
  return async (req: RecordedRequest, res: http.ServerResponse): Promise<void> => {
    if (options.failing?.includes(req.body.model)) return sendJson(res, 500, { error: { message: 'the upstream is down', type: 'server_error', code: null, param: null } })
    const messages = (req.body.messages ?? []) as { role: string; content: string | null }[]
    const last = [...messages].reverse().find((m) => m.role === 'user' || m.role === 'tool')
    const own = options.answers?.[req.body.model]
    const text = own ? own(String(last?.content ?? '')) : last?.role === 'tool' ? `tool said: ${last.content}` : `reply to: ${last?.content ?? ''}`
    const wantsTool = last?.role === 'user' && /weather/i.test(String(last.content)) && Array.isArray(req.body.tools)
    const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 }
    const base = { id: 'chatcmpl-up', created: 1700000000, model: options.served?.(req.body.model) ?? req.body.model }
    const toolCall = { id: 'call_weather_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }
    if (!req.body.stream) {
      const message = wantsTool ? { role: 'assistant', content: null, tool_calls: [toolCall] } : { role: 'assistant', content: text }
      sendJson(res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: wantsTool ? 'tool_calls' : 'stop', logprobs: null }], usage })
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const send = (chunk: unknown) => res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', ...chunk as object })}\n\n`)
    send({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })
    if (wantsTool) {
      send({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...toolCall, function: { name: 'get_weather', arguments: '' } }] }, finish_reason: null }] })
      send({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }, finish_reason: null }] })
    } else {
      for (const word of text.split(/(?<= )/)) {
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs))
        if (res.destroyed) return
        send({ choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })
      }
    }
    send({ choices: [{ index: 0, delta: {}, finish_reason: wantsTool ? 'tool_calls' : 'stop' }] })
    if (req.body.stream_options?.include_usage) send({ choices: [], usage })
    res.end('data: [DONE]\n\n')
  }
}

export interface ConversationsFixture {
  gw: RunningGateway
  upstream: MockUpstream
  /** The PostgreSQL schema of a `postgres` fixture. */
  schema: string | undefined
  client(who: Who): OpenAI
  call(who: Who, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>
  /** The chat requests the upstream got, in order. */
  upstreamChats(): RecordedRequest[]
  close(): Promise<void>
}

export type StoreKind = 'embedded' | 'postgres'

export interface ConversationsOptions {
  store?: StoreKind
  /** More top-level gateway.yaml (e.g. `pricing:`). */
  extra?: string
  /** The conversations service's block, inside its braces. */
  services?: string
  upstreamDelayMs?: number
  routes?: string
  providers?: string
  noSurface?: boolean
  answers?: ModelAnswers
  /** Upstream models that answer 500. */
  failing?: readonly string[]
  /** Run the files service too (uploads messages can name). */
  files?: boolean
  /** Run the RAG service too (it reads documents messages carry into text). */
  rag?: boolean
}

export async function startConversations(options: ConversationsOptions = {}): Promise<ConversationsFixture> {
  const upstream = await startUpstream(openAIUpstreamHandler({ delayMs: options.upstreamDelayMs, answers: options.answers, failing: options.failing }))
  const schema = options.store === 'postgres' ? uniqueSchema('conv') : undefined
  const store = schema ? `store: { plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }` : `store: { plugin: embedded, memory: true, vector: ${options.rag ? 'true' : 'false'} }`
  const gw = await startTestGateway(`
version: 1
${store}
providers:
  up: { plugin: openai, api_key: sk-test, base_url: '${upstream.url}' }
${options.providers ?? ''}
routes:
  - { model: chat-a, targets: [ { provider: up, model: gpt-4o-mini } ] }
  - { model: chat-b, targets: [ { provider: up, model: gpt-4o } ] }
${options.routes ?? ''}
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: "${KEYS.admin}", user: admin, role: admin }
        - { key: "${KEYS.alice}", user: alice, role: user, department: research }
        - { key: "${KEYS.bob}", user: bob, role: user, department: research }
        - { key: "${KEYS.carol}", user: carol, role: user, department: sales }
        - { key: "${KEYS.lead}", user: lead, role: department_admin, department: research }
departments:
  research: {}
  sales: {}
services:
  conversations: { ${options.services ?? ''} }
  chat: {}
  assistants: {}
  docs: {}
${options.files ? '  files: {}' : ''}
${options.rag ? '  rag: {}' : ''}
${options.noSurface ? '' : 'surfaces:\n  responses: {}'}
${options.extra ?? ''}`)
  const call = async (who: Who, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method, headers: { ...as(who), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch { /* SSE or text */ }
    return { status: res.status, body: parsed as any }
  }
  return {
    gw, upstream, call, schema,
    client: (who) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS[who], maxRetries: 0 }),
    upstreamChats: () => upstream.requests.filter((r) => r.path.endsWith('/chat/completions')),
    async close() {
      await gw.close()
      await upstream.close()
      if (schema) await dropSchema(schema)
    },
  }
}

/** Parse an SSE body into events. */
export function sseEvents(text: string): { event: string | undefined; data: any }[] {
  return text.split('\n\n').filter((b) => b.trim()).map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1]
    const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')
    let parsed: unknown = data
    try { parsed = JSON.parse(data) } catch { /* [DONE] */ }
    return { event, data: parsed }
  })
}
