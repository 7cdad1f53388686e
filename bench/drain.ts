/**
 * node --import tsx bench/drain.ts: how many requests a shutdown resets. A gateway process (the CLI,
 * mock provider) takes keep-alive load from this process for a while, then gets SIGTERM; every
 * request sent on a connection that was open is counted: answered, or reset (ECONNRESET, socket
 * hang up). New connections refused after the listener closed are counted apart: they are the
 * load balancer's business, not a reset.
 *
 * Env: DRAIN_CONNECTIONS (default 50), DRAIN_LOAD_S (seconds of load before SIGTERM, default 3).
 */
import { spawn } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'

const CONNECTIONS = Number(process.env.DRAIN_CONNECTIONS ?? 50)
const LOAD_S = Number(process.env.DRAIN_LOAD_S ?? 3)
const ROOT = path.resolve(import.meta.dirname, '..')

const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-drain-'))
const file = path.join(dir, 'gateway.yaml')
await writeFile(file, `version: 1
providers:
  mock: { plugin: mock, latency_ms: 5 }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`)
const child = spawn(process.execPath, ['bin/gateway.js', 'start', '--config', file, '--port', '0', '--no-watch'], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] })
const port = await new Promise<number>((resolve, reject) => {
  let out = ''
  child.stderr!.on('data', (d: Buffer) => {
    out += d
    const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out)
    if (m) resolve(Number(m[1]))
  })
  child.on('exit', (code) => reject(new Error(`gateway exited ${code}: ${out}`)))
})
const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))

const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS })
const body = JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hello' }] })
const counts = { ok: 0, reset: 0, refused: 0, other: 0 }
let stopping = false

function once(): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume()
      res.on('end', () => { counts.ok++; resolve() })
      res.on('error', () => { counts.reset++; resolve() })
    })
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') counts.refused++
      else if (err.code === 'ECONNRESET' || err.message === 'socket hang up') counts.reset++
      else counts.other++
      resolve()
    })
    req.end(body)
  })
}

async function loop(): Promise<void> {
  while (!stopping) {
    await once()
    if (counts.refused > 0) return
  }
}

const loops = Array.from({ length: CONNECTIONS }, loop)
await new Promise((r) => setTimeout(r, LOAD_S * 1000))
child.kill('SIGTERM')
const code = await exited
stopping = true
await Promise.all(loops)
agent.destroy()
console.log(JSON.stringify({ connections: CONNECTIONS, load_s: LOAD_S, exit_code: code, answered: counts.ok, reset: counts.reset, refused_new_connections: counts.refused, other_errors: counts.other }))
