/**
 * Anthropic's Messages wire, translated to and from the unified API so Claude-native clients (the
 * Anthropic SDK, Claude Code) can use any route:
 *
 *   Anthropic Messages request  → unified ChatRequest           (fromAnthropicRequest)
 *   unified ChatCompletion      → Anthropic Message              (toAnthropicMessage)
 *   unified chunks              → Anthropic's stream events      (AnthropicEventEncoder)
 *
 * A route whose target speaks this wire natively (provider.anthropic) gets the request untranslated.
 * What Anthropic refuses on any route is refused before (validate.ts); errors are written by
 * `anthropicErrorBody` (plugins/contracts/anthropic.ts).
 *
 * The wire types are the official SDK's, imported as types only. What the unified API cannot carry
 * is refused with a 400 naming the field (server tools, content it has no part for, a field Anthropic's
 * API does not have) or dropped with an `x-gateway-warning` (settings such as `top_k`; `thinking` where the target model has no reasoning_effort). `cache_control` is a caching hint
 * with no effect on the answer; it is dropped without a warning because Claude Code sets it everywhere.
 */
import type { MessageCreateParamsBase as BetaMessageCreateParamsBase } from '@anthropic-ai/sdk/resources/beta/messages/messages'
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
import type { ChatCompletionAssistantMessageParam } from 'openai/resources/chat/completions'
import {
  GatewayError, badRequest, stopSequenceOf,
  type ChatChunk, type ChatContentPart, type ChatMessage, type ChatRequest, type ChatResponse, type ChatToolCall, type ChatTool, type SseFrame, type StageExchange, type StreamEncoder, type Usage,
} from '../../../plugin-api/index.ts'
import { anthropicErrorBody } from '../../contracts/anthropic.ts'
import { isClaudeBlock, reasoningOf, withAdaptiveThinking, withThinking, type Reasoning, type ThinkingEffort } from '../../contracts/thinking.ts'
import { clientToolNames, unifiedToolName } from './tool-names.ts'

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

/** Request fields this translation reads; another of Anthropic's fields present is reported as dropped. */
const TRANSLATED_FIELDS = new Set([
  'model', 'messages', 'max_tokens', 'system', 'stop_sequences', 'stream', 'metadata', 'temperature', 'top_p',
  'tools', 'tool_choice', 'output_config', 'cache_control',
])

/**
 * Every field of Anthropic's Messages request, betas' included (typed against the SDK's, so a field it
 * gains fails the type check until listed), and the sampling fields of API versions before 2026-10-21.
 * A field not here is not Anthropic's: refused as its API would ("Extra inputs are not permitted")
 * rather than dropped, when the request is translated; a target that takes the wire as it came answers
 * for itself.
 */
const ANTHROPIC_FIELDS: ReadonlySet<string> = new Set(Object.keys({
  max_tokens: 1, messages: 1, model: 1, billing_policy: 1, cache_control: 1, compaction: 1, container: 1, context_management: 1,
  diagnostics: 1, fallback_credit_token: 1, fallbacks: 1, inference_geo: 1, mcp_servers: 1, metadata: 1, output_config: 1,
  output_format: 1, service_tier: 1, speed: 1, stop_sequences: 1, stream: 1, system: 1, thinking: 1, thread: 1, tool_choice: 1,
  tools: 1, betas: 1, user_profile_id: 1, workspace_id: 1, temperature: 1, top_p: 1, top_k: 1,
} satisfies Record<keyof MessageCreateParamsBase | keyof BetaMessageCreateParamsBase | 'temperature' | 'top_p' | 'top_k', 1>))

const EFFORT: Readonly<Record<string, ReasoningEffort>> = { low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh' }
/** Anthropic's output effort as the effort adaptive thinking stands for. */
const ADAPTIVE_EFFORT: Readonly<Record<string, ThinkingEffort>> = { low: 'low', medium: 'medium', high: 'high', xhigh: 'high', max: 'high' }

/** `body` has passed `checkMessagesRequest` (validate.ts). */
export function fromAnthropicRequest(body: AnthropicMessagesRequest): InboundRequest {
  const warnings: string[] = []
  // What the unified API cannot carry is left out of the translation and kept as the reason it
  // cannot be translated: an Anthropic target gets the request as it came, any other refuses it.
  const lost: GatewayError[] = []
  for (const field of Object.keys(body)) {
    if (!ANTHROPIC_FIELDS.has(field)) {
      // The name is the client's: it goes in the error's message, never into a header.
      lost.push(badRequest(`${field}: Extra inputs are not permitted.`, field, 'unknown_parameter'))
      continue
    }
    if (TRANSLATED_FIELDS.has(field) || (body as unknown as Record<string, unknown>)[field] == null) continue
    // Disabled asks for nothing; a budget or adaptive thinking is settled per target (contracts/thinking.ts: reasoning_effort, a budget, or reported dropped).
    if (field === 'thinking' && ['disabled', 'enabled', 'adaptive'].includes(body.thinking?.type as string)) continue
    warnings.push(`dropped '${field}': it has no equivalent in the unified API`)
  }
  // Anthropic's prompt-cache pre-warm generates nothing; another provider has no such request.
  if (body.max_tokens === 0) lost.push(badRequest('max_tokens: 0 only pre-warms Anthropic\'s prompt cache, which this route\'s target does not have.', 'max_tokens', 'unsupported_max_tokens'))

  const messages: ChatMessage[] = []
  if (body.system !== undefined && body.system !== null) messages.push({ role: 'system', content: systemContent(body.system, 'system') })
  let droppedThinking = false
  body.messages.forEach((message, i) => {
    droppedThinking = appendMessage(messages, message, `messages.${i}`, lost) || droppedThinking
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
    const tools = body.tools.flatMap((tool, i) => fromAnthropicTool(tool, `tools.${i}`, lost))
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
  if (body.thinking?.type === 'enabled') withThinking(request, body.thinking.budget_tokens)
  // Adaptive: the model decides how much, at output_config.effort (Anthropic's default: high).
  if (body.thinking?.type === 'adaptive') withAdaptiveThinking(request, ADAPTIVE_EFFORT[effort ?? 'high'] ?? 'high')
  return { request, warnings, untranslatable: lost[0] }
}

/**
 * The system prompt as one string, its blocks' texts a paragraph each: OpenAI takes text parts too,
 * but OpenAI-compatible servers such as Groq refuse a system message whose content is not a string,
 * and Claude Code (any client marking `cache_control`) always sends blocks.
 */
function systemContent(system: string | TextBlockParam[], at: string): string {
  if (typeof system === 'string') return system
  if (!Array.isArray(system)) throw badRequest('`system` must be a string or an array of text blocks.', at, 'invalid_system')
  return system.map((block, j) => {
    if (block?.type !== 'text') throw badRequest('`system` blocks must be text.', `${at}.${j}`, 'invalid_system')
    return block.text
  }).join('\n\n')
}

/** Append one Anthropic turn as unified messages; returns whether thinking blocks were dropped. */
function appendMessage(out: ChatMessage[], message: MessageParam, at: string, lost: GatewayError[]): boolean {
  // Roles and content shapes were checked (validate.ts): a turn is the user's or the assistant's.
  if (message.role === 'user') {
    appendUserTurn(out, message.content, `${at}.content`, lost)
    return false
  }
  return appendAssistantTurn(out, message.content, `${at}.content`, lost)
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
    const where = `${at}.${j}`
    if (block?.type === 'tool_result') {
      const texts: string[] = []
      const results = typeof block.content === 'string' ? [{ type: 'text' as const, text: block.content }] : block.content ?? []
      results.forEach((inner, k) => {
        if (inner.type === 'text') texts.push(inner.text)
        // OpenAI tool messages carry text only: an image a tool returned goes to the user message after them.
        else parts.push(...userPart(inner, `${where}.content.${k}`, lost))
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
        toolCalls.push({ id: block.id, type: 'function', function: { name: unifiedToolName(block.name), arguments: JSON.stringify(block.input ?? {}) } })
        return
      case 'thinking':
      case 'redacted_thinking':
        droppedThinking = true
        return
      default:
        lost.push(badRequest(`Assistant content of type '${block?.type}' cannot be sent through the unified API.`, `${at}.${j}`, 'unsupported_content'))
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
  return [{ type: 'function', function: { name: unifiedToolName(name), parameters: parameters as Record<string, unknown>, ...(description ? { description } : {}), ...(strict ? { strict } : {}) } }]
}

function fromToolChoice(choice: ToolChoice): Pick<ChatRequest, 'tool_choice' | 'parallel_tool_calls'> {
  const parallel = 'disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use ? { parallel_tool_calls: false } : {}
  switch (choice.type) {
    case 'auto': return { tool_choice: 'auto', ...parallel }
    case 'any': return { tool_choice: 'required', ...parallel }
    case 'none': return { tool_choice: 'none' }
    case 'tool': return { tool_choice: { type: 'function', function: { name: unifiedToolName(choice.name) } }, ...parallel }
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

/** `stopSequence`: the one that ended the answer, where the upstream said (unified.ts's StopSequenceField) and the client asked for it. */
const toStopReason = (reason: FinishReason | null | undefined, stopSequence: string | null): StopReason =>
  (reason === 'stop' && stopSequence !== null ? 'stop_sequence' : reason && STOP_REASON[reason]) || 'end_turn'

/** What translating an answer back reads of the client's request. */
export interface ClientRequestView {
  /** The client's name for each tool name the unified request shortened (tool-names.ts). */
  readonly toolNames: ReadonlyMap<string, string>
  /** Its `stop_sequences`: an upstream's word that one of them ended the answer is taken only for one of these. */
  readonly stopSequences: readonly string[]
  /** Whether it asked for thinking (a budget, or adaptive): only then does the answer's thinking (`reasoning_content`) come back, as thinking blocks. */
  readonly thinking?: boolean
}

const NO_VIEW: ClientRequestView = { toolNames: new Map(), stopSequences: [] }

export function clientView(body: AnthropicMessagesRequest): ClientRequestView {
  const stops = Array.isArray(body.stop_sequences) ? body.stop_sequences : []
  return { toolNames: clientToolNames(body), stopSequences: stops, thinking: body.thinking?.type === 'enabled' || body.thinking?.type === 'adaptive' }
}

/**
 * An answer's thinking as Anthropic's blocks: Claude's own signed ones where the answer kept them
 * (`thinking_blocks`), else its `reasoning_content` (another provider's thoughts) as one block with no
 * signature, which only this answer's reader uses (sent back, the surface drops it with a warning).
 */
function thinkingBlocks(message: Reasoning | undefined): Message['content'] {
  // Another provider's signature (Gemini's) is no Anthropic block: a client would send it back to Claude.
  const signed = message?.thinking_blocks?.filter(isClaudeBlock) ?? []
  if (signed.length) return signed.map((b) => (b.type === 'thinking' ? { type: 'thinking', thinking: b.thinking, signature: b.signature } : { type: 'redacted_thinking', data: b.data }))
  const text = reasoningOf(message)
  return text ? [{ type: 'thinking', thinking: text, signature: '' }] : []
}

/** The stop sequence that ended `choice`, if the upstream said so and the client asked for it. */
const askedStop = (choice: object | undefined, view: ClientRequestView): string | null => {
  const sequence = stopSequenceOf(choice)
  return sequence !== null && view.stopSequences.includes(sequence) ? sequence : null
}

/**
 * OpenAI's prompt tokens include those read from and written to the prompt cache; Anthropic counts
 * both apart from `input_tokens`, and splits the writes by the cache's lifetime where the provider said.
 */
function toAnthropicUsage(usage: Usage | null | undefined): AnthropicUsage {
  const { cached_tokens: cached = 0, cache_write_tokens: written = 0, cache_write_1h_tokens: written1h } = usage?.prompt_tokens_details ?? {}
  const reasoning = usage?.completion_tokens_details?.reasoning_tokens
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached - written),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: written,
    cache_creation: written1h === undefined ? null : { ephemeral_1h_input_tokens: written1h, ephemeral_5m_input_tokens: Math.max(0, written - written1h) },
    output_tokens_details: reasoning === undefined ? null : { thinking_tokens: reasoning },
    inference_geo: null,
    server_tool_use: null,
    service_tier: null,
    speed: null,
  }
}

/** `cutOff`: the answer hit max_tokens, so arguments may end mid-way: an empty input then, as the stop reason says why. */
function parseToolInput(args: string, cutOff: boolean): unknown {
  if (!args.trim()) return {}
  try {
    return JSON.parse(args)
  } catch (err) {
    if (cutOff) return {}
    // Anthropic's tool input is an object: broken arguments from the provider cannot be passed on as one.
    throw new GatewayError('The provider returned tool call arguments that are not valid JSON.', { status: 502, code: 'upstream_invalid_tool_arguments', cause: err })
  }
}

/**
 * Anthropic's message ids start `msg_`, and clients that tell objects apart by their prefix (or log
 * them) expect it: an upstream's `chatcmpl-...` keeps its characters after the prefix, so support can
 * still find it in the provider's logs.
 */
const messageId = (id: string): string => (id.startsWith('msg_') ? id : `msg_${id}`)

function emptyMessage(id: string, model: string): Message {
  return {
    id: messageId(id), type: 'message', role: 'assistant', model, content: [],
    stop_reason: null, stop_sequence: null, stop_details: null, usage: toAnthropicUsage(null), container: null, diagnostics: null,
  }
}

export function toAnthropicMessage(completion: ChatResponse, view: ClientRequestView = NO_VIEW): Message {
  const choice = completion.choices[0]
  const message = emptyMessage(completion.id, completion.model)
  // A refusal (OpenAI's `refusal`, in place of content) is what Claude says in text, with stop_reason `refusal`.
  const { content, refusal } = choice?.message ?? {}
  const text = (content ?? '') + (refusal ?? '')
  if (view.thinking) message.content.push(...thinkingBlocks(choice?.message as Reasoning | undefined))
  if (text) message.content.push({ type: 'text', text, citations: null })
  for (const call of choice?.message.tool_calls ?? []) {
    if (call.type !== 'function') continue
    message.content.push({ type: 'tool_use', id: call.id, name: view.toolNames.get(call.function.name) ?? call.function.name, input: parseToolInput(call.function.arguments, choice.finish_reason === 'length'), caller: { type: 'direct' } })
  }
  const stopSequence = askedStop(choice, view)
  message.stop_reason = refusal ? 'refusal' : toStopReason(choice?.finish_reason, stopSequence)
  if (message.stop_reason === 'stop_sequence') message.stop_sequence = stopSequence
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
  #thinkingBlock: number | undefined
  readonly #blockByToolIndex = new Map<number, number>()
  #finishReason: FinishReason | undefined
  #refused = false
  #stopSequence: string | null = null
  #usage: Usage | undefined
  readonly #requestId: string
  readonly #exchange: Pick<StageExchange, 'estimate'> | undefined
  readonly #view: ClientRequestView

  /** `exchange`: its prompt estimate is `message_start`'s input_tokens (the upstream's figure comes only at the end). */
  constructor(requestId: string, exchange?: Pick<StageExchange, 'estimate'>, view: ClientRequestView = NO_VIEW) {
    this.#requestId = requestId
    this.#exchange = exchange
    this.#view = view
  }

  chunk(chunk: ChatChunk): SseFrame[] {
    const events: RawMessageStreamEvent[] = []
    if (!this.#started) {
      this.#started = true
      const message = emptyMessage(chunk.id, chunk.model)
      // An upstream that counts the prompt up front (usage on its first chunk) gives the real figures, cache reads and writes included.
      if (chunk.usage) message.usage = { ...toAnthropicUsage(chunk.usage), output_tokens: 0 }
      else message.usage.input_tokens = this.#exchange?.estimate.prompt ?? 0
      events.push({ type: 'message_start', message })
    }
    if (chunk.usage) this.#usage = chunk.usage
    const choice = chunk.choices[0]
    if (choice) {
      if (choice.finish_reason) this.#finishReason = choice.finish_reason
      this.#stopSequence = askedStop(choice, this.#view) ?? this.#stopSequence
      const { content, refusal, tool_calls: toolCalls } = choice.delta
      if (this.#view.thinking) this.#thinking(events, choice.delta as Reasoning)
      if (content) this.#text(events, content)
      // A refusal streams as text, as Claude's does, and ends the message with stop_reason `refusal`.
      if (refusal) {
        this.#refused = true
        this.#text(events, refusal)
      }
      for (const call of toolCalls ?? []) {
        let block = this.#blockByToolIndex.get(call.index)
        if (block === undefined) {
          this.#close(events)
          block = this.#openBlock = this.#nextBlock++
          this.#blockByToolIndex.set(call.index, block)
          const id = call.id ?? `toolu_${chunk.id}_${call.index}`
          const name = call.function?.name ?? ''
          events.push({ type: 'content_block_start', index: block, content_block: { type: 'tool_use', id, name: this.#view.toolNames.get(name) ?? name, input: {}, caller: { type: 'direct' } } })
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
    const { input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, output_tokens_details } = toAnthropicUsage(this.#usage)
    // Without usage (no chunk carried any), input_tokens is null: the SDK keeps message_start's estimate rather than a zero.
    const deltaUsage: MessageDeltaUsage = {
      input_tokens: this.#usage ? input_tokens : null, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, output_tokens_details, server_tool_use: null,
    }
    const stopReason = this.#refused ? 'refusal' : toStopReason(this.#finishReason, this.#stopSequence)
    const stopSequence = stopReason === 'stop_sequence' ? this.#stopSequence : null
    events.push({ type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: stopSequence, stop_details: null, container: null }, usage: deltaUsage })
    events.push({ type: 'message_stop' })
    return events.map(frame)
  }

  error(error: GatewayError): SseFrame {
    return { event: 'error', data: JSON.stringify(anthropicErrorBody(error, this.#requestId)) }
  }

  /** A piece of text, in the open text block or a new one. */
  #text(events: RawMessageStreamEvent[], text: string): void {
    if (this.#textBlock === undefined) {
      this.#close(events)
      this.#textBlock = this.#openBlock = this.#nextBlock++
      events.push({ type: 'content_block_start', index: this.#textBlock, content_block: { type: 'text', text: '', citations: null } })
    }
    events.push({ type: 'content_block_delta', index: this.#textBlock, delta: { type: 'text_delta', text } })
  }

  /**
   * The thinking a delta carries: its `reasoning_content` into the open thinking block (or a new one);
   * a signed block (`thinking_blocks`, Claude's through the unified API) signs and closes it, or is sent
   * whole when its text did not stream.
   */
  #thinking(events: RawMessageStreamEvent[], delta: Reasoning): void {
    const text = reasoningOf(delta)
    if (text) {
      this.#openThinking(events)
      events.push({ type: 'content_block_delta', index: this.#thinkingBlock!, delta: { type: 'thinking_delta', thinking: text } })
    }
    for (const block of delta.thinking_blocks ?? []) {
      if (!isClaudeBlock(block)) continue
      if (block.type === 'redacted_thinking') {
        this.#close(events)
        const index = this.#nextBlock++
        events.push({ type: 'content_block_start', index, content_block: { type: 'redacted_thinking', data: block.data } }, { type: 'content_block_stop', index })
        continue
      }
      if (this.#thinkingBlock === undefined) {
        this.#openThinking(events)
        events.push({ type: 'content_block_delta', index: this.#thinkingBlock!, delta: { type: 'thinking_delta', thinking: block.thinking } })
      }
      if (block.signature) events.push({ type: 'content_block_delta', index: this.#thinkingBlock!, delta: { type: 'signature_delta', signature: block.signature } })
      this.#close(events)
    }
  }

  #openThinking(events: RawMessageStreamEvent[]): void {
    if (this.#thinkingBlock !== undefined) return
    this.#close(events)
    this.#thinkingBlock = this.#openBlock = this.#nextBlock++
    events.push({ type: 'content_block_start', index: this.#thinkingBlock, content_block: { type: 'thinking', thinking: '', signature: '' } })
  }

  #close(events: RawMessageStreamEvent[]): void {
    if (this.#openBlock === undefined) return
    events.push({ type: 'content_block_stop', index: this.#openBlock })
    if (this.#openBlock === this.#textBlock) this.#textBlock = undefined
    if (this.#openBlock === this.#thinkingBlock) this.#thinkingBlock = undefined
    this.#openBlock = undefined
  }
}

/** Anthropic's stream framing: each event with its `event:` line. */
const frame = (event: RawMessageStreamEvent): SseFrame => ({ event: event.type, data: JSON.stringify(event) })
