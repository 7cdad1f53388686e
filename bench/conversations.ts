/**
 * Conversations' figures, part of `npm run bench` (skip with BENCH_CONVERSATIONS=0; run alone with
 * `node --import tsx bench/conversations.ts`):
 *  - a reply in a thread holding 1,000 stored messages against one holding 10, and one holding 40
 *    (which sends as much history as the large one): the history is read up to the window (newest
 *    first, bounded), never the whole thread, so the stored size costs nothing;
 *  - /v1/responses (stored, and with store: false) against /v1/chat/completions for the same exchange.
 * Sequential requests against one gateway process with the embedded store, the rows interleaved
 * round by round; medians and p90s.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(import.meta.dirname, '..')
const N = Number(process.env.BENCH_CONVERSATION_REQUESTS ?? 200)
/** max_history_items: the most items a turn reads. */
const HISTORY = 40

function spawnServer(args: string[], ready: RegExp, children: ChildProcess[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let out = ''
    const onData = (d: Buffer) => { out += d; const m = ready.exec(out); if (m) resolve(Number(m[1])) }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)))
  })
}

const agent = new http.Agent({ keepAlive: true })
function post(port: number, pathname: string, body: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathname, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

interface Latency { p50: number; p90: number }

/**
 * Rows measured in rounds, one request of each row per round (after a few rounds of warm-up), so
 * drift on a shared machine hits every row alike. `send(i)` makes row's request of round i.
 */
async function timedRows(rounds: number, rows: readonly ((round: number) => Promise<{ status: number }>)[]): Promise<Latency[]> {
  const WARMUP = 10
  const times: number[][] = rows.map(() => [])
  for (let round = 0; round < WARMUP + rounds; round++) {
    for (const [i, send] of rows.entries()) {
      const start = performance.now()
      const { status } = await send(round)
      if (status >= 300) throw new Error(`status ${status}`)
      if (round >= WARMUP) times[i].push(performance.now() - start)
    }
  }
  return times.map((t) => {
    t.sort((a, b) => a - b)
    return { p50: t[Math.floor(t.length * 0.5)], p90: t[Math.floor(t.length * 0.9)] }
  })
}

const row = (name: string, r: Latency, extra = ''): string => `${name.padEnd(64)} ${r.p50.toFixed(2).padStart(8)} ${r.p90.toFixed(2).padStart(8)}${extra}`

export async function conversationRows(dir: string, upstreamPort: number, children: ChildProcess[]): Promise<void> {
  const config = path.join(dir, 'conversations.yaml')
  await writeFile(config, `version: 1
store: { plugin: embedded, path: ${JSON.stringify(path.join(dir, 'data-conversations'))}, vector: false }
providers:
  upstream: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstreamPort}/v1" }
routes:
  - model: bench
    targets: [ { provider: upstream, model: bench-model } ]
services:
  conversations: { max_history_items: ${HISTORY} }
  chat: {}
surfaces:
  responses: {}
`)
  const port = await spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, children)

  /** A thread holding `messages` messages (added 20 at a time through /v1/conversations). */
  const thread = async (messages: number): Promise<string> => {
    const id = (await post(port, '/v1/conversations', {})).json.id as string
    for (let done = 0; done < messages; done += 20) {
      const items = Array.from({ length: Math.min(20, messages - done) }, (_, i) => ({ role: (done + i) % 2 ? 'assistant' : 'user', content: `message ${done + i}: the quick brown fox` }))
      await post(port, `/v1/conversations/${id}/items`, { items })
    }
    return id
  }
  // Each reply adds two messages: the small threads are fresh for every request (a thread of 10
  // stays one of 10), the large one grows from 1,000 by 2 per request.
  const rounds = Math.max(20, Math.floor(N / 2))
  const ofTen = await Promise.all(Array.from({ length: rounds + 10 }, () => thread(10)))
  const ofForty = await Promise.all(Array.from({ length: rounds + 10 }, () => thread(HISTORY)))
  const large = await thread(1000)
  const reply = (id: string) => post(port, `/api/v1/chat/threads/${id}/messages`, { content: 'And then?', model: 'bench' })
  const [ten, forty, thousand] = await timedRows(rounds, [(i) => reply(ofTen[i]), (i) => reply(ofForty[i]), () => reply(large)])
  console.log(`\nconversations: a reply in a thread (${rounds} rounds; the history is read newest first up to max_history_items ${HISTORY})   p50 ms   p90 ms`)
  console.log(row('thread of 10 messages (sends 10)', ten))
  console.log(row(`thread of ${HISTORY} messages (sends ${HISTORY}, as the larger one)`, forty))
  console.log(row(`thread of 1,000 messages (sends ${HISTORY})`, thousand))
  console.log(`1,000 / ${HISTORY} messages: p50 ${(thousand.p50 / forty.p50).toFixed(2)}x (the stored size: aim ~1x); 1,000 / 10: ${(thousand.p50 / ten.p50).toFixed(2)}x (adds the ${HISTORY - 10} more messages sent)`)

  const exchange = 'Say something about foxes.'
  const rows = [
    ['/v1/chat/completions', () => post(port, '/v1/chat/completions', { model: 'bench', messages: [{ role: 'user', content: exchange }] })],
    ['/v1/responses (store: false)', () => post(port, '/v1/responses', { model: 'bench', input: exchange, store: false })],
    ['/v1/responses (stored)', () => post(port, '/v1/responses', { model: 'bench', input: exchange })],
  ] as const
  const results = await timedRows(N, rows.map(([, send]) => send))
  console.log(`\nthe same exchange (${N} rounds)                                     p50 ms   p90 ms   vs chat p50`)
  rows.forEach(([name], i) => console.log(row(name, results[i], `   +${(results[i].p50 - results[0].p50).toFixed(2)} ms`)))
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const children: ChildProcess[] = []
  try {
    const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, children)
    await conversationRows(await mkdtemp(path.join(os.tmpdir(), 'gw-bench-conv-')), upstream, children)
  } finally {
    agent.destroy()
    for (const child of children) child.kill()
  }
}
