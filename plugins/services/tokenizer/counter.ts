/**
 * Counting tokens when a provider reports none (a stream aborted, or ended without usage): a real
 * BPE tokenizer (js-tiktoken, o200k_base, the encoding of current OpenAI models; for other
 * providers' models an estimate from a real tokenizer), bounded three ways. Long runs without
 * whitespace are cut into short pieces (token-count.ts: the tokenizer is quadratic in a piece's
 * length, and one 20 KB prompt once froze the process for 23 s); at most MAX_EXACT_CHARS are
 * counted, the rest extrapolated; and the counting runs in a worker thread (worker.ts), so the
 * event loop only copies the text. When the worker cannot answer, the count falls back to the
 * estimate: a usage event is never lost for it.
 */
import { Worker } from 'node:worker_threads'
import { estimateTexts, promptTexts, type ChatRequest, type Tokenizer } from '../../../plugin-api/index.ts'
import type { CountJob, CountResult } from './worker.ts'

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

export class WorkerTokenizer implements Tokenizer {
  readonly #counter = new TokenCounter()

  /** Tokens of `text` by the tokenizer (bounded, off the event loop). */
  async count(text: string): Promise<number> {
    return text ? this.#countTexts([text]) : 0
  }

  /** Prompt tokens of a chat request: each message's text, name and tool calls, the tools, plus the chat format's overhead. */
  async countChat(req: ChatRequest): Promise<number> {
    const names = req.messages.reduce((n, m) => n + ((m as { name?: string }).name ? 1 : 0), 0)
    return TOKENS_PER_REPLY + req.messages.length * TOKENS_PER_MESSAGE + names + (await this.#countTexts(promptTexts(req)))
  }

  dispose(): Promise<void> {
    return this.#counter.stop()
  }

  async #countTexts(texts: readonly string[]): Promise<number> {
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
      tokens = await this.#counter.count(exact)
    } catch {
      return estimateTexts(texts)
    }
    const counted = MAX_EXACT_CHARS - budget
    return rest === 0 ? tokens : tokens + Math.ceil((rest * tokens) / counted)
  }
}

/**
 * One worker thread, started on the first count (most gateways never need one) and started again
 * after a crash. It keeps the process alive only while counts are pending.
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

  async stop(): Promise<void> {
    const worker = this.#worker
    this.#worker = undefined
    await worker?.terminate()
  }

  #start(): Worker {
    const worker = new Worker(new URL('../kit/worker-entry.mjs', import.meta.url), { workerData: { entry: new URL('./worker.ts', import.meta.url).href } })
    worker.unref()
    worker.on('message', (result: CountResult) => {
      const job = this.#pending.get(result.id)
      if (!job) return
      this.#pending.delete(result.id)
      if (this.#pending.size === 0) worker.unref()
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
}
