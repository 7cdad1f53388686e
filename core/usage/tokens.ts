/**
 * Tokens of a request, the two ways the gateway needs them:
 *
 *  - an **estimate** for admission (token limits, budgets): ceil(UTF-8 bytes / 4) of the prompt
 *    text, the usual rule of thumb for BPE tokenizers. Linear, a few native calls, so a 1 MB
 *    prompt costs well under a millisecond; the exchange's actual usage corrects it afterwards.
 *  - a **count** when a provider reports no usage (a stream aborted, or ended without it): a
 *    real BPE tokenizer (js-tiktoken, o200k_base, the encoding of current OpenAI models; for other
 *    providers' models an estimate from a real tokenizer), bounded three ways. Long runs without
 *    whitespace are cut into short pieces (core/usage/token-count.ts: the tokenizer is quadratic
 *    in a piece's length, and one 20 KB prompt froze the process for 23 s); at most
 *    MAX_EXACT_CHARS are counted, the rest extrapolated; and the counting runs in a worker thread
 *    (core/usage/token-worker.ts), so the event loop only copies the text. When the worker cannot
 *    answer, the count falls back to the estimate: the usage event is never lost.
 */
import { Worker } from 'node:worker_threads'
import type { ChatRequest, EmbeddingRequest } from '../api/types.ts'
import type { Operation, TokenEstimate } from '../plugins/types.ts'
import type { CountJob, CountResult } from './token-worker.ts'

/** Per-message overhead of the chat format (role and separators), as OpenAI counts it. */
const TOKENS_PER_MESSAGE = 3
const TOKENS_PER_REPLY = 3

/**
 * Characters of one request counted exactly; the rest is extrapolated at the counted part's
 * tokens per character. Bounds the worker's time per count: ~5 ms for prose, ~0.5 s for the worst
 * text (random CJK), so a flood of huge aborted streams cannot occupy it for long.
 */
export const MAX_EXACT_CHARS = 32_768
/** Counts waiting for the worker beyond this are estimated instead of queued. */
const MAX_PENDING = 64
const BYTES_PER_TOKEN = 4

// ---------------------------------------------------------------------------------------------
// estimates, for admission

/** ceil(UTF-8 bytes / 4) of `text`. */
export function estimateTextTokens(text: string): number {
  return text ? Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN) : 0
}

/** The admission estimate of a model call: its prompt's bytes / 4, and the most its answer may use (max_tokens × n). */
export function estimateTokens(operation: Operation, request: ChatRequest | EmbeddingRequest): TokenEstimate {
  if (operation === 'embeddings') return { prompt: estimateEmbeddingTokens(request as EmbeddingRequest), completion: 0 }
  const chat = request as ChatRequest
  const bound = positive(chat.max_completion_tokens) ?? positive(chat.max_tokens) ?? 0
  return { prompt: estimatePromptTokens(chat), completion: bound * (positive(chat.n) ?? 1) }
}

/** Estimated tokens of an embeddings request's inputs (token-id inputs count as given). */
function estimateEmbeddingTokens(request: EmbeddingRequest): number {
  const input: unknown = request.input
  // One token array is one input; a list of strings or token arrays is several.
  const inputs: unknown[] = Array.isArray(input) && !input.every((i) => typeof i === 'number') ? input : [input]
  let prompt = 0
  for (const item of inputs) prompt += typeof item === 'string' ? estimateTextTokens(item) : Array.isArray(item) ? item.length : 0
  return prompt
}

const positive = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined)

/** ceil(UTF-8 bytes / 4) of a chat request's prompt text (messages, names, tool calls, tools). */
export function estimatePromptTokens(req: ChatRequest): number {
  return estimateTexts(promptTexts(req))
}

function estimateTexts(texts: readonly string[]): number {
  let bytes = 0
  for (const text of texts) bytes += Buffer.byteLength(text, 'utf8')
  return Math.ceil(bytes / BYTES_PER_TOKEN)
}

// ---------------------------------------------------------------------------------------------
// counts, when a provider reports none

/** Tokens of `text` by the tokenizer (bounded, off the event loop). */
export async function countTokens(text: string): Promise<number> {
  return text ? countTexts([text]) : 0
}

/** Prompt tokens of a chat request by the tokenizer: each message's text, name and tool calls, the tools, plus the chat format's overhead. */
export async function countPromptTokens(req: ChatRequest): Promise<number> {
  const names = req.messages.reduce((n, m) => n + ((m as { name?: string }).name ? 1 : 0), 0)
  return TOKENS_PER_REPLY + req.messages.length * TOKENS_PER_MESSAGE + names + (await countTexts(promptTexts(req)))
}

async function countTexts(texts: readonly string[]): Promise<number> {
  // The first MAX_EXACT_CHARS go to the worker; the rest is only measured.
  let budget = MAX_EXACT_CHARS
  let rest = 0
  const exact: string[] = []
  for (const text of texts) {
    const head = text.length <= budget ? text : text.slice(0, budget)
    if (head) exact.push(head)
    budget -= head.length
    rest += text.length - head.length
  }
  let tokens: number
  try {
    tokens = await counter.count(exact)
  } catch {
    return estimateTexts(texts)
  }
  const counted = MAX_EXACT_CHARS - budget
  return rest === 0 ? tokens : tokens + Math.ceil((rest * tokens) / counted)
}

/** The texts of a chat request a tokenizer reads: message contents and text parts, names, tool calls, the tools. */
function promptTexts(req: ChatRequest): string[] {
  const texts: string[] = []
  for (const message of req.messages) {
    const content = (message as { content?: unknown }).content
    if (typeof content === 'string') texts.push(content)
    else if (Array.isArray(content)) {
      for (const part of content as { type?: string; text?: string }[]) if (part.type === 'text' && part.text) texts.push(part.text)
    }
    const name = (message as { name?: string }).name
    if (name) texts.push(name)
    for (const call of (message as { tool_calls?: { function?: { name?: string; arguments?: string } }[] }).tool_calls ?? []) {
      texts.push(`${call.function?.name ?? ''}${call.function?.arguments ?? ''}`)
    }
  }
  if (req.tools?.length) texts.push(JSON.stringify(req.tools))
  return texts
}

// ---------------------------------------------------------------------------------------------
// the worker

/**
 * One worker thread per process, started on the first count (most processes never need one) and
 * started again after a crash. It keeps the process alive only while counts are pending.
 */
class TokenCounter {
  #worker: Worker | undefined
  readonly #pending = new Map<number, { resolve: (tokens: number) => void; reject: (err: Error) => void }>()
  #nextId = 0

  count(texts: readonly string[]): Promise<number> {
    if (texts.length === 0) return Promise.resolve(0)
    if (this.#pending.size >= MAX_PENDING) return Promise.reject(new Error('the token worker is busy'))
    const worker = (this.#worker ??= this.#start())
    const job: CountJob = { id: this.#nextId++, texts }
    return new Promise<number>((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref()
      this.#pending.set(job.id, { resolve, reject })
      worker.postMessage(job)
    })
  }

  #start(): Worker {
    const worker = new Worker(new URL('./token-worker.mjs', import.meta.url))
    worker.unref()
    worker.on('message', (result: CountResult) => {
      const job = this.#pending.get(result.id)
      if (!job) return
      this.#settled(worker, result.id)
      if ('error' in result) job.reject(new Error(result.error))
      else job.resolve(result.tokens)
    })
    const fail = (err: Error): void => {
      if (this.#worker === worker) this.#worker = undefined
      for (const job of this.#pending.values()) job.reject(err)
      this.#pending.clear()
      void worker.terminate()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`the token worker exited (${code})`)))
    return worker
  }

  #settled(worker: Worker, id: number): void {
    this.#pending.delete(id)
    if (this.#pending.size === 0) worker.unref()
  }
}

const counter = new TokenCounter()
