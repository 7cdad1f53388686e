/**
 * Syscalls per request, bare proxy against the gateway (no auth, openai provider to the bench
 * upstream): node --import tsx bench/syscalls.ts [seconds]. Each server runs under `strace -c -f`
 * for a fixed number of requests at 10 connections; the table is its syscalls divided by requests.
 * A request's kernel time is most of what separates a proxy from another on this VM.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { killAll, spawnServer } from './procs.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const REQUESTS = Number(process.argv[2] ?? 5000)
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-sc-'))
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const config = path.join(dir, 'gateway.yaml')
await writeFile(config, `version: 1\nproviders:\n  upstream: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }\nroutes:\n  - model: bench\n    targets: [ { provider: upstream, model: bench-model } ]\n`)
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })

async function measure(name: string, args: string[], ready: RegExp, port?: number): Promise<void> {
  const server = await spawnServer(args, ready, { cwd: ROOT, ...(port ? { port } : {}) })
  const url = `http://127.0.0.1:${server.port}/v1/chat/completions`
  await autocannon({ url, connections: 10, amount: 2000, method: 'POST', headers: { 'content-type': 'application/json' }, body })
  const out = path.join(dir, `${name}.strace`)
  const strace = spawn('strace', ['-c', '-f', '-o', out, '-p', String(server.child.pid)], { stdio: 'ignore' })
  await new Promise((r) => setTimeout(r, 500))
  await autocannon({ url, connections: 10, amount: REQUESTS, method: 'POST', headers: { 'content-type': 'application/json' }, body })
  strace.kill('SIGINT')
  await new Promise((r) => strace.once('exit', r))
  const { readFile } = await import('node:fs/promises')
  const lines = (await readFile(out, 'utf8')).split('\n').filter((l) => /^\s*[\d.]+\s+[\d.]+\s+\d+\s+\d+/.test(l))
  console.log(`-- ${name}: syscalls per request`)
  for (const l of lines) {
    const f = l.trim().split(/\s+/)
    const calls = Number(f[3])
    const sc = f[f.length - 1]
    if (calls / REQUESTS >= 0.05) console.log(`  ${sc.padEnd(16)} ${(calls / REQUESTS).toFixed(2)}`)
  }
  server.child.kill('SIGKILL')
}

const { freePort } = await import('./procs.ts')
const barePort = await freePort()
await measure('bare', ['--import', 'tsx', 'bench/bare-proxy.ts', String(barePort), String(upstream.port)], /listening (\d+)/)
await measure('gateway', ['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/)
killAll()
