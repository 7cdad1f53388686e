/**
 * How far the gateway is from the least its stack allows: the bare proxy, the stack floor
 * (bench/stack-floor.ts: Koa, the body parsed and its model rewritten, undici's Agent; nothing of
 * the gateway) and the gateway's no-auth route, interleaved rounds at 50 connections on the same
 * upstream: node --import tsx bench/floor.ts [rounds] [seconds]
 * Prints each one's req/s and CPU per request, and each round's req/s against the bare proxy's.
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { load } from './load.ts'
import { noAuthConfig } from './configs.ts'
import { killAll, median, spawnServer, treeCpuMs } from './procs.ts'

const [roundsText = '5', secondsText = '3'] = process.argv.slice(2)
const ROOT = path.resolve(import.meta.dirname, '..')
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-floor-'))
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const config = path.join(dir, 'gateway.yaml')
await writeFile(config, noAuthConfig(`http://127.0.0.1:${upstream.port}/v1`))
const targets = [
  { name: 'bare node proxy', server: await spawnServer(['--import', 'tsx', 'bench/bare-proxy.ts', '0', String(upstream.port)], /listening (\d+)/, { cwd: ROOT }) },
  { name: 'stack floor (Koa, undici)', server: await spawnServer(['--import', 'tsx', 'bench/stack-floor.ts', '0', String(upstream.port)], /listening (\d+)/, { cwd: ROOT }) },
  { name: 'gateway, no auth', server: await spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, { cwd: ROOT }) },
]
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })
const samples = targets.map(() => [] as { rps: number; cpuUs: number; p99: number }[])
for (let round = -1; round < Number(roundsText); round++) {
  const order = round % 2 !== 0 ? [...targets.entries()].reverse() : [...targets.entries()]
  for (const [i, t] of order) {
    const cpu0 = treeCpuMs(t.server.child.pid!)
    const { result: r, p99 } = await load({ url: `http://127.0.0.1:${t.server.port}/v1/chat/completions`, connections: 50, duration: Number(secondsText), ...(process.env.AB_RATE ? { overallRate: Number(process.env.AB_RATE) } : {}), method: 'POST', headers: { 'content-type': 'application/json' }, body })
    if (r.non2xx + r.errors) throw new Error(`${t.name}: ${r.non2xx} non-2xx answers, ${r.errors} errors`)
    if (round >= 0) samples[i].push({ rps: r.requests.average, p99, cpuUs: ((treeCpuMs(t.server.child.pid!) - cpu0) * 1000) / Math.max(1, r.requests.total) })
  }
}
console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`)
for (const [i, t] of targets.entries()) {
  const vsBare = samples[i].map((x, r) => x.rps / samples[0][r].rps)
  const p99 = samples[i].map((x, r) => x.p99 / samples[0][r].p99)
  console.log(`${t.name.padEnd(28)} ${median(samples[i].map((x) => x.rps)).toFixed(0).padStart(6)} req/s  vs bare ${(median(vsBare) * 100).toFixed(0).padStart(3)}%  p99 vs bare ${median(p99).toFixed(2)}x  ${median(samples[i].map((x) => x.cpuUs)).toFixed(0).padStart(4)} µs CPU/req`)
}
killAll()
