/**
 * Unified (OpenAI-shaped) chat request → Anthropic Messages request.
 *
 * Scalar parameters are tables (what each becomes, or why it cannot be honoured); messages and
 * tools are reshaped in code, because Anthropic's turns differ structurally: system text lives
 * apart, tool calls are `tool_use` blocks, tool results are `tool_result` blocks in a user turn,
 * and consecutive turns of one role are merged.
 */
import type {
  ContentBlockParam,
  DocumentBlockParam,
  ImageBlockParam,
  MessageCreateParamsBase,
  MessageParam,
  OutputConfig,
  TextBlockParam,
  Tool,
  ToolChoice,
} from '@anthropic-ai/sdk/resources/messages'
import { badRequest } from '../../../plugin-api/index.ts'
import type { ProviderCall } from '../../../plugin-api/index.ts'
import type { ChatContentPart, ChatMessage, ChatRequest, ChatTool } from '../../../plugin-api/index.ts'
import { defaultMaxTokens } from './models.ts'
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../../../plugin-api/index.ts'
import { addThinking, thinkingBlockParams } from './thinking.ts'
import { thinkingAskOf, type Reasoning } from '../../contracts/thinking.ts'

/**
 * The request body. `temperature` and `top_p` are not in the SDK's types because API version
 * 2026-10-21 removed them; they are sent only to an upstream pinned to an older version.
 */
export type AnthropicRequest = MessageCreateParamsBase & { temperature?: number; top_p?: number }

export interface RequestOptions {
  /** Whether the configured API version still accepts `temperature` and `top_p`. */
  readonly samplingParams: boolean
  readonly defaultMaxTokens?: number
  /** The most a model writes, when known (a thinking budget may raise an unset max_tokens up to it). */
  readonly outputCap?: (model: string) => number | undefined
}

// ---------------------------------------------------------------------------------------------
// parameters

type Check = (value: unknown) => boolean
const present: Check = (v) => v !== undefined && v !== null
const enabled: Check = (v) => v === true
const nonZero: Check = (v) => typeof v === 'number' && v !== 0
const nonEmptyObject: Check = (v) => typeof v === 'object' && v !== null && Object.keys(v).length > 0

/** Parameters Anthropic has no counterpart for: when in effect, reported through call.unsupported. */
const UNSUPPORTED: ReadonlyArray<readonly [param: keyof ChatRequest, inEffect: Check, reason: string]> = [
  ['seed', present, 'Anthropic has no sampling seed'],
  ['n', (v) => typeof v === 'number' && v > 1, 'Anthropic returns one choice per request'],
  ['frequency_penalty', nonZero, 'Anthropic has no frequency penalty'],
  ['presence_penalty', nonZero, 'Anthropic has no presence penalty'],
  ['logit_bias', nonEmptyObject, 'Anthropic has no logit bias'],
  ['logprobs', enabled, 'Anthropic does not return log probabilities'],
  ['top_logprobs', present, 'Anthropic does not return log probabilities'],
  ['audio', present, 'Anthropic does not produce audio'],
  ['modalities', (v) => Array.isArray(v) && v.some((m) => m !== 'text'), 'Anthropic produces text only'],
  ['prediction', present, 'Anthropic has no predicted outputs'],
  ['web_search_options', present, 'use Anthropic\'s server tools through /v1/messages instead'],
  ['service_tier', present, 'OpenAI service tiers have no Anthropic equivalent'],
  ['functions', present, 'the legacy functions API is not translated; send tools'],
  ['function_call', present, 'the legacy functions API is not translated; send tool_choice'],
  ['verbosity', present, 'Anthropic has no verbosity setting'],
  ['store', enabled, 'Anthropic does not store completions'],
  ['metadata', nonEmptyObject, 'Anthropic metadata holds only a user id (send `user`)'],
  ['prompt_cache_key', present, 'Anthropic caches by cache_control breakpoints, not by key'],
  ['prompt_cache_retention', present, 'Anthropic caches by cache_control breakpoints'],
]

/** OpenAI's tool_choice keywords → Anthropic's. */
const TOOL_CHOICE: Readonly<Record<'auto' | 'none' | 'required', ToolChoice>> = {
  auto: { type: 'auto' },
  none: { type: 'none' },
  required: { type: 'any' },
}

/** The image types Anthropic's base64 source accepts. */
const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp'])
const DATA_URL = /^data:([^;,]+);base64,(.*)$/s
const EMPTY_INPUT_SCHEMA: Tool.InputSchema = { type: 'object', properties: {} }

export function toAnthropicRequest(req: ChatRequest, call: ProviderCall, options: RequestOptions): AnthropicRequest {
  for (const [param, inEffect, reason] of UNSUPPORTED) if (inEffect(req[param])) call.unsupported(param, reason)

  const { system, messages } = toAnthropicMessages(req.messages, call)
  const body: AnthropicRequest = {
    model: req.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? options.defaultMaxTokens ?? defaultMaxTokens(req.model),
    messages,
  }
  if (system !== undefined) body.system = system
  if (req.stop) body.stop_sequences = typeof req.stop === 'string' ? [req.stop] : req.stop
  const userId = req.safety_identifier ?? req.user
  if (userId) body.metadata = { user_id: userId }
  addSampling(req, body, call, options)
  addTools(req, body, call)
  const output = outputConfig(req, call)
  if (output) body.output_config = output
  // reasoning_effort (or a thinking budget from Anthropic's wire) as thinking, settled for the model (thinking.ts).
  if (req.reasoning_effort != null || thinkingAskOf(req)) {
    addThinking(req, body, call, { clientBound: (req.max_completion_tokens ?? req.max_tokens) != null, outputCap: options.outputCap?.(req.model) })
  }
  return body
}

function addSampling(req: ChatRequest, body: AnthropicRequest, call: ProviderCall, options: RequestOptions): void {
  const { temperature, top_p: topP } = req
  if (!present(temperature) && !present(topP)) return
  if (!options.samplingParams) {
    const reason = 'Anthropic API version 2026-10-21 removed sampling parameters (set anthropic_version: 2023-06-01 to send them)'
    if (present(temperature)) call.unsupported('temperature', reason)
    if (present(topP)) call.unsupported('top_p', reason)
    return
  }
  // Anthropic's temperature range is 0–1, OpenAI's 0–2: a value above 1 has no faithful translation.
  if (typeof temperature === 'number') {
    if (temperature <= 1) body.temperature = temperature
    else call.unsupported('temperature', 'Anthropic accepts 0 to 1')
  }
  if (typeof topP === 'number') body.top_p = topP
}

function outputConfig(req: ChatRequest, call: ProviderCall): OutputConfig | undefined {
  const config: OutputConfig = {}
  const format = req.response_format
  if (format?.type === 'json_schema') {
    config.format = { type: 'json_schema', schema: format.json_schema.schema ?? { type: 'object' } }
  } else if (format?.type === 'json_object') {
    call.unsupported('response_format', 'Anthropic has JSON schema output only: send response_format json_schema')
  }
  return config.format ? config : undefined
}

// ---------------------------------------------------------------------------------------------
// tools

function addTools(req: ChatRequest, body: AnthropicRequest, call: ProviderCall): void {
  if (req.tools?.length) {
    const tools = req.tools.flatMap((tool, i) => toAnthropicTool(tool, i, call))
    if (tools.length) body.tools = tools
  }
  let choice = toolChoice(req, call)
  if (req.parallel_tool_calls === false && body.tools) {
    choice ??= { type: 'auto' }
    if (choice.type !== 'none') choice = { ...choice, disable_parallel_tool_use: true }
  }
  if (choice) body.tool_choice = choice
}

function toAnthropicTool(tool: ChatTool, index: number, call: ProviderCall): Tool[] {
  if (tool.type !== 'function') {
    call.unsupported(`tools[${index}]`, 'Anthropic has function tools only')
    return []
  }
  const { name, description, parameters, strict } = tool.function
  // Anthropic insists on an object schema; OpenAI lets a function take no parameters at all.
  const inputSchema = parameters ? ({ type: 'object', ...parameters } as Tool.InputSchema) : EMPTY_INPUT_SCHEMA
  return [{ name, input_schema: inputSchema, ...(description ? { description } : {}), ...(strict ? { strict: true } : {}) }]
}

function toolChoice(req: ChatRequest, call: ProviderCall): ToolChoice | undefined {
  const choice = req.tool_choice
  if (choice === undefined || choice === null) return undefined
  if (typeof choice === 'string') return TOOL_CHOICE[choice]
  if (choice.type === 'function') return { type: 'tool', name: choice.function.name }
  call.unsupported('tool_choice', `tool_choice type '${choice.type}' has no Anthropic equivalent`)
  return undefined
}

// ---------------------------------------------------------------------------------------------
// messages

type Turn = { role: 'user' | 'assistant'; content: ContentBlockParam[] } | { role: 'system'; content: TextBlockParam[] }

/**
 * System and developer messages before the conversation starts become the top-level `system`;
 * later ones stay in place as system entries, which the Messages API accepts mid-conversation.
 */
export function toAnthropicMessages(messages: readonly ChatMessage[], call: ProviderCall): { system: string | TextBlockParam[] | undefined; messages: MessageParam[] } {
  const system: TextBlockParam[] = []
  const turns: Turn[] = []
  messages.forEach((message, i) => {
    const at = `messages[${i}]`
    if ('name' in message && message.name) call.unsupported(`${at}.name`, 'Anthropic messages have no author name')
    switch (message.role) {
      case 'system':
      case 'developer': {
        const blocks = textBlocks(message.content, `${at}.content`)
        if (turns.length === 0) system.push(...blocks)
        else if (blocks.length) turns.push({ role: 'system', content: blocks })
        return
      }
      case 'user':
        return append(turns, 'user', userBlocks(message.content, at, call))
      case 'assistant':
        return append(turns, 'assistant', assistantBlocks(message, at, call))
      case 'tool':
        return append(turns, 'user', [{ type: 'tool_result', tool_use_id: message.tool_call_id, ...toolResultContent(message.content, `${at}.content`) }])
      default:
        call.unsupported(`${at}.role`, `the legacy '${message.role}' role is not translated; send tool messages`)
    }
  })
  return { system: system.length === 0 ? undefined : system.length === 1 ? system[0].text : system, messages: turns.map(toMessageParam) }
}

/** Anthropic merges consecutive turns of one role anyway; merging here keeps tool results in one user turn. */
function append(turns: Turn[], role: 'user' | 'assistant', blocks: ContentBlockParam[]): void {
  if (blocks.length === 0) return
  const last = turns.at(-1)
  if (last?.role === role) last.content.push(...blocks)
  else turns.push({ role, content: blocks })
}

/** A turn that is one text block goes out as a plain string, the short form Anthropic documents. */
function toMessageParam(turn: Turn): MessageParam {
  const [only] = turn.content
  if (turn.content.length === 1 && only.type === 'text' && turn.role !== 'system') return { role: turn.role, content: only.text }
  return turn as MessageParam
}

function textBlocks(content: string | ReadonlyArray<{ type: string; text?: string }>, at: string): TextBlockParam[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : []
  return content.flatMap((part, j): TextBlockParam[] => {
    if (part.type !== 'text' && part.type !== 'refusal') throw badRequest(`Only text parts are allowed here, got '${part.type}'.`, `${at}[${j}]`, 'invalid_content')
    const text = part.type === 'text' ? part.text : (part as { refusal?: string }).refusal
    // Anthropic rejects empty text blocks.
    return text ? [{ type: 'text', text }] : []
  })
}

function userBlocks(content: string | readonly ChatContentPart[], at: string, call: ProviderCall): ContentBlockParam[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : []
  return content.flatMap((part, j): ContentBlockParam[] => {
    const where = `${at}.content[${j}]`
    switch (part.type) {
      case 'text':
        return part.text ? [{ type: 'text', text: part.text }] : []
      case 'image_url':
        return [imageBlock(part.image_url.url, `${where}.image_url.url`)]
      case 'file': {
        const data = part.file.file_data ? DATA_URL.exec(part.file.file_data) : null
        if (data?.[1] === 'application/pdf') return [{ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: data[2] } } satisfies DocumentBlockParam]
        call.unsupported(where, 'Anthropic takes files only as inline PDF data (file_data: data:application/pdf;base64,...)')
        return []
      }
      default:
        call.unsupported(where, `Anthropic does not accept '${part.type}' content`)
        return []
    }
  })
}

function imageBlock(url: string, at: string): ImageBlockParam {
  const data = DATA_URL.exec(url)
  if (data) {
    const mediaType = data[1].toLowerCase()
    if (!IMAGE_MEDIA_TYPES.has(mediaType)) throw badRequest(`Anthropic accepts JPEG, PNG, GIF and WebP images, not '${mediaType}'.`, at, 'invalid_image')
    return { type: 'image', source: { type: 'base64', media_type: mediaType as 'image/png', data: data[2] } }
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } }
  throw badRequest('An image must be an http(s) URL or a base64 data URL.', at, 'invalid_image')
}

function assistantBlocks(message: Extract<ChatMessage, { role: 'assistant' }>, at: string, call: ProviderCall): ContentBlockParam[] {
  // The turn's thinking first, as Anthropic gave it (`thinking_blocks` on an answer, sent back as LiteLLM's clients do).
  const blocks: ContentBlockParam[] = thinkingBlockParams((message as Reasoning).thinking_blocks)
  if (message.content) blocks.push(...textBlocks(message.content, `${at}.content`))
  if (message.audio) call.unsupported(`${at}.audio`, 'Anthropic cannot replay audio turns')
  if (message.function_call) call.unsupported(`${at}.function_call`, 'the legacy functions API is not translated; send tool_calls')
  message.tool_calls?.forEach((toolCall, k) => {
    if (toolCall.type !== 'function') {
      call.unsupported(`${at}.tool_calls[${k}]`, 'Anthropic has function tools only')
      return
    }
    blocks.push({ type: 'tool_use', id: toolCall.id, name: toolCall.function.name, input: parseArguments(toolCall.function.arguments, `${at}.tool_calls[${k}].function.arguments`) })
  })
  return blocks
}

/** Tool-call arguments are a JSON string in OpenAI's shape and an object in Anthropic's. */
function parseArguments(text: string, at: string): Record<string, unknown> {
  if (!text.trim()) return {}
  if (jsonDepthExceeds(text)) throw badRequest(`Tool call arguments nest more than ${MAX_JSON_DEPTH} levels deep.`, at, 'invalid_tool_arguments')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw badRequest('Tool call arguments must be a JSON object.', at, 'invalid_tool_arguments')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('Tool call arguments must be a JSON object.', at, 'invalid_tool_arguments')
  return value as Record<string, unknown>
}

function toolResultContent(content: string | ReadonlyArray<{ type: string; text?: string }>, at: string): { content?: string | TextBlockParam[] } {
  if (typeof content === 'string') return content ? { content } : {}
  const blocks = textBlocks(content, at)
  return blocks.length ? { content: blocks } : {}
}
