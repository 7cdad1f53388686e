/**
 * provider.mock: a deterministic provider that answers without any network. It echoes the last
 * user message (as JSON its schema accepts under `response_format: json_schema`), can stream, has
 * configurable latency, and can be told to fail, so the default config works offline and tests
 * have a provider. It uses the same contract as every provider.
 */
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { definePlugin, embeddingInputs, type NativeResult, type Provider, type ProviderCall } from '../../../plugin-api/index.ts'
import { upstreamError } from '../../../plugin-api/index.ts'
import { encodeEmbedding } from '../kit/provider-kit.ts'
import { OPENAI_IMAGE_EDITS, OPENAI_IMAGE_VARIATIONS, OPENAI_IMAGES, OPENAI_MODERATIONS, OPENAI_SPEECH, OPENAI_TRANSCRIPTIONS, OPENAI_TRANSLATIONS, type MultipartBody } from '../../contracts/wires.ts'
import { mockModeration } from './moderation.ts'
import { mockImages } from './images.ts'
import { mockSpeech, mockTranscript } from './audio.ts'
import { instanceOf } from './json-instance.ts'
import type { ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, ModelInfo, Usage } from '../../../plugin-api/index.ts'
import { thinkingDropped } from '../../contracts/thinking.ts'

export interface MockConfig {
  latency_ms: number
  chunk_delay_ms: number
  reply?: string
  models: string[]
  embedding_dimensions: number
  fail_status?: number
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    latency_ms: { type: 'integer', minimum: 0, default: 0, description: 'Delay before answering (and before the first chunk).' },
    chunk_delay_ms: { type: 'integer', minimum: 0, default: 0, description: 'Delay between streamed chunks.' },
    reply: { type: 'string', description: 'A fixed reply; by default the last user message is echoed as "echo: <text>".' },
    models: { type: 'array', items: { type: 'string' }, default: ['mock-1'], description: 'What listModels reports.' },
    embedding_dimensions: { type: 'integer', minimum: 1, maximum: 4096, default: 16 },
    fail_status: { type: 'integer', minimum: 400, maximum: 599, description: 'Fail every call with this upstream status (for testing fallbacks).' },
  },
}

/** The mock reports one token per whitespace-separated word: it stands in for an upstream's own count. */
const countWords = (text: string): number => (text.match(/\S+/g) ?? []).length

function messageText(content: unknown): string {
  if (typeof content === 'string') return content
  // A document or an image is named in the echo, so a client sees that it reached the model.
  if (Array.isArray(content)) {
    return content.map((p: { type?: string; text?: string; file?: { filename?: string } }) => (p.type === 'text' ? p.text ?? '' : p.type === 'file' ? `[file: ${p.file?.filename ?? 'unnamed'}]` : p.type === 'image_url' ? '[image]' : '')).filter(Boolean).join(' ')
  }
  return ''
}

export function createMockProvider(config: MockConfig, name: string): Provider {
  const created = () => Math.floor(Date.now() / 1000)
  const fail = (): void => {
    if (config.fail_status) throw upstreamError(config.fail_status, `mock failure (fail_status ${config.fail_status})`, { provider: name, retryAfter: config.fail_status === 429 ? '1' : null })
  }
  /** A native wire answer, after the configured latency and failure. */
  const offline = (answer: (body: Record<string, unknown>, call: ProviderCall) => NativeResult) => async (body: Record<string, unknown>, call: ProviderCall): Promise<NativeResult> => {
    if (config.latency_ms) await sleep(config.latency_ms, undefined, { signal: call.signal })
    fail()
    return answer(body, call)
  }
  const answer = (req: ChatRequest): { text: string; usage: Usage } => {
    const lastUser = [...req.messages].reverse().find((m) => m.role === 'user')
    const text = structured(req, config.reply ?? `echo: ${messageText(lastUser?.content)}`)
    const prompt = req.messages.reduce((n, m) => n + countWords(messageText(m.content)), 0)
    // Each of the `n` choices is generated, and counted, alike.
    const completion = countWords(text) * choiceIndexes(req).length
    return { text, usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } }
  }

  async function* stream(req: ChatRequest, call: ProviderCall, id: string): AsyncGenerator<ChatChunk> {
    const { text, usage } = answer(req)
    const base = { id, object: 'chat.completion.chunk' as const, created: created(), model: req.model }
    const includeUsage = req.stream_options?.include_usage === true
    const words = text.split(/(?<=\s)/)
    // One choice after the other, each whole, as OpenAI's streams may interleave them.
    for (const index of choiceIndexes(req)) {
      yield { ...base, choices: [{ index, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }] }
      for (const word of words) {
        if (config.chunk_delay_ms) await sleep(config.chunk_delay_ms, undefined, { signal: call.signal })
        yield { ...base, choices: [{ index, delta: { content: word }, finish_reason: null, logprobs: logprobsOf([word], req) }] }
      }
      yield { ...base, choices: [{ index, delta: {}, finish_reason: 'stop', logprobs: null }] }
    }
    if (includeUsage) yield { ...base, choices: [], usage }
  }

  return {
    async chat(req, call) {
      if (config.latency_ms) await sleep(config.latency_ms, undefined, { signal: call.signal })
      fail()
      thinkingDropped(req, call)
      const id = `chatcmpl-mock-${call.requestId}`
      if (req.stream) return stream(req, call, id)
      const { text, usage } = answer(req)
      const response: ChatResponse = {
        id,
        object: 'chat.completion',
        created: created(),
        model: req.model,
        choices: choiceIndexes(req).map((index) => ({
          index, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: logprobsOf(text.split(/(?<=\s)/), req),
        })),
        usage,
      }
      return response
    },

    async embed(req: EmbeddingRequest, call: ProviderCall): Promise<EmbeddingResponse> {
      if (config.latency_ms) await sleep(config.latency_ms, undefined, { signal: call.signal })
      fail()
      // As every provider reads `input` ([1, 2, 3] is one tokenised text); a token counts as one.
      const inputs = embeddingInputs(req.input)
      const data = inputs.map((input, index) => {
        const vector = embedDeterministic(typeof input === 'string' ? input : JSON.stringify(input), req.dimensions ?? config.embedding_dimensions)
        const embedding = encodeEmbedding(vector, req.encoding_format)
        return { object: 'embedding' as const, index, embedding: embedding as number[] }
      })
      const tokens = inputs.reduce<number>((n, i) => n + (typeof i === 'string' ? countWords(i) : Array.isArray(i) ? i.length : 0), 0)
      return { object: 'list', data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }
    },

    // OpenAI's own endpoints that have no unified form, answered offline after the same latency and failures as chat.
    native: {
      [OPENAI_MODERATIONS]: offline((body, call) => mockModeration(body, call.requestId)),
      [OPENAI_IMAGES]: offline(mockImages),
      [OPENAI_IMAGE_EDITS]: offline(mockImages),
      [OPENAI_IMAGE_VARIATIONS]: offline(mockImages),
      [OPENAI_TRANSCRIPTIONS]: offline((body) => mockTranscript(body as MultipartBody, false)),
      [OPENAI_TRANSLATIONS]: offline((body) => mockTranscript(body as MultipartBody, true)),
      [OPENAI_SPEECH]: offline(mockSpeech),
    },

    async listModels(): Promise<ModelInfo[]> {
      return config.models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'mock' }))
    },
  }
}

/** The reply as the request's response_format asks: JSON its schema accepts, a JSON object, or the text. */
function structured(req: ChatRequest, text: string): string {
  const format = req.response_format
  if (format?.type === 'json_schema') return JSON.stringify(instanceOf(format.json_schema.schema ?? { type: 'object' }, text))
  if (format?.type === 'json_object') return JSON.stringify({ reply: text })
  return text
}

/**
 * With `logprobs: true`, OpenAI's log probabilities of each token: the mock's tokens are its
 * whitespace-separated words (as it streams and counts them), each certain (logprob 0), and
 * `top_logprobs` lists that token alone (it has no alternatives).
 */
function logprobsOf(tokens: readonly string[], req: ChatRequest): ChatResponse['choices'][number]['logprobs'] {
  if (req.logprobs !== true) return null
  const top = (req.top_logprobs ?? 0) > 0
  return {
    content: tokens.map((token) => {
      const entry = { token, logprob: 0, bytes: [...Buffer.from(token, 'utf8')] }
      return { ...entry, top_logprobs: top ? [entry] : [] }
    }),
    refusal: null,
  }
}

/** The indexes of the choices a request asks for (`n`, default 1), as OpenAI answers them. */
function choiceIndexes(req: ChatRequest): number[] {
  return Array.from({ length: req.n ?? 1 }, (_, index) => index)
}

/** A unit vector derived from the text's hash: same text, same vector. */
function embedDeterministic(text: string, dimensions: number): number[] {
  const values: number[] = []
  let block = createHash('sha256').update(text).digest()
  while (values.length < dimensions) {
    for (let i = 0; i + 1 < block.length && values.length < dimensions; i += 2) values.push(block.readInt16BE(i) / 32768)
    block = createHash('sha256').update(block).digest()
  }
  const norm = Math.hypot(...values) || 1
  return values.map((v) => v / norm)
}

export default definePlugin<MockConfig, Provider>({
  id: 'provider.mock',
  kind: 'provider',
  description: 'Deterministic offline provider: echoes, streams, fails on demand.',
  configSchema,
  setup: (ctx, config) => createMockProvider(config, ctx.name),
})
