/**
 * How long one big prompt blocks the gateway's event loop: chat requests with a ~20k-token prompt
 * (80 kB without spaces, the tokenizer's worst case) on a route under a token limit, against the
 * bench upstream, sent one after another by a client in another process, while this process (the
 * gateway) samples its own event-loop delay. The difference to short prompts is what the big
 * prompt costs in one go. Run: node --import tsx bench/event-loop.ts
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import os from 'node:os'
import { startGateway } from '../core/gateway.ts'
import { createLogger } from '../core/logger.ts'

const children: ChildProcess[] = []
function child(args: string[], ready: RegExp, input?: string): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
    children.push(c)
    let out = ''
    c.stdout!.on('data', (d: Buffer) => { out += d; const m = ready.exec(out); if (m) resolve({ child: c, match: m }) })
    c.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
    if (input) c.stdin!.end(input)
  })
}

const upstream = await child(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/)
const yaml = `version: 1
providers:
  up: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.match[1]}/v1" }
routes:
  - model: m
    targets: [ { provider: up, model: bench-model } ]
limits:
  backend: { plugin: memory }
  policies: [ { scope: organization, tokens_per_minute: 100000000 } ]
`
const gw = await startGateway({ source: { text: yaml, label: 'bench.yaml', dir: os.tmpdir() }, port: 0, host: '127.0.0.1', logger: createLogger('silent'), watch: false })

/** Sequential requests from another process; resolves when it has sent `n`. */
async function send(prompt: string, n: number): Promise<void> {
  const script = `const body = JSON.stringify({ model: 'm', max_tokens: 100, messages: [{ role: 'user', content: ${JSON.stringify(prompt)} }] })
for (let i = 0; i < ${n}; i++) { const r = await fetch('${gw.url}/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body }); if (r.status !== 200) throw new Error(String(r.status)); await r.arrayBuffer() }
console.log('sent')`
  const c = await child(['--input-type=module', '-'], /sent/, script)
  await new Promise((r) => c.child.once('exit', r))
}

/** The event loop's delay while `n` requests are served, and this process's CPU per request (an upper bound on any one block). */
async function stall(prompt: string, n: number): Promise<{ maxMs: number; p99Ms: number; cpuMs: number }> {
  await send(prompt, 5)
  const h = monitorEventLoopDelay({ resolution: 1 })
  h.enable()
  const cpu = process.cpuUsage()
  await send(prompt, n)
  const used = process.cpuUsage(cpu)
  h.disable()
  return { maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, cpuMs: (used.user + used.system) / 1000 / n }
}

const rounds = Number(process.env.ROUNDS ?? 3)
for (let i = 0; i < rounds; i++) {
  const small = await stall('Say something about foxes.', 100)
  const big = await stall('a'.repeat(80_000), 100)
  console.log(`round ${i + 1}: short prompt: CPU ${small.cpuMs.toFixed(3)} ms/req, loop delay p99 ${small.p99Ms.toFixed(2)} ms | 20k-token prompt: CPU ${big.cpuMs.toFixed(3)} ms/req, loop delay p99 ${big.p99Ms.toFixed(2)} ms | added CPU ${(big.cpuMs - small.cpuMs).toFixed(3)} ms/req`)
}
await gw.close()
for (const c of children) c.kill()
