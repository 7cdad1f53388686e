/**
 * A unified (OpenAI-shaped) chat request as the body of Gemini's generateContent, as the REST API
 * takes it (the SDK's types are its wire types; what @google/genai would add or move is done here:
 * the generation parameters under `generationConfig`, the rest at the top).
 *
 * Scalar parameters are a table (PARAMS, UNSUPPORTED); messages, tools and the output format are
 * reshaped in code, because Gemini's shapes differ: the system prompt travels apart from the
 * history (`systemInstruction`), the assistant is the `model` role, a tool result is a
 * `functionResponse` part that must name its function, and same-role turns are merged.
 */
import type {
  Content, FunctionCallingConfigMode, FunctionDeclaration, GenerationConfig, Part, ThinkingConfig, ThinkingLevel, Tool, ToolConfig,
} from '@google/genai'
import type { ChatContentPart, ChatMessage, ChatRequest } from '../../../plugin-api/index.ts'
import { badRequest } from '../../../plugin-api/index.ts'
import type { ProviderCall } from '../../../plugin-api/index.ts'
import { audioPart, filePart, imagePart } from './media.ts'
import { sdkEnum } from './sdk-enum.ts'
import { callRefOf } from './tool-ids.ts'
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../../../plugin-api/index.ts'
import { EFFORT_BUDGET, thinkingAskOf, type Reasoning } from '../../contracts/thinking.ts'

/** generateContent's request body. */
export interface GeminiRequestBody {
  contents: Content[]
  systemInstruction?: Content
  tools?: Tool[]
  toolConfig?: ToolConfig
  generationConfig: GenerationConfig
}

/** OpenAI parameters that map one-to-one onto the generation config (later rules win). */
const PARAMS: ReadonlyArray<{ from: string; to: keyof GenerationConfig; convert?: (value: unknown) => unknown }> = [
  { from: 'temperature', to: 'temperature' },
  { from: 'top_p', to: 'topP' },
  { from: 'max_tokens', to: 'maxOutputTokens' },
  { from: 'max_completion_tokens', to: 'maxOutputTokens' },
  { from: 'stop', to: 'stopSequences', convert: (value) => (typeof value === 'string' ? [value] : value) },
  { from: 'seed', to: 'seed' },
  { from: 'n', to: 'candidateCount' },
  { from: 'presence_penalty', to: 'presencePenalty' },
  { from: 'frequency_penalty', to: 'frequencyPenalty' },
]

/** OpenAI parameters Gemini cannot honour; `applies` says when a value asks for more than the default. */
const UNSUPPORTED: Readonly<Record<string, { reason: string; applies?: (value: unknown) => boolean }>> = {
  logit_bias: { reason: 'Gemini has no token biasing' },
  logprobs: { reason: 'log probabilities are not translated for Gemini', applies: (value) => value === true },
  top_logprobs: { reason: 'log probabilities are not translated for Gemini' },
  user: { reason: 'Gemini has no end-user field' },
  safety_identifier: { reason: 'Gemini has no end-user field' },
  metadata: { reason: 'Gemini\'s generateContent takes no request metadata' },
  store: { reason: 'Gemini does not store completions', applies: (value) => value === true },
  prediction: { reason: 'Gemini has no predicted outputs' },
  service_tier: { reason: 'Gemini has no service tiers', applies: (value) => value !== 'auto' && value !== 'default' },
  verbosity: { reason: 'Gemini has no verbosity control' },
  web_search_options: { reason: 'web search is a Gemini tool (google_search) the unified API does not expose' },
  audio: { reason: 'audio output is not translated for Gemini' },
  modalities: { reason: 'only text output is translated for Gemini', applies: (value) => Array.isArray(value) && value.some((m) => m !== 'text') },
  prompt_cache_key: { reason: 'Gemini caches by explicit cachedContent, not by key' },
  prompt_cache_retention: { reason: 'Gemini caches by explicit cachedContent' },
  parallel_tool_calls: { reason: 'Gemini cannot be told to call one function at a time', applies: (value) => value === false },
  functions: { reason: 'the deprecated `functions` are not translated: use `tools`' },
  function_call: { reason: 'the deprecated `function_call` is not translated: use `tool_choice`' },
}

/**
 * How a Gemini model thinks on request, by its name (the catalog does not say): the 2.5 series by a
 * token budget (`thinkingBudget`), Gemini 3 and later (and an alias that names no version) by a level
 * (`thinkingLevel`); 1.x and 2.0 cannot.
 */
type ThinkingMode = 'budget' | 'level' | 'none'

function thinkingMode(model: string): ThinkingMode {
  if (/gemini-2\.5/.test(model)) return 'budget'
  return /gemini-(?:1\.|2\.0)|gemma/.test(model) ? 'none' : 'level'
}

/** The largest thinking budget a 2.5 model takes (Claude Code asks for 31,999): 32,768 on Pro, 24,576 on Flash. */
const mostThinking = (model: string): number => (/pro/.test(model) ? 32_768 : 24_576)

/** The least thinking budget Gemini 2.5 Pro takes: it cannot turn thinking off (a budget of 0 is a 400). */
const PRO_LEAST_THINKING = 128

/** OpenAI reasoning effort as a Gemini 3 thinking level. */
const LEVEL_BY_EFFORT: Readonly<Record<string, ThinkingConfig>> = {
  minimal: { thinkingLevel: sdkEnum<ThinkingLevel>('MINIMAL') },
  low: { thinkingLevel: sdkEnum<ThinkingLevel>('LOW') },
  medium: { thinkingLevel: sdkEnum<ThinkingLevel>('MEDIUM') },
  high: { thinkingLevel: sdkEnum<ThinkingLevel>('HIGH') },
}

/**
 * Gemini 3 cannot turn thinking off (a zero budget is a 400 on Pro): `none` is its least level, `low` on
 * Pro (which has no `minimal`), `minimal` on Flash, as LiteLLM sends them; reported, as it still thinks.
 */
function leastLevel(model: string, param: string, call: ProviderCall): ThinkingConfig {
  const level = /pro/.test(model) ? 'low' : 'minimal'
  call.unsupported(param, `${model} cannot turn thinking off: sent its least thinking level, ${level}`)
  return LEVEL_BY_EFFORT[level]
}

/**
 * The thinking a request asks of `req.model`: an Anthropic client's budget (contracts/thinking.ts) as
 * itself on 2.5 (adaptive thinking as the dynamic budget, -1), as its effort's level on 3; `reasoning_effort` as a level on 3, on 2.5 as LiteLLM's
 * budget for it (low 1,024, medium 2,048, high 4,096). Asked-for thinking comes back (`includeThoughts`),
 * as the thought summaries the answer's `reasoning_content` carries.
 */
function thinkingConfig(req: ChatRequest, call: ProviderCall): ThinkingConfig | undefined {
  const ask = thinkingAskOf(req)
  const effort = req.reasoning_effort ?? ask?.effort
  if (effort === undefined || effort === null) return undefined
  const param = ask ? 'thinking' : 'reasoning_effort'
  const mode = thinkingMode(req.model)
  if (effort === 'none') {
    if (mode === 'none') return undefined
    if (mode === 'level') return leastLevel(req.model, param, call)
    if (!/pro/.test(req.model)) return { thinkingBudget: 0 }
    call.unsupported(param, `${req.model} cannot turn thinking off: sent its least budget, ${PRO_LEAST_THINKING}`)
    return { thinkingBudget: PRO_LEAST_THINKING }
  }
  if (mode === 'none') {
    call.unsupported(param, `${req.model} cannot think`)
    return undefined
  }
  // Adaptive thinking (no budget) is Gemini's dynamic budget, -1.
  const tokens = ask ? ask.budget ?? -1 : EFFORT_BUDGET[effort]
  const config = mode === 'level' ? LEVEL_BY_EFFORT[effort] : tokens === undefined ? undefined : { thinkingBudget: Math.min(tokens, mostThinking(req.model)) }
  if (!config) {
    call.unsupported(param, `Gemini has no '${effort}' thinking ${mode}`)
    return undefined
  }
  return { ...config, includeThoughts: true }
}

const present = (value: unknown): boolean => value !== undefined && value !== null

export function toGeminiRequest(req: ChatRequest, call: ProviderCall): GeminiRequestBody {
  const fields = req as unknown as Readonly<Record<string, unknown>>
  const config: GenerationConfig = {}
  const target = config as Record<string, unknown>
  for (const { from, to, convert } of PARAMS) {
    const value = fields[from]
    if (present(value)) target[to] = convert ? convert(value) : value
  }
  for (const [param, { reason, applies }] of Object.entries(UNSUPPORTED)) {
    const value = fields[param]
    if (present(value) && (applies?.(value) ?? true)) call.unsupported(param, reason)
  }
  const thinking = thinkingConfig(req, call)
  if (thinking) config.thinkingConfig = thinking
  applyResponseFormat(req, config)
  const tools = functionDeclarations(req, call)
  const toolConfig = functionCallingConfig(req, call)

  const { contents, system } = translateMessages(req.messages, call)
  if (contents.length === 0) throw badRequest('Gemini needs at least one user or assistant message besides the system prompt.', 'messages', 'invalid_messages')
  return {
    contents,
    ...(system.length ? { systemInstruction: { parts: system } } : {}),
    ...(tools ? { tools } : {}),
    ...(toolConfig ? { toolConfig } : {}),
    generationConfig: config,
  }
}

function applyResponseFormat(req: ChatRequest, config: GenerationConfig): void {
  const format = req.response_format
  if (!format || format.type === 'text') return
  config.responseMimeType = 'application/json'
  // `responseJsonSchema` takes JSON Schema as is (unlike `responseSchema`, an OpenAPI subset).
  if (format.type === 'json_schema' && format.json_schema.schema) config.responseJsonSchema = format.json_schema.schema
}

function functionDeclarations(req: ChatRequest, call: ProviderCall): Tool[] | undefined {
  if (!req.tools?.length) return undefined
  const declarations: FunctionDeclaration[] = []
  req.tools.forEach((tool, i) => {
    if (tool.type !== 'function') return call.unsupported(`tools[${i}]`, `Gemini has no '${tool.type}' tools`)
    const { name, description, parameters, strict } = tool.function
    if (strict) call.unsupported(`tools[${i}].function.strict`, 'Gemini does not promise strict schema adherence for function arguments')
    // `parametersJsonSchema` takes the JSON Schema OpenAI clients send, unconverted.
    declarations.push({ name, description, ...(parameters ? { parametersJsonSchema: parameters } : {}) })
  })
  return declarations.length ? [{ functionDeclarations: declarations }] : undefined
}

const MODE_BY_CHOICE: Readonly<Record<string, string>> = { none: 'NONE', auto: 'AUTO', required: 'ANY' }

function functionCallingConfig(req: ChatRequest, call: ProviderCall): ToolConfig | undefined {
  const choice = req.tool_choice
  if (!choice) return undefined
  const mode = (value: string) => sdkEnum<FunctionCallingConfigMode>(value)
  if (typeof choice === 'string') return { functionCallingConfig: { mode: mode(MODE_BY_CHOICE[choice] ?? 'AUTO') } }
  if (choice.type === 'function') return { functionCallingConfig: { mode: mode('ANY'), allowedFunctionNames: [choice.function.name] } }
  if (choice.type === 'allowed_tools') {
    const names = choice.allowed_tools.tools
      .map((tool) => (tool as { function?: { name?: unknown } }).function?.name)
      .filter((name): name is string => typeof name === 'string')
    // VALIDATED: the model may answer in text or call one of the named functions; ANY: it must call one.
    return { functionCallingConfig: { mode: mode(choice.allowed_tools.mode === 'required' ? 'ANY' : 'VALIDATED'), allowedFunctionNames: names } }
  }
  call.unsupported('tool_choice', `Gemini has no '${choice.type}' tool choice`)
  return undefined
}

// ---------------------------------------------------------------------------------------------
// messages

type AssistantMessage = Extract<ChatMessage, { role: 'assistant' }>
type ToolMessage = Extract<ChatMessage, { role: 'tool' }>

function translateMessages(messages: ChatMessage[], call: ProviderCall): { contents: Content[]; system: Part[] } {
  const system: Part[] = []
  const contents: Content[] = []
  /** Function names by tool call id: a Gemini function response must name its function. */
  const functionNames = new Map<string, string>()
  let namesReported = false
  const append = (role: 'user' | 'model', parts: Part[]): void => {
    if (parts.length === 0) return
    const last = contents.at(-1)
    if (last?.role === role) last.parts!.push(...parts)
    else contents.push({ role, parts })
  }
  messages.forEach((message, i) => {
    const param = `messages[${i}]`
    switch (message.role) {
      case 'system':
      case 'developer':
        // Gemini has one system instruction, apart from the turns: every system message joins it.
        system.push(...textParts(message.content))
        break
      case 'user':
        append('user', typeof message.content === 'string' ? textParts(message.content) : userParts(message.content, `${param}.content`, call))
        break
      case 'assistant':
        append('model', assistantParts(message, param, functionNames, call))
        break
      case 'tool':
        append('user', [functionResponsePart(message, param, functionNames)])
        break
      default:
        throw badRequest(`${param}.role '${message.role}' is not supported for Gemini: use 'tool' messages for tool results.`, `${param}.role`, 'invalid_messages')
    }
    if ('name' in message && message.name && !namesReported) {
      namesReported = true
      call.unsupported(`${param}.name`, 'Gemini has no participant names')
    }
  })
  return { contents, system }
}

function textParts(content: string | ReadonlyArray<{ type: string; text?: string; refusal?: string }> | null | undefined): Part[] {
  if (typeof content === 'string') return content ? [{ text: content }] : []
  const parts: Part[] = []
  for (const part of content ?? []) {
    const text = part.type === 'refusal' ? part.refusal : part.text
    if (text) parts.push({ text })
  }
  return parts
}

function userParts(content: readonly ChatContentPart[], param: string, call: ProviderCall): Part[] {
  const parts: Part[] = []
  content.forEach((part, j) => {
    const at = `${param}[${j}]`
    let translated: Part | undefined
    switch (part.type) {
      case 'text': translated = part.text ? { text: part.text } : undefined; break
      case 'image_url': translated = imagePart(part, at, call); break
      case 'input_audio': translated = audioPart(part); break
      case 'file': translated = filePart(part, at, call); break
      default: call.unsupported(at, `Gemini has no '${(part as { type: string }).type}' content parts`)
    }
    if (translated) parts.push(translated)
  })
  return parts
}

function assistantParts(message: AssistantMessage, param: string, functionNames: Map<string, string>, call: ProviderCall): Part[] {
  const parts = textParts(message.content)
  // The text's thought signature back on its (last) part, as Gemini recommends; only Gemini's own (a Claude block is not).
  const signed = (message as Reasoning).thinking_blocks?.filter((b) => b.type === 'thinking' && b.origin === 'gemini').at(-1)
  const last = parts.at(-1)
  if (signed?.type === 'thinking' && last) parts[parts.length - 1] = { ...last, thoughtSignature: signed.signature }
  if (message.audio) call.unsupported(`${param}.audio`, 'Gemini cannot be sent earlier audio answers')
  message.tool_calls?.forEach((toolCall, j) => {
    const at = `${param}.tool_calls[${j}]`
    if (toolCall.type !== 'function') return call.unsupported(at, `Gemini has no '${toolCall.type}' tool calls`)
    functionNames.set(toolCall.id, toolCall.function.name)
    const { id, thoughtSignature } = callRefOf(toolCall.id)
    const args = parseArguments(toolCall.function.arguments, `${at}.function.arguments`)
    parts.push({ functionCall: { name: toolCall.function.name, args, ...(id ? { id } : {}) }, ...(thoughtSignature ? { thoughtSignature } : {}) })
  })
  return parts
}

/** Gemini takes arguments as a JSON object, not OpenAI's JSON text. */
function parseArguments(text: string, param: string): Record<string, unknown> {
  if (!text.trim()) return {}
  if (jsonDepthExceeds(text)) throw badRequest(`${param} nests more than ${MAX_JSON_DEPTH} levels deep.`, param, 'invalid_tool_arguments')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw badRequest(`${param} is not valid JSON.`, param, 'invalid_tool_arguments')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(`${param} must be a JSON object.`, param, 'invalid_tool_arguments')
  return value as Record<string, unknown>
}

function functionResponsePart(message: ToolMessage, param: string, functionNames: Map<string, string>): Part {
  const name = functionNames.get(message.tool_call_id)
  if (!name) {
    throw badRequest(
      `${param}.tool_call_id '${message.tool_call_id}' matches no tool call of an earlier assistant message; Gemini needs the function's name.`,
      `${param}.tool_call_id`, 'invalid_tool_call_id',
    )
  }
  const text = typeof message.content === 'string' ? message.content : message.content.map((part) => part.text).join('')
  const { id } = callRefOf(message.tool_call_id)
  // Gemini wants an object; the result goes under `output`, structured when it is a JSON object or array.
  return { functionResponse: { name, response: { output: structuredOrText(text) }, ...(id ? { id } : {}) } }
}

function structuredOrText(text: string): unknown {
  const first = text.trimStart()[0]
  // Too deep to be sent as structure (the SDK's serialiser would overflow): sent as the text it is.
  if ((first !== '{' && first !== '[') || jsonDepthExceeds(text)) return text
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
