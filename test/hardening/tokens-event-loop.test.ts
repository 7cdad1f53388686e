/**
 * No prompt stalls the gateway. js-tiktoken is quadratic on runs without spaces (10k "a": 6.7 s),
 * and the prompt used to be tokenized on the event loop for every request under a token limit or
 * budget, and for every aborted stream: one 20 KB prompt froze /health and every other tenant for
 * 23.6 s. Admission now estimates (ceil(bytes / 4) plus max_tokens), and the exact count (for
 * streams that end without usage) is bounded and runs in a worker thread. Here another client's
 * requests keep their p99 under 50 ms while 1 MB prompts without a single space go through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { estimatePromptTokens } from '../../core/usage/tokens.ts'
import { MAX_EXACT_CHARS, WorkerTokenizer } from '../../plugins/services/tokenizer/counter.ts'

import { postJson, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

const tokenizer = new WorkerTokenizer()
const countTokens = (text: string) => tokenizer.count(text)
const countPromptTokens = tokenizer.countChat.bind(tokenizer)

const MB = 1 << 20
const NO_SPACES = 'a'.repeat(MB)
const TOKEN_LIMIT = 10_000_000
const P99_MS = 50
const PACE_MS = 5
const WINDOWS = 3

const p99 = (samples: readonly number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.ceil(sorted.length * 0.99) - 1]
}

/**
 * Another tenant's latency: small chat requests on their own route at a steady pace, from now
 * until `until` settles and `afterMs` more have passed, and for at least `minMs` (a few hundred
 * samples, so the p99 is not one sample).
 */
async function otherClientLatency(gw: RunningGateway, until: Promise<unknown>, afterMs = 300, minMs = 1500): Promise<number[]> {
  let done = false
  const window = new Promise((r) => setTimeout(r, minMs))
  const finished = Promise.all([until.finally(() => new Promise((r) => setTimeout(r, afterMs))), window]).finally(() => { done = true })
  const samples: number[] = []
  while (!done) {
    const started = performance.now()
    const res = await postJson(`${gw.url}/v1/chat/completions`, { model: 'other', messages: [{ role: 'user', content: 'ping' }] })
    samples.push(performance.now() - started)
    expect(res.status).toBe(200)
    // A client at a steady pace, not a busy loop competing for the CPU with the gateway's own threads.
    await new Promise((r) => setTimeout(r, PACE_MS))
  }
  await finished
  return samples
}

/**
 * The other client's best p99 over up to WINDOWS runs of `work` (each given a fresh start). A
 * shared 2-core machine stalls a whole process for tens of milliseconds now and then, whatever it
 * runs; one window clear of that is enough. A blocked event loop (the bug: seconds) fails them all.
 */
async function bestP99(gw: RunningGateway, work: () => Promise<unknown>): Promise<number> {
  let best = Infinity
  for (let i = 0; i < WINDOWS && best >= P99_MS; i++) {
    const running = work()
    best = Math.min(best, p99(await otherClientLatency(gw, running)))
    await running
  }
  return best
}

async function promptTokensMetric(gw: RunningGateway, route: string, provider: string): Promise<number | undefined> {
  const text = await (await fetch(`${gw.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`gateway_tokens_total{route="${route}",provider="${provider}",kind="prompt"}`))
  return line ? Number(line.split(' ').pop()) : undefined
}

describe('a 1 MB prompt without spaces', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(`version: 1
server: { body_limit: 4mb }
providers:
  mock: { plugin: mock }
  slow: { plugin: mock, reply: "${Array.from({ length: 50 }, (_, i) => `w${i}`).join(' ')}", chunk_delay_ms: 20 }
routes:
  - { model: limited, targets: [ { provider: mock } ] }
  - { model: streamed, targets: [ { provider: slow } ] }
  - { model: other, targets: [ { provider: mock } ] }
limits:
  backend: { plugin: memory }
  policies:
    - { scope: route, when: { routes: [limited] }, tokens_per_minute: ${TOKEN_LIMIT} }
`)
  })
  afterAll(() => gw?.close())

  it('is admitted under a token limit on a bytes/4 estimate while another client keeps p99 under 50 ms', async () => {
    const answers: Awaited<ReturnType<typeof postJson>>[] = []
    const send = async () => answers.push(await postJson(`${gw.url}/v1/chat/completions`, { model: 'limited', max_tokens: 100, messages: [{ role: 'user', content: NO_SPACES }] }))
    expect(await bestP99(gw, send)).toBeLessThan(P99_MS)
    // Admitted, on an estimate of 1 MB / 4 for the prompt plus max_tokens.
    expect(answers[0].status).toBe(200)
    expect(Number(answers[0].headers.get('x-ratelimit-remaining-tokens'))).toBe(TOKEN_LIMIT - MB / 4 - 100)
  })

  it('is counted off the event loop when its stream is aborted mid-way, with no limit on the route', async () => {
    const body = { model: 'streamed', stream: true, messages: [{ role: 'user', content: NO_SPACES }] }
    let aborted = 0
    // One aborted stream: the gateway counts its prompt once it sees the client gone. The other
    // client's clock runs until that count is in the metrics.
    const abortOne = async (): Promise<number> => {
      const before = (await promptTokensMetric(gw, 'streamed', 'slow')) ?? 0
      const controller = new AbortController()
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: controller.signal })
      expect(res.status).toBe(200)
      await res.body!.getReader().read()
      controller.abort()
      aborted++
      for (;;) {
        const tokens = await promptTokensMetric(gw, 'streamed', 'slow')
        if (tokens !== undefined && tokens > before) return tokens - before
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    const counts: number[] = []
    expect(await bestP99(gw, async () => counts.push(await abortOne()))).toBeLessThan(P99_MS)
    expect(counts).toHaveLength(aborted)
    for (const tokens of counts) {
      expect(tokens).toBe(await countPromptTokens(body as never))
      // Extrapolated from the first MAX_EXACT_CHARS (8 "a" to a token), not capped at them.
      expect(tokens).toBe(3 + 3 + MB / 8)
    }
  })
})

describe('the token count', () => {
  it('is bounded: a 1 MB run without spaces takes a fraction of a second, not hours', async () => {
    await countTokens('warm up the worker')
    const started = performance.now()
    expect(await countTokens(NO_SPACES)).toBe(MB / 8)
    // ~0.1 s here; the margin is for a loaded machine.
    expect(performance.now() - started).toBeLessThan(3000)
  })

  it('matches the tokenizer on ordinary text, and counts special-token text as text', async () => {
    expect(await countTokens('The quick brown fox jumps over the lazy dog.')).toBe(10)
    expect(await countTokens('<|endoftext|>')).toBeGreaterThan(1)
    const prose = 'Tokens are counted exactly up to the cap. '.repeat(2000)
    expect(prose.length).toBeGreaterThan(MAX_EXACT_CHARS)
    // Beyond the cap, extrapolated at the counted part's rate (9 tokens a repetition): within 1 %.
    expect(Math.abs((await countTokens(prose)) - 9 * 2000)).toBeLessThan(2000 / 10)
  })

  it('estimates admission from bytes: ceil(UTF-8 bytes / 4) of every text the prompt carries', () => {
    expect(estimatePromptTokens({ model: 'm', messages: [{ role: 'user', content: 'hello gateway' }] })).toBe(4)
    // 'é' is two bytes, '日' three.
    expect(estimatePromptTokens({ model: 'm', messages: [{ role: 'user', content: 'é日' }, { role: 'user', content: [{ type: 'text', text: 'abc' }] }] })).toBe(2)
  })
})
