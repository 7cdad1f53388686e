/**
 * Conversations' figures, part of `npm run bench` (skip with BENCH_CONVERSATIONS=0; run alone with
 * `node --import tsx bench/conversations.ts`):
 *  - a reply in a thread holding 1,000 stored messages against one holding 10: the history is read
 *    up to the window (newest first, bounded), never the whole thread, so both cost the same;
 *  - /v1/responses (stored, and with store: false) against /v1/chat/completions for the same exchange.
 * Sequential requests against one gateway process with the embedded store; medians and p90s.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(import.meta.dirname, '..')
const N = Number(process.env.BENCH_CONVERSATION_REQUESTS ?? 200)

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

async function timed(n: number, send: () => Promise<{ status: number }>): Promise<{ p50: number; p90: number }> {
  for (let i = 0; i < 10; i++) await send()
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const start = performance.now()
    const { status } = await send()
    if (status >= 300) throw new Error(`status ${status}`)
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return { p50: times[Math.floor(n * 0.5)], p90: times[Math.floor(n * 0.9)] }
}

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
  conversations: { max_history_items: 40 }
  chat: {}
surfaces:
  responses: {}
`)
  const port = await spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, children)

  // Two threads: 10 messages, and 1,000 (added 20 at a time through /v1/conversations).
  const thread = async (messages: number): Promise<string> => {
    const id = (await post(port, '/v1/conversations', {})).json.id as string
    for (let done = 0; done < messages; done += 20) {
      const items = Array.from({ length: Math.min(20, messages - done) }, (_, i) => ({ role: (done + i) % 2 ? 'assistant' : 'user', content: `message ${done + i}: the quick brown fox` }))
      await post(port, `/v1/conversations/${id}/items`, { items })
    }
    return id
  }
  const small = await thread(10)
  const large = await thread(1000)
  const reply = (id: string) => () => post(port, `/api/v1/chat/threads/${id}/messages`, { content: 'And then?', model: 'bench' })
  // Interleaved halves, so drift on a shared machine hits both alike.
  const half = Math.max(20, N / 2)
  const s1 = await timed(half, reply(small))
  const l1 = await timed(half, reply(large))
  const s2 = await timed(half, reply(small))
  const l2 = await timed(half, reply(large))
  const avg = (a: { p50: number; p90: number }, b: { p50: number; p90: number }) => ({ p50: (a.p50 + b.p50) / 2, p90: (a.p90 + b.p90) / 2 })
  const [ten, thousand] = [avg(s1, s2), avg(l1, l2)]
  console.log(`\nconversations: a reply in a thread (sequential, ${2 * half} each; history read up to the window, max_history_items 40)   p50 ms   p90 ms`)
  console.log(`${'thread of 10 messages'.padEnd(100)} ${ten.p50.toFixed(2).padStart(8)} ${ten.p90.toFixed(2).padStart(8)}`)
  console.log(`${'thread of 1,000 messages'.padEnd(100)} ${thousand.p50.toFixed(2).padStart(8)} ${thousand.p90.toFixed(2).padStart(8)}`)
  console.log(`1,000 / 10: p50 ${(thousand.p50 / ten.p50).toFixed(2)}x (aim: ~1x; the larger thread sends up to 40 history items, the smaller 10+)`)

  const exchange = 'Say something about foxes.'
  const rows = [
    ['/v1/chat/completions', () => post(port, '/v1/chat/completions', { model: 'bench', messages: [{ role: 'user', content: exchange }] })],
    ['/v1/responses (store: false)', () => post(port, '/v1/responses', { model: 'bench', input: exchange, store: false })],
    ['/v1/responses (stored)', () => post(port, '/v1/responses', { model: 'bench', input: exchange })],
  ] as const
  const results: { p50: number; p90: number }[] = []
  for (const [, send] of rows) results.push(await timed(N, send))
  console.log(`\nthe same exchange (sequential, ${N} each)                p50 ms   p90 ms   vs chat p50`)
  rows.forEach(([name], i) => console.log(`${name.padEnd(52)} ${results[i].p50.toFixed(2).padStart(8)} ${results[i].p90.toFixed(2).padStart(8)}   +${(results[i].p50 - results[0].p50).toFixed(2)} ms`))
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
