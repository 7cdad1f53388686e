/**
 * The assistant form's state and its check: what a person types, turned into the API's body, with
 * each refusal said at its field (the same rules as the route's schema: name pattern, parameter
 * ranges, tool names, tool parameters a JSON object, the context window).
 */
import type { Assistant, AssistantInput, AssistantTool } from '@/api/types'
import { parseOptionalNumber } from '@/lib/numbers'

export const EVERY_DEPARTMENT = '__all__'
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/
/** The smallest context window the API takes. */
export const MIN_CONTEXT_TOKENS = 256

export type ContextStrategy = NonNullable<NonNullable<AssistantInput['context_policy']>['strategy']>

export interface ToolDraft {
  /** A key for the list while names are typed. */
  readonly key: number
  name: string
  description: string
  /** JSON Schema of the arguments, as typed. */
  parameters: string
}

export interface Draft {
  name: string
  description: string
  route: string
  instructions: string
  temperature: string
  top_p: string
  max_tokens: string
  dept_scope: string
  rag_collections: readonly string[]
  tools: readonly ToolDraft[]
  /** What happens to the oldest turns that no longer fit the window. */
  context_strategy: ContextStrategy
  /** A window lower than the model's, as typed; empty: the model's. */
  max_context_tokens: string
}

/** Where a refusal belongs: a field, or a tool's field (`tools.0.parameters`). */
export type Problems = Partial<Record<string, string>>

let toolKeys = 0
export const emptyTool = (): ToolDraft => ({ key: ++toolKeys, name: '', description: '', parameters: '{\n  "type": "object",\n  "properties": {}\n}' })

export function draftOf(a: Assistant | undefined, department: string | null): Draft {
  return {
    name: a?.name ?? '',
    description: a?.description ?? '',
    route: a?.route ?? '',
    instructions: a?.instructions ?? '',
    temperature: a?.params.temperature?.toString() ?? '',
    top_p: a?.params.top_p?.toString() ?? '',
    max_tokens: a?.params.max_tokens?.toString() ?? '',
    dept_scope: a ? a.dept_scope ?? EVERY_DEPARTMENT : department ?? EVERY_DEPARTMENT,
    rag_collections: a?.rag_collections ?? [],
    tools: (a?.tools ?? []).map((t) => ({
      key: ++toolKeys,
      name: t.function.name,
      description: t.function.description ?? '',
      parameters: t.function.parameters ? JSON.stringify(t.function.parameters, null, 2) : '',
    })),
    context_strategy: a?.context_policy.strategy ?? 'truncate',
    max_context_tokens: a?.context_policy.max_context_tokens?.toString() ?? '',
  }
}

/** A tool's parameters: empty, or a JSON object (a JSON Schema of type object). */
export function checkParameters(text: string): { value?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return { error: `Not valid JSON: ${(err as Error).message}` }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'A JSON object: the JSON Schema of the arguments.' }
  const type = (value as { type?: unknown }).type
  if (type !== undefined && type !== 'object') return { error: 'The arguments\' schema must have "type": "object".' }
  return { value: value as Record<string, unknown> }
}

function checkTools(tools: readonly ToolDraft[], problems: Problems): AssistantTool[] {
  const seen = new Set<string>()
  return tools.map((t, i) => {
    const name = t.name.trim()
    if (!TOOL_NAME.test(name)) problems[`tools.${i}.name`] = 'Letters, digits, _ and -, up to 64.'
    else if (seen.has(name)) problems[`tools.${i}.name`] = 'Another tool has this name.'
    seen.add(name)
    const parameters = checkParameters(t.parameters)
    if (parameters.error) problems[`tools.${i}.parameters`] = parameters.error
    return {
      type: 'function',
      function: { name, ...(t.description.trim() ? { description: t.description.trim() } : {}), ...(parameters.value ? { parameters: parameters.value } : {}) },
    }
  })
}

/** The body to send, or the problems by field. */
export function check(d: Draft): { input?: AssistantInput; problems: Problems } {
  const problems: Problems = {}
  if (!NAME.test(d.name.trim())) problems.name = 'Letters, digits, . _ and -, starting with a letter or digit (up to 64).'
  if (!d.route) problems.route = 'Choose the model it uses.'
  const params: Record<string, number> = {}
  const rules = { temperature: { min: 0, max: 2 }, top_p: { min: 0, max: 1 }, max_tokens: { min: 1, integer: true } } as const
  for (const key of ['temperature', 'top_p', 'max_tokens'] as const) {
    const read = parseOptionalNumber(d[key], rules[key])
    if (read.error) problems[key] = read.error
    else if (read.value !== undefined) params[key] = read.value
  }
  const window = parseOptionalNumber(d.max_context_tokens, { min: MIN_CONTEXT_TOKENS, integer: true })
  if (window.error) problems.max_context_tokens = window.error
  const tools = checkTools(d.tools, problems)
  if (Object.keys(problems).length) return { problems }
  return {
    problems,
    input: {
      name: d.name.trim(),
      description: d.description.trim() || null,
      route: d.route,
      instructions: d.instructions.trim() || null,
      params,
      dept_scope: d.dept_scope === EVERY_DEPARTMENT ? null : d.dept_scope,
      tools,
      rag_collections: [...d.rag_collections],
      // Sent whole, so an emptied window goes back to the model's.
      context_policy: { strategy: d.context_strategy, ...(window.value !== undefined ? { max_context_tokens: window.value } : {}) },
    },
  }
}
