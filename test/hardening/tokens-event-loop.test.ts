/**
 * No prompt stalls the gateway. js-tiktoken is quadratic on runs without spaces (10k "a": 6.7 s),
 * and the prompt used to be tokenized on the event loop for every request under a token limit or
 * budget, and for every aborted stream: one 20 KB prompt froze /health and every other tenant for
 * 23.6 s. Admission now estimates (ceil(bytes / 4) plus max_tokens), and the exact count (for
 * streams that end without usage) is bounded and runs in a worker thread. Here 1 MB prompts
 * without a single space go through while another client keeps sending small requests, and the
 * gateway's event loop is never held for more than 50 ms of CPU at a time. Counting the bounded
 * prompt on the loop instead holds it for ~100 ms each time (which a p99 of the other client's
 * latencies can miss); reading and parsing the 1 MB body, 5-11 ms. The stall is CPU time, not a
 * latency: on a loaded machine the wall clock also counts the time the OS leaves the process
 * waiting for a core (a p99 of 74 ms at load 10 with the code unchanged).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { estimatePromptTokens } from '../../plugin-api/kit/tokens.ts'
import { MAX_EXACT_CHARS, WorkerTokenizer } from '../../plugins/services/tokenizer/counter.ts'

import { postJson, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { measureLoopStalls, type LoopStalls } from '../helpers/loop-stall.ts'

const tokenizer = new WorkerTokenizer()
const countTokens = (text: string) => tokenizer.count(text)
const countPromptTokens = tokenizer.countChat.bind(tokenizer)

const MB = 1 << 20
const NO_SPACES = 'a'.repeat(MB)
const TOKEN_LIMIT = 10_000_000
const MAX_STALL_MS = 50
const PACE_MS = 5
const WINDOWS = 3

const p99 = (samples: readonly number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.ceil(sorted.length * 0.99) - 1]
}

/**
 * Another tenant: small chat requests on their own route at a steady pace, from now until `until`
 * settles and `afterMs` more have passed, and for at least `minMs`. Returns their latencies.
 */
async function otherClient(gw: RunningGateway, until: Promise<unknown>, afterMs = 300, minMs = 1500): Promise<number[]> {
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
 * The gateway's longest event-loop stall while `work` runs beside another client, the least over
 * up to WINDOWS runs (each given a fresh start): a major GC of the test process can hold the loop
 * for tens of ms now and then, whatever it runs; one window clear of that is enough. Work on the
 * loop (the bug) stalls it in every run. `p99` is the other client's, for the failure message.
 */
async function leastStall(gw: RunningGateway, work: () => Promise<unknown>): Promise<LoopStalls & { p99: number }> {
  let least: (LoopStalls & { p99: number }) | undefined
  for (let i = 0; i < WINDOWS && (least?.maxCpuMs ?? Infinity) >= MAX_STALL_MS; i++) {
    const meter = measureLoopStalls()
    const running = work()
    const samples = await otherClient(gw, running)
    await running
    const stalls = meter.stop()
    if (!least || stalls.maxCpuMs < least.maxCpuMs) least = { ...stalls, p99: p99(samples) }
  }
  return least!
}

async function promptTokensMetric(gw: RunningGateway, route: string, provider: string): Promise<number | undefined> {
  const text = await (await fetch(`${gw.url}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`gateway_tokens_total{route="${route}",provider="${provider}",kind="prompt"}`))
  return line ? Number(line.split(' ').pop()) : undefined
}

const streamedBody = (content: string) => ({ model: 'streamed', stream: true, messages: [{ role: 'user', content }] })

/**
 * One stream aborted after its first chunk: the gateway counts its prompt once it sees the client
 * gone. Returns the prompt tokens it added to the metrics, once they are there.
 */
async function abortStream(gw: RunningGateway, content: string): Promise<number> {
  const before = (await promptTokensMetric(gw, 'streamed', 'slow')) ?? 0
  const controller = new AbortController()
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(streamedBody(content)), signal: controller.signal })
  expect(res.status).toBe(200)
  await res.body!.getReader().read()
  controller.abort()
  for (;;) {
    const tokens = await promptTokensMetric(gw, 'streamed', 'slow')
    if (tokens !== undefined && tokens > before) return tokens - before
    await new Promise((r) => setTimeout(r, 50))
  }
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
    // Code run for the first time (module loading, compilation, the token worker's start) is not
    // what is measured: every path the tests take runs once first, on prompts that cost nothing.
    expect((await postJson(`${gw.url}/v1/chat/completions`, { model: 'other', messages: [{ role: 'user', content: NO_SPACES }] })).status).toBe(200)
    expect((await postJson(`${gw.url}/v1/chat/completions`, { model: 'limited', messages: [{ role: 'user', content: 'warm up' }] })).status).toBe(200)
    await abortStream(gw, 'warm up')
  })
  afterAll(() => gw?.close())

  it('is admitted under a token limit on a bytes/4 estimate without holding the event loop 50 ms', async () => {
    const answers: Awaited<ReturnType<typeof postJson>>[] = []
    const send = async () => answers.push(await postJson(`${gw.url}/v1/chat/completions`, { model: 'limited', max_tokens: 100, messages: [{ role: 'user', content: NO_SPACES }] }))
    const stalls = await leastStall(gw, send)
    expect(stalls.maxCpuMs, JSON.stringify(stalls)).toBeLessThan(MAX_STALL_MS)
    // Admitted, on an estimate of 1 MB / 4 for the prompt plus max_tokens.
    expect(answers[0].status).toBe(200)
    expect(Number(answers[0].headers.get('x-ratelimit-remaining-tokens'))).toBe(TOKEN_LIMIT - MB / 4 - 100)
  })

  it('is counted off the event loop when its stream is aborted mid-way, with no limit on the route', async () => {
    let aborted = 0
    const counts: number[] = []
    const stalls = await leastStall(gw, async () => {
      aborted++
      counts.push(await abortStream(gw, NO_SPACES))
    })
    expect(stalls.maxCpuMs, JSON.stringify(stalls)).toBeLessThan(MAX_STALL_MS)
    expect(counts).toHaveLength(aborted)
    for (const tokens of counts) {
      expect(tokens).toBe(await countPromptTokens(streamedBody(NO_SPACES) as never))
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
