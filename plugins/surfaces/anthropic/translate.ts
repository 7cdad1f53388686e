/**
 * Anthropic's Messages wire, translated to and from the unified API so Claude-native clients (the
 * Anthropic SDK, Claude Code) can use any route:
 *
 *   Anthropic Messages request  → unified ChatRequest           (fromAnthropicRequest)
 *   unified ChatCompletion      → Anthropic Message              (toAnthropicMessage)
 *   unified chunks              → Anthropic's stream events      (AnthropicEventEncoder)
 *   GatewayError                → Anthropic's error body         (anthropicErrorBody)
 *
 * A route whose target speaks this wire natively (provider.anthropic) gets the request untranslated.
 *
 * The wire types are the official SDK's, imported as types only. What the unified API cannot carry
 * is refused with a 400 naming the field (server tools, content it has no part for) or dropped with
 * an `x-gateway-warning` (settings such as `thinking` or `top_k`). `cache_control` is a caching hint
 * with no effect on the answer; it is dropped without a warning because Claude Code sets it everywhere.
 */
import type {
  ContentBlockParam,
  Message,
  MessageCreateParamsBase,
  MessageDeltaUsage,
  MessageParam,
  RawMessageStreamEvent,
  StopReason,
  TextBlockParam,
  ToolChoice,
  ToolResultBlockParam,
  ToolUnion,
  Usage as AnthropicUsage,
} from '@anthropic-ai/sdk/resources/messages'
import type { ErrorResponse, ErrorType as AnthropicErrorType } from '@anthropic-ai/sdk/resources/shared'
import type { ChatCompletionAssistantMessageParam, ChatCompletionContentPartText } from 'openai/resources/chat/completions'
import {
  GatewayError, badRequest,
  type ChatChunk, type ChatContentPart, type ChatMessage, type ChatRequest, type ChatResponse, type ChatToolCall, type ChatTool, type SseFrame, type StageExchange, type StreamEncoder, type Usage,
} from '../../../plugin-api/index.ts'

/**
 * A Messages request as received. `temperature`, `top_p` and `top_k` left the SDK's types with API
 * version 2026-10-21, but clients pinned to an older version still send them.
 */
export type AnthropicMessagesRequest = MessageCreateParamsBase & { stream?: boolean; temperature?: number; top_p?: number; top_k?: number }

export interface InboundRequest {
  readonly request: ChatRequest
  /** What was dropped, for the `x-gateway-warning` header. */
  readonly warnings: string[]
  /** Content only Anthropic's API can take (server tools, blocks the unified API has no part for): the request fails with this if it must be translated. */
  readonly untranslatable?: GatewayError
}

type FinishReason = ChatResponse['choices'][number]['finish_reason']
/** A block a user turn may hold, directly or inside a tool result. */
type UserBlock = ContentBlockParam | Exclude<NonNullable<ToolResultBlockParam['content']>, string>[number]
type ReasoningEffort = NonNullable<ChatRequest['reasoning_effort']>

// ---------------------------------------------------------------------------------------------
// request

/** Request fields this translation reads; any other field present is reported as dropped. */
const TRANSLATED_FIELDS = new Set([
  'model', 'messages', 'max_tokens', 'system', 'stop_sequences', 'stream', 'metadata', 'temperature', 'top_p',
  'tools', 'tool_choice', 'output_config', 'cache_control',
])

const EFFORT: Readonly<Record<string, ReasoningEffort>> = { low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh' }

export function fromAnthropicRequest(body: AnthropicMessagesRequest): InboundRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.', null, 'invalid_body')
  const warnings: string[] = []
  // What the unified API cannot carry is left out of the translation and kept as the reason it
  // cannot be translated: an Anthropic target gets the request as it came, any other refuses it.
  const lost: GatewayError[] = []
  for (const field of Object.keys(body)) {
    if (TRANSLATED_FIELDS.has(field) || (body as unknown as Record<string, unknown>)[field] == null) continue
    if (field === 'thinking' && body.thinking?.type === 'disabled') continue
    // Field names are the client's: only plain ones go into the warning header.
    warnings.push(`dropped '${/^[\w.-]{1,64}$/.test(field) ? field : 'an unknown field'}': it has no equivalent in the unified API`)
  }
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) throw badRequest('`max_tokens` is required: a positive integer.', 'max_tokens', 'invalid_max_tokens')
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw badRequest('`messages` must be a non-empty array.', 'messages', 'invalid_messages')

  const messages: ChatMessage[] = []
  if (body.system !== undefined && body.system !== null) messages.push({ role: 'system', content: systemContent(body.system, 'system') })
  let droppedThinking = false
  body.messages.forEach((message, i) => {
    droppedThinking = appendMessage(messages, message, `messages[${i}]`, lost) || droppedThinking
  })
  // Reasoning from earlier turns is the model's own and cannot be replayed to another provider.
  if (droppedThinking) warnings.push('dropped thinking blocks from earlier assistant turns')

  const request: ChatRequest = { model: body.model, messages, max_completion_tokens: body.max_tokens }
  if (body.stop_sequences?.length) request.stop = body.stop_sequences
  if (body.stream) Object.assign(request, { stream: true, stream_options: { include_usage: true } })
  if (body.metadata?.user_id) request.user = body.metadata.user_id
  if (typeof body.temperature === 'number') request.temperature = body.temperature
  if (typeof body.top_p === 'number') request.top_p = body.top_p
  if (body.tools != null && !Array.isArray(body.tools)) throw badRequest('`tools` must be an array.', 'tools', 'invalid_tools')
  if (body.tools?.length) {
    const tools = body.tools.flatMap((tool, i) => fromAnthropicTool(tool, `tools[${i}]`, lost))
    if (tools.length) request.tools = tools
  }
  if (body.tool_choice != null && typeof body.tool_choice !== 'object') throw badRequest('`tool_choice` must be an object.', 'tool_choice', 'invalid_tool_choice')
  if (body.tool_choice) Object.assign(request, fromToolChoice(body.tool_choice))
  const { format, effort } = body.output_config ?? {}
  if (format?.type === 'json_schema') request.response_format = { type: 'json_schema', json_schema: { name: 'response', schema: format.schema, strict: true } }
  if (effort) {
    if (EFFORT[effort]) request.reasoning_effort = EFFORT[effort]
    else warnings.push(`dropped 'output_config.effort': that level has no equivalent in the unified API`)
  }
  return { request, warnings, untranslatable: lost[0] }
}

function systemContent(system: string | TextBlockParam[], at: string): string | ChatCompletionContentPartText[] {
  if (typeof system === 'string') return system
  if (!Array.isArray(system)) throw badRequest('`system` must be a string or an array of text blocks.', at, 'invalid_system')
  return system.map((block, j) => {
    if (block?.type !== 'text') throw badRequest('`system` blocks must be text.', `${at}[${j}]`, 'invalid_system')
    return { type: 'text', text: block.text }
  })
}

/** Append one Anthropic turn as unified messages; returns whether thinking blocks were dropped. */
function appendMessage(out: ChatMessage[], message: MessageParam, at: string, lost: GatewayError[]): boolean {
  if (typeof message !== 'object' || message === null) throw badRequest('Each message must be an object.', at, 'invalid_messages')
  const content = message.content
  if (typeof content !== 'string' && !Array.isArray(content)) throw badRequest('`content` must be a string or an array of content blocks.', `${at}.content`, 'invalid_content')
  switch (message.role) {
    case 'system':
      out.push({ role: 'system', content: systemContent(message.content, `${at}.content`) })
      return false
    case 'user':
      appendUserTurn(out, content, `${at}.content`, lost)
      return false
    case 'assistant':
      return appendAssistantTurn(out, content, `${at}.content`, lost)
    default:
      throw badRequest(`Unknown role '${String((message as { role?: unknown }).role)}': use user, assistant or system.`, `${at}.role`, 'invalid_role')
  }
}

/**
 * A user turn becomes its tool results as `tool` messages (which must follow the assistant's tool
 * calls directly), then one user message with everything else.
 */
function appendUserTurn(out: ChatMessage[], content: string | ContentBlockParam[], at: string, lost: GatewayError[]): void {
  if (typeof content === 'string') {
    out.push({ role: 'user', content })
    return
  }
  const parts: ChatContentPart[] = []
  content.forEach((block, j) => {
    const where = `${at}[${j}]`
    if (block?.type === 'tool_result') {
      const texts: string[] = []
      const results = typeof block.content === 'string' ? [{ type: 'text' as const, text: block.content }] : block.content ?? []
      results.forEach((inner, k) => {
        if (inner.type === 'text') texts.push(inner.text)
        // OpenAI tool messages carry text only: an image a tool returned goes to the user message after them.
        else parts.push(...userPart(inner, `${where}.content[${k}]`, lost))
      })
      const text = texts.join('\n')
      out.push({ role: 'tool', tool_call_id: block.tool_use_id, content: block.is_error ? `Error: ${text}` : text })
    } else {
      parts.push(...userPart(block, where, lost))
    }
  })
  if (parts.length) out.push({ role: 'user', content: parts })
}

/** The unified part of a user block: none (and a note in `lost`) for a block the unified API has no part for. */
function userPart(block: UserBlock, at: string, lost: GatewayError[]): ChatContentPart[] {
  switch (block?.type) {
    case 'text':
      return [{ type: 'text', text: block.text }]
    case 'image': {
      const source = block.source
      if (source.type === 'base64') return [{ type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } }]
      if (source.type === 'url') return [{ type: 'image_url', image_url: { url: source.url } }]
      break
    }
    case 'document': {
      const source = block.source
      if (source.type === 'base64') return [{ type: 'file', file: { file_data: `data:${source.media_type};base64,${source.data}`, filename: block.title ?? 'document.pdf' } }]
      if (source.type === 'text') return [{ type: 'text', text: source.data }]
      break
    }
  }
  if (typeof block !== 'object' || block === null) throw badRequest('Each content block must be an object.', at, 'invalid_content')
  const source = (block as { source?: { type?: string } })?.source?.type
  lost.push(badRequest(`Content of type '${block?.type}'${source ? ` with a '${source}' source` : ''} cannot be sent through the unified API.`, at, 'unsupported_content'))
  return []
}

/** Returns whether thinking blocks were dropped. */
function appendAssistantTurn(out: ChatMessage[], content: string | ContentBlockParam[], at: string, lost: GatewayError[]): boolean {
  if (typeof content === 'string') {
    out.push({ role: 'assistant', content })
    return false
  }
  let text = ''
  let droppedThinking = false
  const toolCalls: ChatToolCall[] = []
  content.forEach((block, j) => {
    switch (block?.type) {
      case 'text':
        text += block.text
        return
      case 'tool_use':
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } })
        return
      case 'thinking':
      case 'redacted_thinking':
        droppedThinking = true
        return
      default:
        lost.push(badRequest(`Assistant content of type '${block?.type}' cannot be sent through the unified API.`, `${at}[${j}]`, 'unsupported_content'))
    }
  })
  const message: ChatCompletionAssistantMessageParam = { role: 'assistant', content: text || null }
  if (toolCalls.length) message.tool_calls = toolCalls
  if (text || toolCalls.length) out.push(message)
  return droppedThinking
}

function fromAnthropicTool(tool: ToolUnion, at: string, lost: GatewayError[]): ChatTool[] {
  if (typeof tool !== 'object' || tool === null) throw badRequest('Each tool must be an object.', at, 'invalid_tools')
  // Client tools have no type (or 'custom'); typed ones are Anthropic's server tools, which only Anthropic can run.
  if ('type' in tool && tool.type && tool.type !== 'custom') {
    lost.push(badRequest(`Server tool '${tool.type}' runs inside Anthropic's API and cannot be routed through the unified API.`, `${at}.type`, 'unsupported_tool'))
    return []
  }
  const { name, description, input_schema: parameters, strict } = tool as Extract<ToolUnion, { input_schema: unknown }>
  return [{ type: 'function', function: { name, parameters: parameters as Record<string, unknown>, ...(description ? { description } : {}), ...(strict ? { strict } : {}) } }]
}

function fromToolChoice(choice: ToolChoice): Pick<ChatRequest, 'tool_choice' | 'parallel_tool_calls'> {
  const parallel = 'disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use ? { parallel_tool_calls: false } : {}
  switch (choice.type) {
    case 'auto': return { tool_choice: 'auto', ...parallel }
    case 'any': return { tool_choice: 'required', ...parallel }
    case 'none': return { tool_choice: 'none' }
    case 'tool': return { tool_choice: { type: 'function', function: { name: choice.name } }, ...parallel }
    default: throw badRequest(`Unknown tool_choice type '${String((choice as { type?: unknown }).type)}'.`, 'tool_choice.type', 'invalid_tool_choice')
  }
}

// ---------------------------------------------------------------------------------------------
// response

const STOP_REASON: Readonly<Record<NonNullable<FinishReason>, StopReason>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
}

const toStopReason = (reason: FinishReason | null | undefined): StopReason => (reason && STOP_REASON[reason]) || 'end_turn'

/** OpenAI's prompt tokens include the cached ones; Anthropic counts cache reads apart from `input_tokens`. */
function toAnthropicUsage(usage: Usage | null | undefined): AnthropicUsage {
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens
  return {
    input_tokens: (usage?.prompt_tokens ?? 0) - cached,
    output_tokens: usage?.completion_tokens ?? 0,
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: 0,
    cache_creation: null,
    output_tokens_details: reasoning === undefined ? null : { thinking_tokens: reasoning },
    inference_geo: null,
    server_tool_use: null,
    service_tier: null,
    speed: null,
  }
}

function parseToolInput(args: string): unknown {
  if (!args.trim()) return {}
  try {
    return JSON.parse(args)
  } catch (err) {
    // Anthropic's tool input is an object: broken arguments from the provider cannot be passed on as one.
    throw new GatewayError('The provider returned tool call arguments that are not valid JSON.', { status: 502, code: 'upstream_invalid_tool_arguments', cause: err })
  }
}

function emptyMessage(id: string, model: string): Message {
  return {
    id, type: 'message', role: 'assistant', model, content: [],
    stop_reason: null, stop_sequence: null, stop_details: null, usage: toAnthropicUsage(null), container: null, diagnostics: null,
  }
}

export function toAnthropicMessage(completion: ChatResponse): Message {
  const choice = completion.choices[0]
  const message = emptyMessage(completion.id, completion.model)
  const text = choice?.message.content
  if (text) message.content.push({ type: 'text', text, citations: null })
  for (const call of choice?.message.tool_calls ?? []) {
    if (call.type !== 'function') continue
    message.content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseToolInput(call.function.arguments), caller: { type: 'direct' } })
  }
  message.stop_reason = toStopReason(choice?.finish_reason)
  message.usage = toAnthropicUsage(completion.usage)
  return message
}

// ---------------------------------------------------------------------------------------------
// stream

/**
 * Unified chunks → Anthropic's event sequence: message_start, then per content block a
 * content_block_start, its deltas and a content_block_stop, then message_delta (stop reason and
 * usage) and message_stop. Text and each tool call are separate blocks, opened as they appear.
 * message_start carries the prompt's estimate as input_tokens; message_delta the final input and
 * output tokens (the upstream's, or the gateway's count when it sent none), which the SDK's
 * MessageStream takes over the estimate.
 */
export class AnthropicEventEncoder implements StreamEncoder {
  #started = false
  #openBlock: number | undefined
  #nextBlock = 0
  #textBlock: number | undefined
  readonly #blockByToolIndex = new Map<number, number>()
  #finishReason: FinishReason | undefined
  #usage: Usage | undefined
  readonly #requestId: string
  readonly #exchange: Pick<StageExchange, 'estimate'> | undefined

  /** `exchange`: its prompt estimate is `message_start`'s input_tokens (the upstream's figure comes only at the end). */
  constructor(requestId: string, exchange?: Pick<StageExchange, 'estimate'>) {
    this.#requestId = requestId
    this.#exchange = exchange
  }

  chunk(chunk: ChatChunk): SseFrame[] {
    const events: RawMessageStreamEvent[] = []
    if (!this.#started) {
      this.#started = true
      const message = emptyMessage(chunk.id, chunk.model)
      message.usage.input_tokens = this.#exchange?.estimate.prompt ?? 0
      events.push({ type: 'message_start', message })
    }
    if (chunk.usage) this.#usage = chunk.usage
    const choice = chunk.choices[0]
    if (choice) {
      if (choice.finish_reason) this.#finishReason = choice.finish_reason
      const { content, tool_calls: toolCalls } = choice.delta
      if (content) {
        if (this.#textBlock === undefined) {
          this.#close(events)
          this.#textBlock = this.#openBlock = this.#nextBlock++
          events.push({ type: 'content_block_start', index: this.#textBlock, content_block: { type: 'text', text: '', citations: null } })
        }
        events.push({ type: 'content_block_delta', index: this.#textBlock, delta: { type: 'text_delta', text: content } })
      }
      for (const call of toolCalls ?? []) {
        let block = this.#blockByToolIndex.get(call.index)
        if (block === undefined) {
          this.#close(events)
          block = this.#openBlock = this.#nextBlock++
          this.#blockByToolIndex.set(call.index, block)
          const id = call.id ?? `toolu_${chunk.id}_${call.index}`
          events.push({ type: 'content_block_start', index: block, content_block: { type: 'tool_use', id, name: call.function?.name ?? '', input: {}, caller: { type: 'direct' } } })
        }
        if (call.function?.arguments) events.push({ type: 'content_block_delta', index: block, delta: { type: 'input_json_delta', partial_json: call.function.arguments } })
      }
    }
    return events.map(frame)
  }

  end(complete: boolean): SseFrame[] {
    if (!complete) return []
    const events: RawMessageStreamEvent[] = []
    if (!this.#started) events.push({ type: 'message_start', message: emptyMessage('msg_empty', 'unknown') })
    this.#close(events)
    const { input_tokens, output_tokens, cache_read_input_tokens, output_tokens_details } = toAnthropicUsage(this.#usage)
    // Without usage (no chunk carried any), input_tokens is null: the SDK keeps message_start's estimate rather than a zero.
    const deltaUsage: MessageDeltaUsage = {
      input_tokens: this.#usage ? input_tokens : null, output_tokens, cache_read_input_tokens, cache_creation_input_tokens: null, output_tokens_details, server_tool_use: null,
    }
    events.push({ type: 'message_delta', delta: { stop_reason: toStopReason(this.#finishReason), stop_sequence: null, stop_details: null, container: null }, usage: deltaUsage })
    events.push({ type: 'message_stop' })
    return events.map(frame)
  }

  error(error: GatewayError): SseFrame {
    return { event: 'error', data: JSON.stringify(anthropicErrorBody(error, this.#requestId)) }
  }

  #close(events: RawMessageStreamEvent[]): void {
    if (this.#openBlock === undefined) return
    events.push({ type: 'content_block_stop', index: this.#openBlock })
    if (this.#openBlock === this.#textBlock) this.#textBlock = undefined
    this.#openBlock = undefined
  }
}

/** Anthropic's stream framing: each event with its `event:` line. */
const frame = (event: RawMessageStreamEvent): SseFrame => ({ event: event.type, data: JSON.stringify(event) })

// ---------------------------------------------------------------------------------------------
// errors

const ERROR_TYPE_BY_STATUS: Readonly<Record<number, AnthropicErrorType>> = {
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  429: 'rate_limit_error',
  504: 'timeout_error',
}

/** Anthropic's error body, which its SDKs parse into typed errors by the HTTP status. */
export function anthropicErrorBody(error: GatewayError, requestId: string | null): ErrorResponse {
  const type: AnthropicErrorType = error.code === 'upstream_overloaded'
    ? 'overloaded_error'
    : ERROR_TYPE_BY_STATUS[error.status] ?? (error.status >= 500 ? 'api_error' : 'invalid_request_error')
  return { type: 'error', error: { type, message: error.message } as ErrorResponse['error'], request_id: requestId }
}
