/**
 * npm run bench: the gateway against the floor (the mock upstream directly) and the least any
 * Node gateway can cost (a bare pass-through proxy), in the same run on the same machine.
 * Each server runs in its own process; load comes from autocannon in this one.
 *
 * Env: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50).
 * These machines are noisy: compare the ratios within one run, not absolute numbers across runs.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'

const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const ROOT = path.resolve(import.meta.dirname, '..')
const children: ChildProcess[] = []

function spawnServer(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let out = ''
    const onData = (d: Buffer) => {
      out += d
      const m = ready.exec(out)
      if (m) resolve({ child, port: Number(m[1]) })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)))
  })
}

const CHAT = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })

async function load(name: string, url: string, body = CHAT): Promise<{ name: string; rps: number; p50: number; p99: number; errors: number }> {
  // Warm up (JIT, connection pools), then measure.
  await autocannon({ url, connections: CONNECTIONS, duration: 2, method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, method: 'POST', headers: { 'content-type': 'application/json' }, body })
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts }
}

/** Time to first byte of a streamed chat completion, over sequential requests. */
async function ttfb(name: string, port: number, n = 50): Promise<{ name: string; p50: number; p99: number }> {
  const body = JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'stream please' }] })
  const agent = new http.Agent({ keepAlive: true })
  const times: number[] = []
  for (let i = 0; i < n + 5; i++) {
    const ms = await new Promise<number>((resolve, reject) => {
      const start = performance.now()
      const req = http.request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        let first = 0
        res.on('data', () => { first ||= performance.now() - start })
        res.on('end', () => resolve(first))
      })
      req.on('error', reject)
      req.end(body)
    })
    if (i >= 5) times.push(ms)
  }
  agent.destroy()
  times.sort((a, b) => a - b)
  return { name, p50: times[Math.floor(n * 0.5)], p99: times[Math.min(n - 1, Math.floor(n * 0.99))] }
}

function peakRssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024)
}

async function main(): Promise<void> {
  const tsx = ['--import', 'tsx']
  const upstream = await spawnServer([...tsx, 'bench/upstream.ts', '0'], /listening (\d+)/)
  const bare = await spawnServer([...tsx, 'bench/bare-proxy.ts', '0', String(upstream.port)], /listening (\d+)/)
  const hasOpenAI = existsSync(path.join(ROOT, 'plugins/providers/openai/index.ts'))
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-bench-'))
  const config = path.join(dir, 'gateway.yaml')
  await writeFile(config, `version: 1
providers:
  mock: { plugin: mock }
${hasOpenAI ? `  upstream: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }\n` : ''}routes:
  - model: bench
    targets: [ { provider: ${hasOpenAI ? 'upstream' : 'mock'}, model: bench-model } ]
  - model: bench-mock
    targets: [ { provider: mock } ]
`)
  const gateway = await spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/)
  const url = (port: number) => `http://127.0.0.1:${port}/v1/chat/completions`

  console.log(`bench: ${CONNECTIONS} connections, ${DURATION} s each, ${os.cpus().length} cores; gateway route 'bench' -> ${hasOpenAI ? 'openai plugin -> mock upstream' : 'mock plugin (no openai plugin yet)'}\n`)
  const rows = [
    await load('upstream (floor)', url(upstream.port)),
    await load('bare node proxy', url(bare.port)),
    await load('gateway', url(gateway.port)),
    await load('gateway, mock plugin (no upstream)', url(gateway.port), CHAT.replace('"bench"', '"bench-mock"')),
  ]
  console.log('target                                  req/s     p50 ms   p99 ms   errors')
  for (const r of rows) console.log(`${r.name.padEnd(38)} ${r.rps.toFixed(0).padStart(7)} ${r.p50.toFixed(1).padStart(9)} ${r.p99.toFixed(1).padStart(8)} ${String(r.errors).padStart(8)}`)
  const [, b, g] = rows
  console.log(`\ngateway / bare proxy: throughput ${(g.rps / b.rps * 100).toFixed(1)}%, p99 ${(g.p99 / b.p99).toFixed(2)}x (aim: >= 80%, <= 1.5x)`)

  const streams = [await ttfb('upstream (floor)', upstream.port), await ttfb('bare node proxy', bare.port), await ttfb('gateway', gateway.port)]
  console.log('\nstreaming time to first byte (sequential)   p50 ms   p99 ms')
  for (const s of streams) console.log(`${s.name.padEnd(42)} ${s.p50.toFixed(2).padStart(8)} ${s.p99.toFixed(2).padStart(8)}`)
  console.log(`gateway TTFB overhead vs bare proxy: p50 +${(streams[2].p50 - streams[1].p50).toFixed(2)} ms, p99 +${(streams[2].p99 - streams[1].p99).toFixed(2)} ms`)
  console.log(`\ngateway peak RSS: ${peakRssMb(gateway.child.pid)} MB`)
}

main()
  .catch((err) => { console.error(err); process.exitCode = 1 })
  .finally(() => { for (const c of children) c.kill('SIGKILL') })
