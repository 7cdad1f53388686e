/**
 * Chat fine-tuning datasets: JSONL, one `{"messages": [...], "tools"?: [...]}` per line. Every
 * line is checked and every problem reported with its line number; a dataset with any problem
 * is refused whole. Valid ones get their stats: examples, tokens (a real tokenizer), the longest
 * example, and the training cost the catalog estimates for a base model.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { GatewayError, type ChatMessage, type ChatRequest, type Tokenizer } from '../../../plugin-api/index.ts'

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool'])
/** Reported problems are capped so a broken million-line file makes a readable answer. */
const MAX_REPORTED = 100

export interface LineError {
  readonly line: number
  readonly code: string
  readonly message: string
}

export interface DatasetStats {
  readonly examples: number
  readonly tokens: number
  readonly max_example_tokens: number
  /** The base model the estimate is for, or null. */
  readonly model: string | null
  readonly epochs: number
  /** Catalog price × tokens × epochs; null when the catalog has no training price for the model. */
  readonly estimated_cost_usd: number | null
}

interface TrainingEntry { readonly training?: number; readonly context_window?: number }
const CATALOG = (JSON.parse(readFileSync(fileURLToPath(new URL('../../../config/models.json', import.meta.url)), 'utf8')) as { models: Record<string, TrainingEntry> }).models

/** The catalog's training facts for a base model (dated versions match their family). */
export function trainingFacts(model: string | undefined): TrainingEntry | undefined {
  if (!model) return undefined
  const exact = CATALOG[model]
  if (exact) return exact
  const family = Object.keys(CATALOG).filter((name) => model.startsWith(`${name}-`)).sort((a, b) => b.length - a.length)[0]
  return family ? CATALOG[family] : undefined
}

/** The models the catalog prices training for. */
export const TRAINABLE_MODELS = Object.entries(CATALOG).filter(([, e]) => e.training !== undefined).map(([name]) => name)

function messageProblem(message: unknown, i: number): { code: string; message: string } | undefined {
  const at = `messages[${i}]`
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return { code: 'invalid_message', message: `${at} must be an object.` }
  const m = message as Record<string, unknown>
  if (m.role === undefined) return { code: 'missing_role', message: `${at} has no role.` }
  if (typeof m.role !== 'string' || !ROLES.has(m.role)) return { code: 'unknown_role', message: `${at} has the unknown role ${JSON.stringify(m.role)} (system, developer, user, assistant or tool).` }
  const hasToolCalls = m.role === 'assistant' && Array.isArray(m.tool_calls) && m.tool_calls.length > 0
  const content = m.content
  const empty = content === undefined || content === null || (typeof content === 'string' && content.trim() === '') || (Array.isArray(content) && content.length === 0)
  if (empty && !hasToolCalls) return { code: 'empty_content', message: `${at} (${m.role}) has no content.` }
  if (!empty && typeof content !== 'string' && !Array.isArray(content)) return { code: 'invalid_content', message: `${at} content must be a string or a list of parts.` }
  return undefined
}

/** The problems of one parsed line, or its chat request. */
function checkExample(value: unknown): { problems: { code: string; message: string }[]; request?: ChatRequest } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problems: [{ code: 'invalid_example', message: 'Each line must be a JSON object with `messages`.' }] }
  const example = value as Record<string, unknown>
  if (!Array.isArray(example.messages) || example.messages.length === 0) return { problems: [{ code: 'missing_messages', message: '`messages` must be a non-empty list.' }] }
  const problems = example.messages.map(messageProblem).filter((p): p is { code: string; message: string } => p !== undefined)
  if (example.tools !== undefined && !Array.isArray(example.tools)) problems.push({ code: 'invalid_tools', message: '`tools` must be a list.' })
  if (!example.messages.some((m) => (m as { role?: unknown })?.role === 'assistant')) problems.push({ code: 'no_assistant_message', message: 'The example has no assistant message to learn from.' })
  if (problems.length) return { problems }
  return { problems, request: { model: 'dataset', messages: example.messages as ChatMessage[], ...(example.tools ? { tools: example.tools as ChatRequest['tools'] } : {}) } }
}

export interface CheckOptions {
  readonly tokenizer: Tokenizer
  /** The base model: its context window bounds an example, its training price makes the estimate. */
  readonly model?: string
  /** The bound when the model is unknown. */
  readonly maxExampleTokens: number
  readonly epochs: number
}

/** What the check looked at, kept with a stored dataset. */
export interface DatasetValidation {
  readonly status: 'valid'
  /** Non-blank lines checked (each an example). */
  readonly lines: number
  readonly blank_lines: number
  /** The longest example allowed, in tokens (the base model's context window, or the configured bound). */
  readonly token_limit: number
}

export interface CheckedDataset {
  readonly stats: DatasetStats
  readonly validation: DatasetValidation
  /** The valid lines, in order (for a train/validation split). */
  readonly lines: readonly string[]
}

/** Check every line; throws a 400 `invalid_dataset` listing each problem with its line number. */
export async function checkDataset(data: Buffer, options: CheckOptions): Promise<CheckedDataset> {
  const facts = trainingFacts(options.model)
  const limit = facts?.context_window ?? options.maxExampleTokens
  const errors: LineError[] = []
  const lines: string[] = []
  let tokens = 0
  let longest = 0
  let blank = 0
  const text = data.toString('utf8')
  const raw = text.split(/\r?\n/)
  for (let i = 0; i < raw.length; i++) {
    const lineText = raw[i]
    if (lineText.trim() === '') {
      if (i < raw.length - 1) blank++ // not the newline ending the file
      continue
    }
    const line = i + 1
    let parsed: unknown
    try {
      parsed = JSON.parse(lineText)
    } catch (err) {
      errors.push({ line, code: 'invalid_json', message: `Not valid JSON: ${(err as Error).message}` })
      continue
    }
    const { problems, request } = checkExample(parsed)
    for (const p of problems) errors.push({ line, ...p })
    if (!request) continue
    const count = await options.tokenizer.countChat(request)
    if (count > limit) {
      errors.push({ line, code: 'example_too_long', message: `The example has ${count} tokens; ${options.model ? `${options.model} takes` : 'examples may have'} at most ${limit}.` })
      continue
    }
    tokens += count
    longest = Math.max(longest, count)
    lines.push(lineText)
  }
  if (errors.length === 0 && lines.length === 0) errors.push({ line: 1, code: 'empty_dataset', message: 'The dataset has no examples.' })
  if (errors.length) {
    const shown = errors.slice(0, MAX_REPORTED)
    const summary = shown.slice(0, 3).map((e) => `line ${e.line}: ${e.message}`).join('; ')
    throw new GatewayError(`The dataset has ${errors.length} problem${errors.length === 1 ? '' : 's'} (nothing was stored): ${summary}${errors.length > 3 ? '; ...' : ''}`, {
      status: 400, code: 'invalid_dataset', param: 'file', details: { errors: shown, total_errors: errors.length },
    })
  }
  const price = facts?.training
  return {
    lines,
    validation: { status: 'valid', lines: lines.length, blank_lines: blank, token_limit: limit },
    stats: {
      examples: lines.length,
      tokens,
      max_example_tokens: longest,
      model: options.model ?? null,
      epochs: options.epochs,
      estimated_cost_usd: price === undefined ? null : Math.round(tokens * options.epochs * price) / 1e6,
    },
  }
}

/** A seeded split: every `1/fraction`-th example, spread through the file, goes to validation. */
export function splitLines(lines: readonly string[], fraction: number): { train: string[]; validation: string[] } {
  const validationCount = Math.max(1, Math.round(lines.length * fraction))
  if (lines.length < 2 || validationCount >= lines.length) throw new GatewayError('The dataset is too small to split: it needs at least one example on each side.', { status: 400, code: 'dataset_too_small', param: 'validation_split' })
  const step = lines.length / validationCount
  const picked = new Set<number>()
  for (let k = 0; k < validationCount; k++) picked.add(Math.floor(k * step + step / 2))
  return { train: lines.filter((_, i) => !picked.has(i)), validation: lines.filter((_, i) => picked.has(i)) }
}
