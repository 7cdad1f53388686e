/**
 * OpenAI's legacy text completions (`POST /v1/completions`, `client.completions.create`), as code
 * completion tools still call it. A target that serves the endpoint itself (OpenAI, vLLM, Ollama,
 * LM Studio, OpenRouter: `native['openai-completions']`) gets the request as written, suffix
 * (fill-in-the-middle), echo and logprobs included, and its answer is relayed. Any other target
 * gets the prompt as one user message of a chat completion (max_tokens 16 when unset, as this API
 * defaults), answered back as a text_completion; what a chat cannot carry is refused there.
 */
import { badRequest, GatewayError, type ChatChunk, type ChatRequest, type ChatResponse, type ModelEndpoint, type SseFrame, type StreamEncoder } from '../../../plugin-api/index.ts'
import { OPENAI_COMPLETIONS } from '../../contracts/wires.ts'
import { checkCompletionRequest, requireObject } from '../../contracts/openai-requests.ts'
import { openAIErrorFrame } from './wire.ts'

type CompletionBody = Record<string, unknown> & { model: string; prompt?: unknown; stream?: boolean | null }

/** This API's default, which a chat model does not share. */
const DEFAULT_MAX_TOKENS = 16
/** Parameters a chat completion takes as they are. */
const SHARED = ['temperature', 'top_p', 'n', 'stop', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'seed', 'user', 'stream', 'stream_options'] as const

/** What only an upstream that serves /v1/completions can do with the request, or undefined. */
function untranslatable(body: CompletionBody): GatewayError | undefined {
  const only = (param: string, what: string) => badRequest(`${what} needs a target that serves /v1/completions itself (OpenAI, vLLM, Ollama...); this route's does not.`, param, 'unsupported_parameter')
  if (Array.isArray(body.prompt) && (body.prompt.length !== 1 || typeof body.prompt[0] !== 'string')) return only('prompt', 'A prompt of several texts or of token ids')
  if (body.suffix !== undefined && body.suffix !== null) return only('suffix', 'Fill-in-the-middle (`suffix`)')
  if (body.echo === true) return only('echo', '`echo`')
  if (typeof body.logprobs === 'number') return only('logprobs', '`logprobs`')
  if (typeof body.best_of === 'number' && body.best_of > 1) return only('best_of', '`best_of`')
  return undefined
}

/** The prompt as one user message of a chat completion. */
function asChat(body: CompletionBody): ChatRequest {
  const prompt = Array.isArray(body.prompt) ? String(body.prompt[0] ?? '') : String(body.prompt ?? '')
  const request: Record<string, unknown> = { model: body.model, messages: [{ role: 'user', content: prompt }], max_tokens: body.max_tokens ?? DEFAULT_MAX_TOKENS }
  for (const key of SHARED) if (body[key] !== undefined && body[key] !== null) request[key] = body[key]
  return request as unknown as ChatRequest
}

const FINISH: Record<string, string> = { stop: 'stop', length: 'length', content_filter: 'content_filter' }

function textCompletion(chat: ChatResponse): Record<string, unknown> {
  return {
    id: chat.id.replace(/^chatcmpl-/, 'cmpl-'), object: 'text_completion', created: chat.created, model: chat.model,
    choices: chat.choices.map((c) => ({ index: c.index, text: c.message.content ?? '', logprobs: null, finish_reason: FINISH[c.finish_reason] ?? 'stop' })),
    ...(chat.usage ? { usage: chat.usage } : {}),
  }
}

function completionChunk(chunk: ChatChunk): Record<string, unknown> {
  return {
    id: chunk.id.replace(/^chatcmpl-/, 'cmpl-'), object: 'text_completion', created: chunk.created, model: chunk.model,
    choices: chunk.choices.map((c) => ({ index: c.index, text: c.delta?.content ?? '', logprobs: null, finish_reason: c.finish_reason ? (FINISH[c.finish_reason] ?? 'stop') : null })),
    ...(chunk.usage ? { usage: chunk.usage } : {}),
  }
}

const chunkFrames: StreamEncoder = {
  chunk: (chunk): SseFrame[] => [{ data: JSON.stringify(completionChunk(chunk)) }],
  end: (complete) => (complete ? [{ data: '[DONE]' }] : []),
  error: openAIErrorFrame,
}

export const completions: ModelEndpoint<CompletionBody> = {
  method: 'POST',
  path: '/v1/completions',
  summary: 'Create a text completion (legacy): passed through to a target that serves it, else as a chat completion.',
  operation: 'chat',
  wire: OPENAI_COMPLETIONS,
  decode(raw) {
    const body = requireObject<CompletionBody>(raw)
    if (typeof body.model !== 'string' || body.model === '') throw badRequest('`model` is required.', 'model', 'missing_model')
    const prompt = body.prompt
    if (prompt === undefined || prompt === null || (typeof prompt !== 'string' && !Array.isArray(prompt))) throw badRequest('`prompt` must be a string or a list (of strings or token ids).', 'prompt', 'invalid_prompt')
    checkCompletionRequest(body)
    return { request: asChat(body), untranslatable: untranslatable(body) }
  },
  encode: (result) => textCompletion(result as ChatResponse),
  streamEncoder: () => chunkFrames,
}
