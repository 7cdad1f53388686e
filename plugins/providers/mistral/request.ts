/**
 * A unified (OpenAI-shaped) chat request as Mistral's chat completion request, on the wire
 * (snake_case), typed by the official SDK's own wire types (its `$Outbound` types: a misnamed
 * field does not compile). Written directly rather than through the SDK's zod schemas, which cost
 * 0.1-3 ms of CPU a request (bench/RESULTS.md); test/providers/mistral/chat.test.ts holds the
 * bodies equal to the SDK's.
 *
 * Mistral's wire format is close to OpenAI's, so most parameters are a table (PARAMS). What
 * differs is reshaped in code: `seed` is
 * `random_seed`, `tool_choice: required` is `any`, an allowed-tools choice becomes a narrowed tool
 * list, developer messages are system messages, tool call ids must be nine alphanumerics, and a
 * tool result may name its function.
 */
import type { ChatCompletionRequest$Outbound as ChatCompletionRequest } from '@mistralai/mistralai/models/components/chatcompletionrequest.js'
import type { ContentChunk$Outbound as ContentChunk } from '@mistralai/mistralai/models/components/contentchunk.js'
import type { Prediction$Outbound as Prediction } from '@mistralai/mistralai/models/components/prediction.js'
import type { ResponseFormat$Outbound as ResponseFormat } from '@mistralai/mistralai/models/components/responseformat.js'
import type { Tool$Outbound as Tool } from '@mistralai/mistralai/models/components/tool.js'
import type { ToolChoice$Outbound as ToolChoice } from '@mistralai/mistralai/models/components/toolchoice.js'
import type { ChatContentPart, ChatMessage, ChatRequest, ChatTool } from '../../../plugin-api/index.ts'
import { badRequest } from '../../../plugin-api/index.ts'
import type { ProviderCall } from '../../../plugin-api/index.ts'
import { toMistralToolCallId } from './tool-ids.ts'
import { thinkingOf } from '../../contracts/thinking.ts'

type MistralMessage = ChatCompletionRequest['messages'][number]
type MistralTool = Tool & { type: 'function' }

/** OpenAI parameters Mistral takes as they are, under its name. Later rules win. */
const PARAMS: ReadonlyArray<{ from: string; to: keyof ChatCompletionRequest }> = [
  { from: 'temperature', to: 'temperature' },
  { from: 'top_p', to: 'top_p' },
  { from: 'max_tokens', to: 'max_tokens' },
  { from: 'max_completion_tokens', to: 'max_tokens' },
  { from: 'stop', to: 'stop' },
  { from: 'seed', to: 'random_seed' },
  { from: 'n', to: 'n' },
  { from: 'presence_penalty', to: 'presence_penalty' },
  { from: 'frequency_penalty', to: 'frequency_penalty' },
  { from: 'parallel_tool_calls', to: 'parallel_tool_calls' },
  { from: 'metadata', to: 'metadata' },
  { from: 'prompt_cache_key', to: 'prompt_cache_key' },
]

/** OpenAI parameters Mistral cannot honour; `applies` says when a value asks for more than the default. */
const UNSUPPORTED: Readonly<Record<string, { reason: string; applies?: (value: unknown) => boolean }>> = {
  logit_bias: { reason: 'Mistral has no token biasing' },
  logprobs: { reason: 'Mistral returns no log probabilities', applies: (value) => value === true },
  top_logprobs: { reason: 'Mistral returns no log probabilities' },
  user: { reason: 'Mistral has no end-user field' },
  safety_identifier: { reason: 'Mistral has no end-user field' },
  store: { reason: 'Mistral does not store completions', applies: (value) => value === true },
  service_tier: { reason: 'Mistral has no such service tier', applies: (value) => value !== 'auto' && value !== 'default' },
  verbosity: { reason: 'Mistral has no verbosity control' },
  web_search_options: { reason: 'web search is a Mistral agent tool the unified API does not expose' },
  audio: { reason: 'Mistral chat has no audio output' },
  modalities: { reason: 'Mistral chat answers in text only', applies: (value) => Array.isArray(value) && value.some((m) => m !== 'text') },
  prompt_cache_retention: { reason: 'Mistral has no cache retention setting' },
  functions: { reason: 'the deprecated `functions` are not translated: use `tools`' },
  function_call: { reason: 'the deprecated `function_call` is not translated: use `tool_choice`' },
}

const REASONING_EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh'])

const present = (value: unknown): boolean => value !== undefined && value !== null

/** `stream` is written as the SDK writes it: `false` unless the request streams. */
export function toMistralRequest(req: ChatRequest, call: ProviderCall, defaults: { safePrompt: boolean }): ChatCompletionRequest {
  const fields = req as unknown as Readonly<Record<string, unknown>>
  const request: ChatCompletionRequest = { model: req.model, stream: req.stream === true, messages: translateMessages(req.messages, call) }
  const target = request as Record<string, unknown>
  for (const { from, to } of PARAMS) {
    const value = fields[from]
    if (present(value)) target[to] = value
  }
  for (const [param, { reason, applies }] of Object.entries(UNSUPPORTED)) {
    const value = fields[param]
    if (present(value) && (applies?.(value) ?? true)) call.unsupported(param, reason)
  }
  if (req.service_tier === 'auto') request.service_tier = 'auto'
  if (present(req.reasoning_effort)) {
    if (REASONING_EFFORTS.has(req.reasoning_effort!)) request.reasoning_effort = req.reasoning_effort
    else call.unsupported('reasoning_effort', `Mistral has no '${req.reasoning_effort}' reasoning effort`)
  } else {
    // An Anthropic client's thinking, as the effort Mistral's reasoning models take.
    const thinking = thinkingOf(req)
    if (thinking) request.reasoning_effort = thinking
  }
  if (req.prediction) request.prediction = prediction(req.prediction)
  const responseFormat = translateResponseFormat(req.response_format)
  if (responseFormat) request.response_format = responseFormat
  applyTools(req, request, call)
  // `safe_prompt` is Mistral's own: an OpenAI client may still send it as an extra field.
  const safePrompt = typeof fields.safe_prompt === 'boolean' ? fields.safe_prompt : defaults.safePrompt
  if (safePrompt) request.safe_prompt = true
  return request
}

function prediction(value: NonNullable<ChatRequest['prediction']>): Prediction {
  const content = typeof value.content === 'string' ? value.content : value.content.map((part) => part.text).join('')
  return { type: 'content', content }
}

function translateResponseFormat(format: ChatRequest['response_format']): ResponseFormat | undefined {
  if (!format || format.type === 'text') return undefined
  if (format.type === 'json_object') return { type: 'json_object' }
  const { name, description, schema, strict } = format.json_schema
  return { type: 'json_schema', json_schema: { name, ...(description !== undefined ? { description } : {}), schema: schema ?? {}, ...(strict !== undefined && strict !== null ? { strict } : {}) } }
}

/** Tools and tool_choice. OpenAI's allowed-tools choice has no Mistral form: the tool list itself is narrowed. */
function applyTools(req: ChatRequest, request: ChatCompletionRequest, call: ProviderCall): void {
  const choice = req.tool_choice
  let allowed: Set<string> | undefined
  if (choice && typeof choice === 'object' && choice.type === 'allowed_tools') {
    allowed = new Set(choice.allowed_tools.tools.map((tool) => (tool as { function?: { name?: unknown } }).function?.name).filter((name): name is string => typeof name === 'string'))
    request.tool_choice = choice.allowed_tools.mode === 'required' ? 'any' : 'auto'
  } else if (choice) {
    const translated = translateToolChoice(choice, call)
    if (translated) request.tool_choice = translated
  }
  if (!req.tools?.length) return
  const tools: MistralTool[] = []
  req.tools.forEach((tool, i) => {
    const translated = translateTool(tool, `tools[${i}]`, call)
    if (translated && (!allowed || allowed.has(translated.function.name))) tools.push(translated)
  })
  if (tools.length) request.tools = tools
}

function translateTool(tool: ChatTool, param: string, call: ProviderCall): MistralTool | undefined {
  if (tool.type !== 'function') {
    call.unsupported(param, `Mistral has no '${tool.type}' tools`)
    return undefined
  }
  const { name, description, parameters, strict } = tool.function
  return {
    type: 'function',
    function: {
      name,
      ...(description !== undefined ? { description } : {}),
      // Mistral requires a parameters schema; a function without arguments takes an empty object.
      parameters: parameters ?? { type: 'object', properties: {} },
      ...(strict !== undefined && strict !== null ? { strict } : {}),
    },
  }
}

function translateToolChoice(choice: NonNullable<ChatRequest['tool_choice']>, call: ProviderCall): ToolChoice | 'any' | 'auto' | 'none' | undefined {
  if (choice === 'required') return 'any'
  if (choice === 'none' || choice === 'auto') return choice
  if (typeof choice === 'object' && choice.type === 'function') return { type: 'function', function: { name: choice.function.name } }
  call.unsupported('tool_choice', `Mistral has no '${typeof choice === 'object' ? choice.type : choice}' tool choice`)
  return undefined
}

// ---------------------------------------------------------------------------------------------
// messages

function translateMessages(messages: ChatMessage[], call: ProviderCall): MistralMessage[] {
  /** Function names by (Mistral) tool call id, so a tool result can name its function. */
  const functionNames = new Map<string, string>()
  let namesReported = false
  return messages.map((message, i): MistralMessage => {
    const param = `messages[${i}]`
    if ('name' in message && message.name && message.role !== 'function' && !namesReported) {
      namesReported = true
      call.unsupported(`${param}.name`, 'Mistral has no participant names')
    }
    switch (message.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: joinText(message.content) }
      case 'user':
        return { role: 'user', content: typeof message.content === 'string' ? message.content : userChunks(message.content, `${param}.content`, call) }
      case 'assistant': {
        if (message.audio) call.unsupported(`${param}.audio`, 'Mistral cannot be sent earlier audio answers')
        const toolCalls = (message.tool_calls ?? []).flatMap((toolCall, j) => {
          if (toolCall.type !== 'function') {
            call.unsupported(`${param}.tool_calls[${j}]`, `Mistral has no '${toolCall.type}' tool calls`)
            return []
          }
          const id = toMistralToolCallId(toolCall.id)
          functionNames.set(id, toolCall.function.name)
          return [{ id, type: 'function', function: { name: toolCall.function.name, arguments: toolCall.function.arguments }, index: j }]
        })
        const content = message.content === null || message.content === undefined ? null : joinText(message.content)
        return { role: 'assistant', content, ...(toolCalls.length ? { tool_calls: toolCalls } : {}), prefix: false }
      }
      case 'tool': {
        const id = toMistralToolCallId(message.tool_call_id)
        const name = functionNames.get(id)
        return { role: 'tool', content: joinText(message.content), tool_call_id: id, ...(name ? { name } : {}) }
      }
      default:
        throw badRequest(`${param}.role '${message.role}' is not supported for Mistral: use 'tool' messages for tool results.`, `${param}.role`, 'invalid_messages')
    }
  })
}

function joinText(content: string | ReadonlyArray<{ type: string; text?: string; refusal?: string }>): string {
  if (typeof content === 'string') return content
  return content.map((part) => (part.type === 'refusal' ? part.refusal : part.text) ?? '').join('')
}

function userChunks(content: readonly ChatContentPart[], param: string, call: ProviderCall): ContentChunk[] {
  const chunks: ContentChunk[] = []
  content.forEach((part, j) => {
    const at = `${param}[${j}]`
    switch (part.type) {
      case 'text':
        chunks.push({ type: 'text', text: part.text })
        break
      case 'image_url': {
        // Mistral fetches http(s) URLs and reads base64 data URLs, as OpenAI does.
        const { url, detail } = part.image_url
        chunks.push({ type: 'image_url', image_url: { url, ...(detail ? { detail } : {}) } })
        break
      }
      case 'input_audio':
        chunks.push({ type: 'input_audio', input_audio: part.input_audio.data })
        break
      default:
        call.unsupported(at, `Mistral chat takes no '${part.type}' content parts`)
    }
  })
  return chunks
}
