/**
 * What OpenAI-wire upstreams send, per dialect, for the mock upstreams of the OpenAI-wire provider
 * tests. Shapes follow each provider's API reference and its official SDK's types:
 *  - OpenAI: openai SDK `ChatCompletion` / `ChatCompletionChunk` / `CreateEmbeddingResponse`
 *    (refusal, annotations, service_tier, system_fingerprint, obfuscation, usage details).
 *  - Groq: groq-sdk types: usage with queue/prompt/completion timings, `x_groq` with the request
 *    id, stream usage in the final chunk's `x_groq.usage`, its own `service_tier` values, no
 *    `refusal` on messages.
 *  - OpenRouter: `gen-` ids, `provider`, `native_finish_reason`, usage with `cost`, `: OPENROUTER
 *    PROCESSING` keep-alive comments, a usage chunk always sent, errors as `{ error: { code, message } }`;
 *    a model's thinking as `reasoning` (null when none) and `reasoning_details` blocks.
 *  - Groq's thinking (`reasoning_format: parsed`, gpt-oss) as `reasoning`, its count in
 *    `completion_tokens_details.reasoning_tokens`.
 *  - Azure OpenAI: `prompt_filter_results` / `content_filter_results`, and a first stream chunk with
 *    empty choices, id, model and object carrying only the prompt filter results.
 */
import type http from 'node:http'

export type Frame = { data: unknown } | { comment: string }

export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
}

export interface ToolCallSpec {
  id: string
  name: string
  /** The arguments JSON, as the pieces the upstream streams it in. */
  pieces: string[]
}

export interface Reply {
  content?: string
  toolCalls?: ToolCallSpec[]
  usage?: Usage
  /** The model's thinking, sent (and streamed, before the content) in the dialect's own field. */
  reasoning?: string
  /** Of the completion tokens, those spent thinking. */
  reasoningTokens?: number
}

export interface WireDialect {
  readonly name: string
  completion(model: string, reply: Reply): Record<string, unknown>
  /** The frames of a streamed reply; `includeUsage` is what the upstream was asked for. */
  streamFrames(model: string, reply: Reply, includeUsage: boolean): Frame[]
  errorBody(status: number, message: string): Record<string, unknown>
  /** An error event sent after the stream has started. */
  midStreamError(model: string, message: string): Record<string, unknown>
  embeddings(model: string, vectors: number[][], encoding: 'float' | 'base64'): Record<string, unknown>
  models(): Record<string, unknown>
}

export const DEFAULT_USAGE: Usage = { prompt_tokens: 19, completion_tokens: 7, total_tokens: 26 }
const CREATED = 1_741_569_952

const finishOf = (reply: Reply): string => (reply.toolCalls?.length ? 'tool_calls' : 'stop')
const fullToolCalls = (reply: Reply) =>
  reply.toolCalls?.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.pieces.join('') } }))

/** Content split into a few pieces, as models stream it. */
function contentPieces(text: string): string[] {
  return text.split(/(?<=\s)/)
}

/** OpenAI's delta sequence: role first, then content or tool-call pieces, then the finish. */
function openAIDeltas(reply: Reply): Array<Record<string, unknown>> {
  const deltas: Array<Record<string, unknown>> = []
  if (reply.toolCalls?.length) {
    reply.toolCalls.forEach((call, index) => {
      deltas.push({
        ...(index === 0 ? { role: 'assistant', content: null, refusal: null } : {}),
        tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
      })
      for (const piece of call.pieces) deltas.push({ tool_calls: [{ index, function: { arguments: piece } }] })
    })
  } else {
    deltas.push({ role: 'assistant', content: '', refusal: null })
    for (const piece of contentPieces(reply.content ?? '')) deltas.push({ content: piece })
  }
  return deltas
}

const openAIUsage = (u: Usage) => ({
  ...u,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
})

export const openaiDialect: WireDialect = {
  name: 'openai',
  completion(model, reply) {
    return {
      id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT',
      object: 'chat.completion',
      created: CREATED,
      model,
      choices: [{
        index: 0,
        message: { role: 'assistant', content: reply.toolCalls?.length ? null : reply.content ?? '', refusal: null, annotations: [], ...(reply.toolCalls?.length ? { tool_calls: fullToolCalls(reply) } : {}) },
        logprobs: null,
        finish_reason: finishOf(reply),
      }],
      usage: openAIUsage(reply.usage ?? DEFAULT_USAGE),
      service_tier: 'default',
      system_fingerprint: 'fp_06737a9306',
    }
  },
  streamFrames(model, reply, includeUsage) {
    const base = { id: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT', object: 'chat.completion.chunk', created: CREATED, model, service_tier: 'default', system_fingerprint: 'fp_06737a9306' }
    const usageNull = includeUsage ? { usage: null } : {}
    const frames: Frame[] = openAIDeltas(reply).map((delta) => ({
      data: { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }], ...usageNull, obfuscation: 'Xy3' },
    }))
    frames.push({ data: { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishOf(reply) }], ...usageNull, obfuscation: 'a1' } })
    if (includeUsage) frames.push({ data: { ...base, choices: [], usage: openAIUsage(reply.usage ?? DEFAULT_USAGE), obfuscation: 'Qq' } })
    frames.push({ data: '[DONE]' })
    return frames
  },
  errorBody(status, message) {
    const type = status === 401 ? 'invalid_request_error' : status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error'
    return { error: { message, type, param: null, code: status === 401 ? 'invalid_api_key' : null } }
  },
  midStreamError(_model, message) {
    return { error: { message, type: 'server_error', param: null, code: null } }
  },
  embeddings(model, vectors, encoding) {
    return {
      object: 'list',
      data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: encoding === 'base64' ? toBase64(v) : v })),
      model,
      usage: { prompt_tokens: 8, total_tokens: 8 },
    }
  },
  models() {
    return {
      object: 'list',
      data: [
        { id: 'gpt-4o-mini', object: 'model', created: 1721172741, owned_by: 'system' },
        { id: 'text-embedding-3-small', object: 'model', created: 1705948997, owned_by: 'system' },
      ],
    }
  },
}

/**
 * An OpenAI-compatible server with a reasoning model: OpenAI's shapes, the thinking on the message and
 * in deltas before the content under `field` (DeepSeek, Kimi and vLLM before 0.10: `reasoning_content`;
 * vLLM 0.10 and later: `reasoning`), its count in `completion_tokens_details.reasoning_tokens`.
 */
export function reasoningServerDialect(field: 'reasoning_content' | 'reasoning'): WireDialect {
  const withTokens = (body: Record<string, unknown>, reply: Reply) => {
    const usage = body.usage as { completion_tokens_details: Record<string, number> } | undefined
    if (usage && reply.reasoningTokens !== undefined) usage.completion_tokens_details.reasoning_tokens = reply.reasoningTokens
    return body
  }
  return {
    ...openaiDialect,
    name: `openai-compatible (${field})`,
    completion(model, reply) {
      const body = withTokens(openaiDialect.completion(model, reply), reply) as { choices: Array<{ message: Record<string, unknown> }> }
      if (reply.reasoning) body.choices[0].message[field] = reply.reasoning
      return body
    },
    streamFrames(model, reply, includeUsage) {
      const frames = openaiDialect.streamFrames(model, reply, includeUsage)
      const base = (frames[0] as { data: Record<string, unknown> }).data
      const thinking = reasoningDeltas(reply, (piece) => ({ [field]: piece })).map((delta): Frame => ({ data: { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] } }))
      for (const frame of frames) if ('data' in frame && typeof frame.data === 'object' && (frame.data as { usage?: unknown }).usage) withTokens(frame.data as Record<string, unknown>, reply)
      return [...thinking, ...frames]
    },
  }
}

const groqUsage = (u: Usage, reasoningTokens?: number) => ({
  queue_time: 0.051, prompt_tokens: u.prompt_tokens, prompt_time: 0.004, completion_tokens: u.completion_tokens, completion_time: 0.021, total_tokens: u.total_tokens, total_time: 0.025,
  ...(reasoningTokens !== undefined ? { completion_tokens_details: { reasoning_tokens: reasoningTokens } } : {}),
})

/** A reply's thinking as streamed deltas before its content, each in the dialect's shape (`delta`). */
function reasoningDeltas(reply: Reply, delta: (piece: string) => Record<string, unknown>): Array<Record<string, unknown>> {
  return reply.reasoning ? contentPieces(reply.reasoning).map((piece, i) => ({ ...(i === 0 ? { role: 'assistant' } : {}), ...delta(piece) })) : []
}

export const groqDialect: WireDialect = {
  name: 'groq',
  completion(model, reply) {
    return {
      id: 'chatcmpl-9f1c4a8e-6b0a-4b7e-9d0e-2f1d3c4b5a69',
      object: 'chat.completion',
      created: CREATED,
      model,
      choices: [{
        index: 0,
        // Groq's message has no `refusal`, and no `content` beside tool calls.
        message: {
          ...(reply.toolCalls?.length ? { role: 'assistant', tool_calls: fullToolCalls(reply) } : { role: 'assistant', content: reply.content ?? '' }),
          ...(reply.reasoning ? { reasoning: reply.reasoning } : {}),
        },
        logprobs: null,
        finish_reason: finishOf(reply),
      }],
      usage: groqUsage(reply.usage ?? DEFAULT_USAGE, reply.reasoningTokens),
      usage_breakdown: null,
      system_fingerprint: 'fp_3f3b593e33',
      x_groq: { id: 'req_01jq7m6x5nf8v9k2c3d4e5f6g7' },
      service_tier: 'on_demand',
    }
  },
  streamFrames(model, reply) {
    const base = { id: 'chatcmpl-9f1c4a8e-6b0a-4b7e-9d0e-2f1d3c4b5a69', object: 'chat.completion.chunk', created: CREATED, model, system_fingerprint: 'fp_3f3b593e33' }
    const deltas = [...reasoningDeltas(reply, (piece) => ({ reasoning: piece })), ...openAIDeltas(reply)]
    const frames: Frame[] = deltas.map((delta, i) => ({
      data: { ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }], ...(i === 0 ? { x_groq: { id: 'req_01jq7m6x5nf8v9k2c3d4e5f6g7', seed: 1201873340 } } : {}) },
    }))
    // Groq reports stream usage in the final chunk's x_groq, not as an OpenAI usage chunk.
    frames.push({
      data: { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishOf(reply) }], x_groq: { id: 'req_01jq7m6x5nf8v9k2c3d4e5f6g7', usage: groqUsage(reply.usage ?? DEFAULT_USAGE, reply.reasoningTokens) } },
    })
    frames.push({ data: '[DONE]' })
    return frames
  },
  errorBody(status, message) {
    const code = status === 401 ? 'invalid_api_key' : status === 429 ? 'rate_limit_exceeded' : status === 404 ? 'model_not_found' : undefined
    return { error: { message, type: status === 429 ? 'tokens' : status >= 500 ? 'internal_server_error' : 'invalid_request_error', ...(code ? { code } : {}) } }
  },
  midStreamError(_model, message) {
    return { error: { message, type: 'internal_server_error' } }
  },
  embeddings: (model, vectors, encoding) => openaiDialect.embeddings(model, vectors, encoding),
  models() {
    return {
      object: 'list',
      data: [
        { id: 'llama-3.3-70b-versatile', object: 'model', created: 1733447754, owned_by: 'Meta', active: true, context_window: 131072, public_apps: null },
        { id: 'openai/gpt-oss-120b', object: 'model', created: 1754408224, owned_by: 'OpenAI', active: true, context_window: 131072, public_apps: null },
      ],
    }
  },
}

const openRouterUsage = (u: Usage, reasoningTokens = 0) => ({ ...u, cost: 0.0000123, is_byok: false, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: reasoningTokens } })

/** OpenRouter's signed thinking block (Claude's), as `reasoning_details` carries it. */
export const OPENROUTER_SIGNATURE = 'ErUBCkYIBhgCIkD0qcMq9k'
const openRouterDetail = (text: string, signature: string | null) => ({ type: 'reasoning.text', text, signature, format: 'anthropic-claude-v1', index: 0 })

export const openrouterDialect: WireDialect = {
  name: 'openrouter',
  completion(model, reply) {
    return {
      id: 'gen-1741569952-kXG3mO1v0sCk3p1Ou4tS',
      provider: 'OpenAI',
      model,
      object: 'chat.completion',
      created: CREATED,
      choices: [{
        logprobs: null,
        finish_reason: finishOf(reply),
        native_finish_reason: finishOf(reply),
        index: 0,
        message: {
          role: 'assistant', content: reply.toolCalls?.length ? '' : reply.content ?? '', refusal: null, reasoning: reply.reasoning ?? null,
          ...(reply.reasoning ? { reasoning_details: [openRouterDetail(reply.reasoning, OPENROUTER_SIGNATURE)] } : {}),
          ...(reply.toolCalls?.length ? { tool_calls: fullToolCalls(reply) } : {}),
        },
      }],
      usage: openRouterUsage(reply.usage ?? DEFAULT_USAGE, reply.reasoningTokens),
    }
  },
  streamFrames(model, reply) {
    const base = { id: 'gen-1741569952-kXG3mO1v0sCk3p1Ou4tS', provider: 'OpenAI', model, object: 'chat.completion.chunk', created: CREATED }
    const frames: Frame[] = [{ comment: 'OPENROUTER PROCESSING' }]
    const thinking = reasoningDeltas(reply, (piece) => ({ content: '', reasoning: piece, reasoning_details: [openRouterDetail(piece, null)] }))
    for (const delta of [...thinking, ...openAIDeltas(reply)]) {
      frames.push({ data: { ...base, choices: [{ index: 0, delta, finish_reason: null, native_finish_reason: null, logprobs: null }] } })
    }
    frames.push({ data: { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: finishOf(reply), native_finish_reason: finishOf(reply), logprobs: null }] } })
    // OpenRouter always sends the usage chunk, asked for or not.
    frames.push({ data: { ...base, choices: [], usage: openRouterUsage(reply.usage ?? DEFAULT_USAGE, reply.reasoningTokens) } })
    frames.push({ data: '[DONE]' })
    return frames
  },
  errorBody(status, message) {
    return { error: { code: status, message, metadata: { provider_name: 'OpenAI' } } }
  },
  midStreamError(model, message) {
    return {
      id: 'gen-1741569952-kXG3mO1v0sCk3p1Ou4tS', object: 'chat.completion.chunk', created: CREATED, model, provider: 'OpenAI',
      error: { code: 'server_error', message },
      choices: [{ index: 0, delta: { content: '' }, finish_reason: 'error' }],
    }
  },
  embeddings(model, vectors, encoding) {
    return { ...openaiDialect.embeddings(model, vectors, encoding), id: 'gen-emb-1741569952-a1b2c3', provider: 'OpenAI' }
  },
  models() {
    return {
      data: [
        {
          id: 'openai/gpt-4o-mini', canonical_slug: 'openai/gpt-4o-mini-2024-07-18', name: 'OpenAI: GPT-4o-mini', created: 1721260800,
          description: 'GPT-4o mini is OpenAI\'s newest model after GPT-4 Omni.', context_length: 128000,
          architecture: { modality: 'text+image->text', input_modalities: ['text', 'image'], output_modalities: ['text'], tokenizer: 'GPT', instruct_type: null },
          pricing: { prompt: '0.00000015', completion: '0.0000006' }, top_provider: { context_length: 128000, max_completion_tokens: 16384, is_moderated: true },
          per_request_limits: null, supported_parameters: ['max_tokens', 'temperature', 'tools'],
        },
        {
          id: 'anthropic/claude-3.5-haiku', canonical_slug: 'anthropic/claude-3-5-haiku', name: 'Anthropic: Claude 3.5 Haiku', created: 1730678400,
          description: 'Claude 3.5 Haiku.', context_length: 200000,
          architecture: { modality: 'text+image->text', input_modalities: ['text', 'image'], output_modalities: ['text'], tokenizer: 'Claude', instruct_type: null },
          pricing: { prompt: '0.0000008', completion: '0.000004' }, top_provider: { context_length: 200000, max_completion_tokens: 8192, is_moderated: true },
          per_request_limits: null, supported_parameters: ['max_tokens', 'temperature', 'tools'],
        },
      ],
    }
  },
}

const azureFilters = { hate: { filtered: false, severity: 'safe' }, self_harm: { filtered: false, severity: 'safe' }, sexual: { filtered: false, severity: 'safe' }, violence: { filtered: false, severity: 'safe' } }

export const azureDialect: WireDialect = {
  name: 'azure',
  completion(model, reply) {
    const body = openaiDialect.completion(model, reply) as { choices: Array<Record<string, unknown>> } & Record<string, unknown>
    body.choices = body.choices.map((c) => ({ ...c, content_filter_results: azureFilters }))
    return { ...body, prompt_filter_results: [{ prompt_index: 0, content_filter_results: azureFilters }] }
  },
  streamFrames(model, reply, includeUsage) {
    // Azure's first chunk carries only the prompt filter results.
    const first: Frame = { data: { choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: azureFilters }] } }
    return [first, ...openaiDialect.streamFrames(model, reply, includeUsage)]
  },
  errorBody(status, message) {
    return { error: { code: status === 404 ? 'DeploymentNotFound' : String(status), message } }
  },
  midStreamError: (model, message) => openaiDialect.midStreamError(model, message),
  embeddings: (model, vectors, encoding) => openaiDialect.embeddings(model, vectors, encoding),
  models() {
    return {
      data: [
        { status: 'succeeded', capabilities: { fine_tune: false, inference: true, completion: false, chat_completion: true, embeddings: false }, lifecycle_status: 'generally-available', id: 'gpt-4o-mini', created_at: 1721347200, object: 'model' },
      ],
      object: 'list',
    }
  },
}

export function toBase64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64')
}

export function fromBase64(text: string): number[] {
  const bytes = Buffer.from(text, 'base64')
  return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))
}

const hasChoices = (data: unknown): boolean => Array.isArray((data as { choices?: unknown[] } | null)?.choices) && (data as { choices: unknown[] }).choices.length > 0

/**
 * Write SSE frames (data and comments), each flushed as written. `afterFirst` holds the stream after
 * the first chunk with choices (annotation-only chunks, like Azure's, do not count).
 */
export async function writeFrames(res: http.ServerResponse, frames: Frame[], options: { delayMs?: number; afterFirst?: Promise<unknown> } = {}): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  let held = false
  for (const frame of frames) {
    if ('comment' in frame) res.write(`: ${frame.comment}\n\n`)
    else {
      res.write(`data: ${typeof frame.data === 'string' ? frame.data : JSON.stringify(frame.data)}\n\n`)
      if (!held && options.afterFirst && hasChoices(frame.data)) {
        held = true
        await options.afterFirst
      }
    }
    if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs))
  }
  res.end()
}
