/**
 * An OpenAI-shaped upstream for the cache suites (reached through provider.openai, so requests
 * and answers are OpenAI's real wire format): every chat answer is numbered, so a test can tell
 * a fresh answer from a cached one, and streams are sent as OpenAI sends them. Embeddings come
 * from a table the test controls (base64 float32 when the SDK asks for it, as it does by default).
 */
import type http from 'node:http'
import { encodeEmbedding } from '../../plugins/providers/kit/provider-kit.ts'
import { sendJson, sendSse, startUpstream, type MockUpstream, type RecordedRequest } from '../helpers/upstream.ts'

export interface OpenAIUpstream extends MockUpstream {
  /** Chat completion requests seen so far. */
  chats(): RecordedRequest[]
  /** Embedding requests seen so far. */
  embeddings(): RecordedRequest[]
}

const lastUserText = (body: any): string => {
  const last = [...(body.messages ?? [])].reverse().find((m: { role: string }) => m.role === 'user')
  return typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '')
}

/**
 * `embed(text)` gives the vector for an input (the test's table); a chat answer is
 * `answer #<n>: <last user text>`; `chunkDelayMs` slows streams down.
 */
export async function startOpenAIUpstream(options: { embed?: (text: string) => number[]; chunkDelayMs?: number } = {}): Promise<OpenAIUpstream> {
  let answers = 0
  const upstream = await startUpstream(async (req: RecordedRequest, res: http.ServerResponse) => {
    if (req.path.endsWith('/embeddings')) {
      const inputs: string[] = Array.isArray(req.body.input) ? req.body.input : [req.body.input]
      const data = inputs.map((input, index) => ({ object: 'embedding', index, embedding: encodeEmbedding((options.embed ?? (() => [1, 0, 0]))(input), req.body.encoding_format) }))
      sendJson(res, 200, { object: 'list', data, model: req.body.model, usage: { prompt_tokens: 3, total_tokens: 3 } })
      return
    }
    if (!req.path.endsWith('/chat/completions')) return sendJson(res, 404, { error: { message: 'not found', type: 'invalid_request_error' } })
    const n = ++answers
    const text = `answer #${n}: ${lastUserText(req.body)}`
    const id = `chatcmpl-up-${n}`
    const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }
    if (!req.body.stream) {
      sendJson(res, 200, {
        id, object: 'chat.completion', created: 1_700_000_000, model: req.body.model, system_fingerprint: 'fp_test',
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }],
        usage,
      })
      return
    }
    const chunk = (delta: object, finish: string | null) => ({ id, object: 'chat.completion.chunk', created: 1_700_000_000, model: req.body.model, system_fingerprint: 'fp_test', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })
    const words = text.split(/(?<= )/)
    await sendSse(res, [
      { data: chunk({ role: 'assistant', content: '' }, null) },
      ...words.map((w) => ({ data: chunk({ content: w }, null) })),
      { data: chunk({}, 'stop') },
      ...(req.body.stream_options?.include_usage ? [{ data: { id, object: 'chat.completion.chunk', created: 1_700_000_000, model: req.body.model, choices: [], usage } }] : []),
      { data: '[DONE]' },
    ], { delayMs: options.chunkDelayMs })
  })
  return {
    ...upstream,
    chats: () => upstream.requests.filter((r) => r.path.endsWith('/chat/completions')),
    embeddings: () => upstream.requests.filter((r) => r.path.endsWith('/embeddings')),
  }
}

/** Parse an SSE body into its `data:` payloads (JSON where it parses). */
export function sseData(text: string): unknown[] {
  return text.split('\n\n').filter((f) => f.includes('data: ')).map((f) => {
    const data = f.slice(f.indexOf('data: ') + 6)
    try { return JSON.parse(data) } catch { return data }
  })
}
