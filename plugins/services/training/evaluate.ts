/**
 * The evaluation after training: the provider's reported losses (per step, as OpenAI's results
 * CSV) and a small generation eval: each held-out example's conversation up to its last assistant
 * turn is sent to the fine-tuned model through the gateway's pipeline (routed, limited and
 * accounted as the job's owner), and the answer is scored against that turn: exact match
 * (normalised text) and similarity (token F1, as SQuAD scores answers).
 */
import { isChatStream, type ChatMessage, type ChatRequest, type GatewayCalls } from '../../../plugin-api/index.ts'
import type { Evaluation } from './evaluation.ts'

export interface EvaluationSettings {
  /** Examples scored by generation (0: losses only). */
  readonly eval_examples: number
  readonly eval_max_tokens: number
  readonly eval_concurrency: number
}

/** One example ready to score: the prompt, and the assistant turn it should produce. */
interface Case { readonly request: Omit<ChatRequest, 'model'>; readonly expected: string }

const textOf = (content: ChatMessage['content']): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p) => ((p as { type?: string; text?: string }).type === 'text' ? (p as { text: string }).text : '')).join('') : ''

/** The examples of a JSONL dataset whose last assistant turn has text, up to `limit`. */
export function casesOf(jsonl: string, limit: number): Case[] {
  const cases: Case[] = []
  for (const line of jsonl.split(/\r?\n/)) {
    if (cases.length >= limit) break
    if (line.trim() === '') continue
    const example = JSON.parse(line) as { messages: ChatMessage[]; tools?: ChatRequest['tools'] }
    let last = example.messages.length - 1
    while (last >= 0 && !(example.messages[last].role === 'assistant' && textOf(example.messages[last].content).trim() !== '')) last--
    if (last <= 0) continue
    cases.push({ request: { messages: example.messages.slice(0, last), ...(example.tools ? { tools: example.tools } : {}) }, expected: textOf(example.messages[last].content) })
  }
  return cases
}

const normalise = (text: string): string => text.toLowerCase().replace(/\s+/g, ' ').trim()
const tokens = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []

/** Token F1 between an answer and the expected text: 1 for the same words, 0 for none shared. */
export function tokenF1(answer: string, expected: string): number {
  const a = tokens(answer)
  const b = tokens(expected)
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 1 : 0
  const counts = new Map<string, number>()
  for (const t of b) counts.set(t, (counts.get(t) ?? 0) + 1)
  let shared = 0
  for (const t of a) {
    const n = counts.get(t) ?? 0
    if (n > 0) { shared++; counts.set(t, n - 1) }
  }
  if (shared === 0) return 0
  const precision = shared / a.length
  const recall = shared / b.length
  return (2 * precision * recall) / (precision + recall)
}

const round = (n: number) => Math.round(n * 10_000) / 10_000
const mean = (values: number[]) => (values.length ? round(values.reduce((s, v) => s + v, 0) / values.length) : null)

export interface GenerationResult {
  readonly examples: number
  readonly errors: number
  readonly exact_match: number | null
  readonly similarity: number | null
  readonly firstError?: string
}

/** Score `cases` against `route` through the pipeline, `concurrency` calls at a time. */
export async function generationEval(calls: GatewayCalls, route: string, cases: readonly Case[], settings: EvaluationSettings, signal?: AbortSignal): Promise<GenerationResult> {
  const exact: number[] = []
  const similar: number[] = []
  let errors = 0
  let firstError: string | undefined
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const c = cases[next++]
      try {
        const call = await calls.chat({ ...c.request, model: route, temperature: 0, max_tokens: settings.eval_max_tokens }, { signal })
        if (isChatStream(call.result)) throw new Error('the evaluation asked for one answer and got a stream')
        await call.done
        const answer = call.result.choices[0]?.message?.content ?? ''
        exact.push(normalise(answer) === normalise(c.expected) ? 1 : 0)
        similar.push(tokenF1(answer, c.expected))
      } catch (err) {
        errors++
        firstError ??= (err as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(settings.eval_concurrency, cases.length)) }, worker))
  return { examples: exact.length, errors, exact_match: mean(exact), similarity: mean(similar), ...(firstError ? { firstError } : {}) }
}

/** Known columns first, in OpenAI's order; others the provider reports after them. */
const COLUMNS = ['step', 'train_loss', 'train_mean_token_accuracy', 'valid_loss', 'valid_mean_token_accuracy', 'full_valid_loss', 'full_valid_mean_token_accuracy']
const ALWAYS = new Set(['step', 'train_loss', 'valid_loss'])

/** The metrics points as OpenAI's results CSV: one row per step, in step order; an absent value is empty. */
export function metricsCsv(points: readonly Readonly<Record<string, number>>[]): string {
  const byStep = new Map<number, Record<string, number>>()
  for (const p of points) if (typeof p.step === 'number') byStep.set(p.step, { ...byStep.get(p.step), ...p })
  const rows = [...byStep.values()].sort((a, b) => a.step - b.step)
  const seen = new Set(rows.flatMap((r) => Object.keys(r)))
  const columns = [...COLUMNS.filter((c) => ALWAYS.has(c) || seen.has(c)), ...[...seen].filter((c) => !COLUMNS.includes(c) && c !== 'total_steps').sort()]
  return `${[columns.join(','), ...rows.map((r) => columns.map((c) => (r[c] === undefined ? '' : String(r[c]))).join(','))].join('\n')}\n`
}

/** The provider's last reported losses (the highest step that has each). */
export function lastLosses(points: readonly Readonly<Record<string, number>>[]): Pick<Evaluation, 'train_loss' | 'valid_loss' | 'full_valid_loss'> {
  const last = (key: string): number | null => {
    const withKey = points.filter((p) => typeof p[key] === 'number').sort((a, b) => (a.step ?? 0) - (b.step ?? 0))
    return withKey.length ? withKey[withKey.length - 1][key] : null
  }
  return { train_loss: last('train_loss'), valid_loss: last('valid_loss'), full_valid_loss: last('full_valid_loss') }
}
