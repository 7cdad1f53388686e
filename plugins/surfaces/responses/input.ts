/**
 * The Responses API's request fields in the shape a turn takes: input items (a string, messages
 * with text, image and file parts, function calls and their outputs, reasoning items sent back), tools (function tools become chat tools,
 * others are server tools the gateway runs), tool_choice, text.format and .verbosity, and reasoning.effort. Anything the gateway cannot carry
 * out is a 400 naming the field, never dropped silently.
 */
import { badRequest, notFound, type Caller, type ChatRequest, type ChatTool } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import { partText, type ContentPart, type ItemContent, type TextPart, type TurnInput } from '../../contracts/conversations.ts'
import type { Files } from '../../contracts/files.ts'
import { checkLength } from '../../contracts/request-check.ts'
import type { Include } from './include.ts'

type Raw = Record<string, unknown>
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v)

function textOf(content: unknown, param: string, role: string): TextPart[] {
  return contentOf(content, param, role, false) as TextPart[]
}

const DETAILS = new Set(['auto', 'low', 'high'])

/** A message's content: text parts, and in a user's message images and documents (a URL, a `data:` URL or an uploaded file's id). */
function contentOf(content: unknown, param: string, role: string, media = role === 'user'): ContentPart[] {
  const partType = role === 'assistant' ? 'output_text' : 'input_text'
  if (typeof content === 'string') return [{ type: partType, text: content }]
  if (!Array.isArray(content)) throw badRequest('`content` must be a string or a list of content parts.', param, 'invalid_content')
  return content.map((part, i): ContentPart => {
    const at = `${param}[${i}]`
    if (!isObject(part) || typeof part.type !== 'string') throw badRequest('A content part must be an object with a `type`.', at, 'invalid_content')
    if (part.type === 'input_text' || part.type === 'output_text' || part.type === 'text') {
      if (typeof part.text !== 'string') throw badRequest(`A ${part.type} part needs its \`text\` (a string).`, `${at}.text`, 'invalid_content')
      return { type: partType, text: part.text }
    }
    if (media && part.type === 'input_image') {
      const url = typeof part.image_url === 'string' ? part.image_url : undefined
      const fileId = typeof part.file_id === 'string' && part.file_id ? part.file_id : undefined
      if (!url === !fileId) throw badRequest('An input_image needs `image_url` (http(s) or a data: URL) or `file_id`, one of them.', at, 'invalid_content')
      if (url && !/^(https?:\/\/|data:image\/)/i.test(url)) throw badRequest('`image_url` must be an http(s) URL or a data:image/... URL.', `${at}.image_url`, 'invalid_image_url')
      const detail = part.detail ?? 'auto'
      if (typeof detail !== 'string' || !DETAILS.has(detail)) throw badRequest('`detail` must be auto, low or high.', `${at}.detail`, 'invalid_content')
      return { type: 'input_image', ...(url ? { image_url: url } : { file_id: fileId }), detail: detail as 'auto' | 'low' | 'high' }
    }
    if (media && part.type === 'input_file') {
      if (part.file_url !== undefined && part.file_url !== null) throw badRequest('Files by URL (`file_url`) are not supported by this gateway: send `file_data` (a data: URL) or an uploaded `file_id`.', `${at}.file_url`, 'unsupported_parameter')
      const data = typeof part.file_data === 'string' ? part.file_data : undefined
      const fileId = typeof part.file_id === 'string' && part.file_id ? part.file_id : undefined
      if (!data === !fileId) throw badRequest('An input_file needs `file_data` (a data: URL) or `file_id`, one of them.', at, 'invalid_content')
      if (data && !data.startsWith('data:')) throw badRequest('`file_data` must be a data: URL (data:application/pdf;base64,...).', `${at}.file_data`, 'invalid_content')
      const filename = typeof part.filename === 'string' && part.filename ? part.filename : undefined
      return { type: 'input_file', ...(data ? { file_data: data } : { file_id: fileId }), ...(filename ? { filename } : {}) }
    }
    const where = media ? 'text, input_image and input_file' : 'text only'
    throw badRequest(`Content parts of type '${part.type}' are not supported here by this gateway's Responses API (${where}).`, `${at}.type`, 'unsupported_content')
  })
}

/** Every uploaded file `items` name, checked: it exists and `caller` may read it (else a 404 naming where it is named). */
export async function checkFileParts(items: readonly ItemContent[], param: string, caller: Caller, files: Files | undefined): Promise<void> {
  for (const [i, item] of items.entries()) {
    if (item.type !== 'message') continue
    for (const [j, part] of item.content.entries()) {
      const id = (part.type === 'input_image' || part.type === 'input_file') ? part.file_id : undefined
      if (!id) continue
      const file = files ? await files.get(id) : undefined
      if (!file || !caller.reaches(file)) throw notFound(`No file with id '${id}'.`, 'file_not_found', `${param}[${i}].content[${j}].file_id`)
    }
  }
}

/** The client's `input` (or a conversation's `items`) as item contents. */
export function inputItems(input: unknown, param: string, maxChars: number): ItemContent[] {
  const list = typeof input === 'string' ? [{ role: 'user', content: input }] : input
  if (!Array.isArray(list)) throw badRequest('`input` must be a string or a list of items.', param, 'invalid_input')
  const items = list.map((raw, i): ItemContent => {
    const at = `${param}[${i}]`
    if (!isObject(raw)) throw badRequest('An item must be an object.', at, 'invalid_input')
    const type = raw.type ?? 'message'
    if (type === 'message') {
      const role = raw.role
      if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') throw badRequest('`role` must be user, assistant, system or developer.', `${at}.role`, 'invalid_role')
      // OpenAI's content list holds "one or many" parts: a message with none says nothing to the model.
      if (Array.isArray(raw.content)) checkLength(raw.content, `${at}.content`, 1)
      return { type: 'message', role, content: contentOf(raw.content, `${at}.content`, role) }
    }
    if (type === 'function_call') {
      if (typeof raw.call_id !== 'string' || typeof raw.name !== 'string' || typeof raw.arguments !== 'string') throw badRequest('A function_call needs `call_id`, `name` and `arguments` (strings).', at, 'invalid_input')
      return { type: 'function_call', call_id: raw.call_id, name: raw.name, arguments: raw.arguments }
    }
    if (type === 'function_call_output') {
      if (typeof raw.call_id !== 'string' || raw.call_id === '') throw badRequest('A function_call_output needs its `call_id`.', `${at}.call_id`, 'invalid_input')
      const output = typeof raw.output === 'string' ? raw.output : Array.isArray(raw.output) ? textOf(raw.output, `${at}.output`, 'user').map((p) => p.text).join('\n') : undefined
      if (output === undefined) throw badRequest('`output` must be a string.', `${at}.output`, 'invalid_input')
      return { type: 'function_call_output', call_id: raw.call_id, output }
    }
    if (type === 'file_search_call') {
      // An earlier response's output sent back (`input: [...response.output, next]`): kept, not sent to the model again.
      if (!Array.isArray(raw.queries) || !raw.queries.every((q) => typeof q === 'string')) throw badRequest('A file_search_call needs its `queries` (strings).', `${at}.queries`, 'invalid_input')
      return { type: 'file_search_call', queries: raw.queries as string[], results: Array.isArray(raw.results) ? (raw.results as JsonObject[]) : null }
    }
    if (type === 'reasoning') return reasoningInput(raw, at)
    throw badRequest(`Items of type '${String(type)}' are not supported by this gateway.`, `${at}.type`, 'unsupported_item')
  })
  const chars = items.reduce((n, item) => n + (item.type === 'message' ? item.content.reduce((m, p) => m + partText(p).length, 0) : item.type === 'function_call' ? item.arguments.length : item.type === 'function_call_output' ? item.output.length : 0), 0)
  if (chars > maxChars) throw badRequest(`The input is longer than ${maxChars} characters.`, param, 'message_too_long')
  return items
}

/**
 * An earlier response's reasoning item sent back: its summary, its `content` (the raw reasoning text,
 * what a later turn replays as the thinking), and its `encrypted_content` (the signed thinking this
 * gateway sealed, replayed to the model that made it; another service's is kept, not read).
 */
function reasoningInput(raw: Raw, at: string): ItemContent {
  if (!Array.isArray(raw.summary)) throw badRequest('A reasoning item needs its `summary` (a list of summary_text parts).', `${at}.summary`, 'invalid_input')
  const summary = textParts(raw.summary, 'summary_text', `${at}.summary`)
  if (raw.content !== undefined && raw.content !== null && !Array.isArray(raw.content)) throw badRequest('A reasoning item\'s `content` must be a list of reasoning_text parts.', `${at}.content`, 'invalid_input')
  const content = Array.isArray(raw.content) ? textParts(raw.content, 'reasoning_text', `${at}.content`) : []
  const sealed = raw.encrypted_content
  if (sealed !== undefined && sealed !== null && typeof sealed !== 'string') throw badRequest('`encrypted_content` must be a string.', `${at}.encrypted_content`, 'invalid_input')
  return { type: 'reasoning', summary, ...(content.length ? { content } : {}), ...(sealed ? { encrypted_content: sealed } : {}) }
}

/** A reasoning item's summary or content parts, each `{ type, text }`. */
function textParts<T extends 'summary_text' | 'reasoning_text'>(parts: unknown[], type: T, at: string): { type: T; text: string }[] {
  return parts.map((part, j) => {
    if (!isObject(part) || part.type !== type || typeof part.text !== 'string') throw badRequest(`A part here must be { type: ${type}, text }.`, `${at}[${j}]`, 'invalid_input')
    return { type, text: part.text }
  })
}

/** Function tools as chat tools; any other type is a server tool's declaration. */
export function splitTools(tools: unknown): { functions: ChatTool[]; server: JsonObject[] } {
  if (tools === undefined || tools === null) return { functions: [], server: [] }
  if (!Array.isArray(tools)) throw badRequest('`tools` must be a list.', 'tools', 'invalid_tools')
  const functions: ChatTool[] = []
  const server: JsonObject[] = []
  tools.forEach((tool, i) => {
    if (!isObject(tool) || typeof tool.type !== 'string') throw badRequest('A tool must be an object with a `type`.', `tools[${i}]`, 'invalid_tools')
    if (tool.type !== 'function') { server.push(tool); return }
    if (typeof tool.name !== 'string' || tool.name === '') throw badRequest('A function tool needs a `name`.', `tools[${i}].name`, 'invalid_tools')
    functions.push({
      type: 'function',
      function: {
        name: tool.name,
        ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
        ...(isObject(tool.parameters) ? { parameters: tool.parameters } : {}),
        ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
      },
    })
  })
  return { functions, server }
}

/**
 * `tool_choice` in the chat shape. Choosing a server tool (`{ type: file_search }`, one of `tools`)
 * asks for what the gateway does anyway, run it before the model: the model then answers freely.
 */
export function chatToolChoice(choice: unknown, serverTools: readonly JsonObject[] = []): unknown {
  if (choice === undefined || choice === null) return undefined
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice
  if (isObject(choice) && choice.type === 'function' && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } }
  if (isObject(choice) && typeof choice.type === 'string' && choice.type !== 'function' && choice.type !== 'allowed_tools') {
    if (serverTools.some((t) => t.type === choice.type)) return undefined
    throw badRequest(`\`tool_choice\` names the tool type '${choice.type}', which is not among \`tools\`.`, 'tool_choice', 'invalid_tool_choice')
  }
  throw badRequest('`tool_choice` must be auto, none, required, { type: function, name }, { type: allowed_tools, mode, tools } or the type of a tool in `tools` (file_search).', 'tool_choice', 'invalid_tool_choice')
}

const functionName = (tool: ChatTool): string | undefined => (tool.type === 'function' ? tool.function.name : undefined)

/**
 * `tool_choice: { type: allowed_tools, mode, tools }`: the model may call only the listed tools
 * (each one of `tools`), as it likes (`auto`) or at least one (`required`). Carried out by offering
 * it only those; a server tool listed runs as it does anyway. Undefined for any other tool_choice.
 */
function allowedTools(choice: unknown, functions: readonly ChatTool[], server: readonly JsonObject[]): { functions: ChatTool[]; server: JsonObject[]; toolChoice: 'auto' | 'required' | undefined } | undefined {
  if (!isObject(choice) || choice.type !== 'allowed_tools') return undefined
  if (choice.mode !== 'auto' && choice.mode !== 'required') throw badRequest('`tool_choice.mode` must be auto or required.', 'tool_choice.mode', 'invalid_tool_choice')
  if (!Array.isArray(choice.tools) || choice.tools.length === 0) throw badRequest('`tool_choice.tools` must list at least one of `tools`.', 'tool_choice.tools', 'invalid_tool_choice')
  const names = new Set<string>()
  const types = new Set<string>()
  choice.tools.forEach((tool, i) => {
    const at = `tool_choice.tools[${i}]`
    if (!isObject(tool) || typeof tool.type !== 'string') throw badRequest('An allowed tool must be an object with a `type`.', at, 'invalid_tool_choice')
    if (tool.type !== 'function') {
      if (!server.some((s) => s.type === tool.type)) throw badRequest(`\`${at}\` names the tool type '${tool.type}', which is not among \`tools\`.`, `${at}.type`, 'invalid_tool_choice')
      types.add(tool.type)
    } else if (typeof tool.name !== 'string' || !functions.some((f) => functionName(f) === tool.name)) {
      throw badRequest(`\`${at}\` names the function ${JSON.stringify(tool.name)}, which is not among \`tools\`.`, `${at}.name`, 'invalid_tool_choice')
    } else {
      names.add(tool.name)
    }
  })
  const allowed = functions.filter((f) => names.has(functionName(f) ?? ''))
  // With only server tools allowed, `required` is met by running them (as `{ type: file_search }` is).
  return { functions: allowed, server: server.filter((s) => types.has(s.type as string)), toolChoice: allowed.length ? choice.mode : undefined }
}

/** The tools a request offers the model (`allowed_tools` narrows them), and its tool_choice in the chat shape. */
export function offeredTools(tools: unknown, choice: unknown): { functions: ChatTool[]; server: JsonObject[]; toolChoice: unknown } {
  const declared = splitTools(tools)
  return allowedTools(choice, declared.functions, declared.server) ?? { ...declared, toolChoice: chatToolChoice(choice, declared.server) }
}

type ResponseFormat = ChatRequest['response_format']

/**
 * `text.format` as the chat `response_format`: `text` (or none) is the default, `json_object` and
 * `json_schema` (with its `name` and `schema`) ask for structured output; a name that breaks
 * OpenAI's pattern or a missing schema is a 400 naming the field, as OpenAI answers it.
 */
export function chatResponseFormat(text: unknown): ResponseFormat | undefined {
  if (text === undefined || text === null) return undefined
  if (!isObject(text)) throw badRequest('`text` must be an object.', 'text', 'invalid_value')
  const unknown = Object.keys(text).find((key) => key !== 'format' && key !== 'verbosity')
  if (unknown !== undefined) throw badRequest(`Unknown parameter: 'text.${unknown}'.`, `text.${unknown}`, 'unknown_parameter')
  const format = text.format
  if (format === undefined || format === null) return undefined
  if (!isObject(format)) throw badRequest('`text.format` must be an object with a `type`.', 'text.format', 'invalid_value')
  if (format.type === 'text') return undefined
  if (format.type === 'json_object') return { type: 'json_object' }
  if (format.type !== 'json_schema') throw badRequest('`text.format.type` must be text, json_object or json_schema.', 'text.format.type', 'invalid_value')
  if (typeof format.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(format.name)) {
    throw badRequest('`text.format.name` must be 1 to 64 letters, digits, underscores or dashes.', 'text.format.name', 'invalid_value')
  }
  if (!isObject(format.schema)) throw badRequest('`text.format.schema` must be a JSON Schema object.', 'text.format.schema', 'invalid_value')
  return {
    type: 'json_schema',
    json_schema: {
      name: format.name,
      schema: format.schema,
      ...(typeof format.description === 'string' ? { description: format.description } : {}),
      ...(typeof format.strict === 'boolean' ? { strict: format.strict } : {}),
    },
  }
}

const VERBOSITIES = new Set(['low', 'medium', 'high'])

/** `text.verbosity` as the chat `verbosity` (a provider without the control refuses or drops it as on /v1/chat/completions). */
export function textVerbosity(text: unknown): 'low' | 'medium' | 'high' | undefined {
  const verbosity = isObject(text) ? text.verbosity : undefined
  if (verbosity === undefined || verbosity === null) return undefined
  if (typeof verbosity !== 'string' || !VERBOSITIES.has(verbosity)) throw badRequest('`text.verbosity` must be low, medium or high.', 'text.verbosity', 'invalid_value')
  return verbosity as 'low' | 'medium' | 'high'
}

const REASONING_EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh'])

const REASONING_SUMMARIES = new Set(['auto', 'concise', 'detailed'])

/**
 * The summary of its thinking the client asks for: `reasoning.summary`, or the deprecated
 * `reasoning.generate_summary` (OpenAI's older name, the same values); undefined when it asks for none.
 */
export function reasoningSummary(reasoning: unknown): TurnInput['reasoningSummary'] {
  if (!isObject(reasoning)) return undefined
  for (const key of ['summary', 'generate_summary'] as const) {
    const value = reasoning[key]
    if (value === undefined || value === null) continue
    if (typeof value !== 'string' || !REASONING_SUMMARIES.has(value)) throw badRequest(`\`reasoning.${key}\` must be auto, concise or detailed.`, `reasoning.${key}`, 'invalid_value')
    return value as TurnInput['reasoningSummary']
  }
  return undefined
}

/** `reasoning.effort` as the chat `reasoning_effort` (the provider refuses what its model cannot do). */
export function reasoningEffort(reasoning: unknown): ChatRequest['reasoning_effort'] | undefined {
  if (reasoning === undefined || reasoning === null) return undefined
  if (!isObject(reasoning)) throw badRequest('`reasoning` must be an object.', 'reasoning', 'invalid_value')
  const effort = reasoning.effort
  if (effort === undefined || effort === null) return undefined
  if (typeof effort !== 'string' || !REASONING_EFFORTS.has(effort)) throw badRequest('`reasoning.effort` must be none, minimal, low, medium, high or xhigh.', 'reasoning.effort', 'invalid_value')
  return effort as ChatRequest['reasoning_effort']
}

/** `include: ['message.output_text.logprobs']` or `top_logprobs` (0-20): the answer's tokens with their log probabilities. */
export function logprobsOf(include: Include, top: unknown): { top: number } | undefined {
  if (top !== undefined && top !== null && !(typeof top === 'number' && Number.isInteger(top) && top >= 0 && top <= 20)) {
    throw badRequest('`top_logprobs` must be a whole number from 0 to 20.', 'top_logprobs', 'invalid_value')
  }
  const alternatives = typeof top === 'number' ? top : 0
  const asked = include.has('message.output_text.logprobs') || alternatives > 0
  return asked ? { top: alternatives } : undefined
}
