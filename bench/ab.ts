/**
 * Two gateway checkouts (or configs) side by side on the same upstream, interleaved rounds, CPU µs
 * per request of each: node --import tsx bench/ab.ts DIR_A DIR_B [rounds] [seconds]
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { killAll, median, spawnServer, treeCpuMs } from './procs.ts'

const [a, b, roundsText = '5', secondsText = '3'] = process.argv.slice(2)
const ROOT = path.resolve(import.meta.dirname, '..')
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-ab-'))
const config = path.join(dir, 'gateway.yaml')
await writeFile(config, `version: 1\nproviders:\n  up: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }\nroutes:\n  - model: bench\n    targets: [ { provider: up, model: bench-model } ]\n`)
const start = (root: string) => spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, { cwd: path.resolve(root) })
const servers = [await start(a), await start(b)]
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })
const samples: { rps: number; cpuUs: number }[][] = [[], []]
for (let round = -1; round < Number(roundsText); round++) {
  for (const [i, s] of servers.entries()) {
    const cpu0 = treeCpuMs(s.child.pid!)
    const r = await autocannon({ url: `http://127.0.0.1:${s.port}/v1/chat/completions`, connections: 50, duration: Number(secondsText), method: 'POST', headers: { 'content-type': 'application/json' }, body })
    if (round >= 0) samples[i].push({ rps: r.requests.average, cpuUs: ((treeCpuMs(s.child.pid!) - cpu0) * 1000) / Math.max(1, r.requests.total) })
  }
}
for (const [i, root] of [a, b].entries()) {
  console.log(`${root}: ${median(samples[i].map((x) => x.rps)).toFixed(0)} req/s, ${median(samples[i].map((x) => x.cpuUs)).toFixed(0)} µs CPU/req (each round: ${samples[i].map((x) => x.cpuUs.toFixed(0)).join(' ')})`)
}
killAll()
