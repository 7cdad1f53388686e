/**
 * An OpenAI-shaped upstream for suites that reach it through provider.openai (so requests and
 * answers are OpenAI's real wire format): chat completions, plain or streamed as OpenAI streams
 * them (the usage chunk only when stream_options.include_usage asks, never when
 * `ignoresIncludeUsage` plays a server that ignores it), and embeddings from a
 * function the test gives (base64 float32 when asked, as the SDK does by default). The cache and
 * RAG suites use it with their own embedding models and answers.
 */
import { encodeEmbedding } from '../../plugins/providers/kit/provider-kit.ts'
import { sendJson, sendSse, startUpstream, type MockUpstream, type RecordedRequest } from './upstream.ts'

export interface OpenAIUpstream extends MockUpstream {
  /** Chat completion requests seen so far. */
  chats(): RecordedRequest[]
  /** Embedding requests seen so far. */
  embeddings(): RecordedRequest[]
  /** Run before answering an embeddings request: throw to answer 500, or wait. */
  beforeEmbed: ((inputs: string[]) => void | Promise<void>) | undefined
  /** Stream as an OpenAI-compatible server that ignores `stream_options.include_usage`: no usage chunk ever. */
  ignoresIncludeUsage: boolean
}

export interface OpenAIUpstreamOptions {
  /** The vector for an input; `dimensions` is what the request asked for, if it did. Default [1, 0, 0]. */
  embed?: (text: string, dimensions: number | undefined) => number[]
  /** The text of the n-th chat answer (from 1). Default `answer #<n>: <last user text>`, so a fresh answer differs from a cached one. */
  reply?: (body: any, n: number) => string
  /** A pause between streamed chunks. */
  chunkDelayMs?: number
  /** The upstream's `ignoresIncludeUsage` at start (default false). */
  ignoresIncludeUsage?: boolean
}

/** The last user message's text (JSON for content parts). */
export const lastUserText = (body: any): string => {
  const last = [...(body.messages ?? [])].reverse().find((m: { role: string }) => m.role === 'user')
  if (!last) return ''
  return typeof last.content === 'string' ? last.content : JSON.stringify(last.content)
}

/** The usage every answer reports. */
export const UPSTREAM_USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }

export async function startOpenAIUpstream(options: OpenAIUpstreamOptions = {}): Promise<OpenAIUpstream> {
  const embed = options.embed ?? (() => [1, 0, 0])
  const reply = options.reply ?? ((body: any, n: number) => `answer #${n}: ${lastUserText(body)}`)
  const state: { beforeEmbed: OpenAIUpstream['beforeEmbed']; answers: number; ignoresIncludeUsage: boolean } = { beforeEmbed: undefined, answers: 0, ignoresIncludeUsage: options.ignoresIncludeUsage ?? false }
  const upstream = await startUpstream(async (req, res) => {
    if (req.path.endsWith('/embeddings')) {
      const inputs: string[] = Array.isArray(req.body.input) ? req.body.input : [req.body.input]
      try {
        await state.beforeEmbed?.(inputs)
      } catch (err) {
        return sendJson(res, 500, { error: { message: (err as Error).message, type: 'server_error', code: null, param: null } })
      }
      const data = inputs.map((input, index) => ({ object: 'embedding', index, embedding: encodeEmbedding(embed(input, req.body.dimensions), req.body.encoding_format) }))
      const tokens = inputs.reduce((n, input) => n + input.split(/\s+/).filter(Boolean).length, 0)
      return sendJson(res, 200, { object: 'list', data, model: req.body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } })
    }
    if (!req.path.endsWith('/chat/completions')) return sendJson(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } })
    const n = ++state.answers
    const text = reply(req.body, n)
    const id = `chatcmpl-up-${n}`
    const common = { id, created: 1_700_000_000, model: req.body.model, system_fingerprint: 'fp_test' }
    if (!req.body.stream) {
      return sendJson(res, 200, {
        ...common, object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage: UPSTREAM_USAGE,
      })
    }
    const chunk = (delta: object, finish: string | null) => ({ ...common, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })
    await sendSse(res, [
      { data: chunk({ role: 'assistant', content: '' }, null) },
      ...text.split(/(?<= )/).map((word) => ({ data: chunk({ content: word }, null) })),
      { data: chunk({}, 'stop') },
      ...(req.body.stream_options?.include_usage && !state.ignoresIncludeUsage ? [{ data: { ...common, object: 'chat.completion.chunk', choices: [], usage: UPSTREAM_USAGE } }] : []),
      { data: '[DONE]' },
    ], { delayMs: options.chunkDelayMs })
  })
  return {
    ...upstream,
    chats: () => upstream.requests.filter((r) => r.path.endsWith('/chat/completions')),
    embeddings: () => upstream.requests.filter((r) => r.path.endsWith('/embeddings')),
    get beforeEmbed() { return state.beforeEmbed },
    set beforeEmbed(fn: OpenAIUpstream['beforeEmbed']) { state.beforeEmbed = fn },
    get ignoresIncludeUsage() { return state.ignoresIncludeUsage },
    set ignoresIncludeUsage(value: boolean) { state.ignoresIncludeUsage = value },
  }
}

/**
 * YAML: provider `up` (provider.openai) on this upstream, and the routes `gpt` (a chat model) and
 * `embedder` (an embedding model), then any more route entries given.
 */
export const upstreamRoutes = (upstream: { readonly url: string }, moreRoutes = ''): string => `providers:
  up: { plugin: openai, api_key: test-key, base_url: "${upstream.url}/v1" }
routes:
  - model: gpt
    targets: [ { provider: up, model: gpt-4o-mini } ]
  - model: embedder
    targets: [ { provider: up, model: text-embedding-3-small } ]
${moreRoutes}`

/** YAML: api-key auth for these callers, and the departments research and sales they belong to. */
export const researchAndSales = (callers: readonly { key: string; user: string; department?: 'research' | 'sales'; role?: string }[]): string => `auth:
  strategies:
    - plugin: api-key
      keys:
${callers.map((c) => `        - { key: ${c.key}, user: ${c.user}${c.department ? `, department: ${c.department}` : ''}${c.role ? `, role: ${c.role}` : ''} }\n`).join('')}departments: { research: {}, sales: {} }
`
