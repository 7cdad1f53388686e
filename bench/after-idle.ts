/**
 * A burst after a pause: two no-auth gateways on one upstream, one started with the node flags
 * `npm start` passes (cli/node-flags.ts), one without. Both are warmed up, then each cycle leaves
 * them idle for IDLE seconds and sends each a one-second burst at RATE req/s (open loop, in
 * alternating order). Without --no-memory-reducer, V8's memory reducer collects an idle gateway's
 * optimized code, and a burst after a few idle minutes runs unoptimized and recompiles: its CPU per
 * request doubles and its requests queue. Prints each burst's p50, p99 and slowest request and the
 * gateway's CPU over the burst, then each gateway's worst burst and how many of its bursts took
 * over 1.5x its median CPU (the reducer acts after an idle period or two, not after every one).
 *   node --import tsx bench/after-idle.ts [cycles=5] [idle seconds=40] [rate=3000]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { loadAtRate, quantileOf } from './load.ts'
import { noAuthConfig } from './configs.ts'
import { killAll, median, spawnServer, treeCpuMs } from './procs.ts'

const [cyclesText = '5', idleText = '40', rateText = '3000'] = process.argv.slice(2)
const [CYCLES, IDLE_S, RATE] = [Number(cyclesText), Number(idleText), Number(rateText)]
const ROOT = path.resolve(import.meta.dirname, '..')
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-after-idle-'))
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

try {
  const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
  const config = path.join(dir, 'gateway.yaml')
  await writeFile(config, noAuthConfig(`http://127.0.0.1:${upstream.port}/v1`))
  const start = (gatewayFlags: boolean) =>
    spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, { cwd: ROOT, gatewayFlags, env: { LOG_LEVEL: 'warn' } })
  const targets = [
    { name: 'with the gateway\'s node flags', server: await start(true), bursts: [] as { p50: number; p99: number; max: number; cpuMs: number }[] },
    { name: 'without (V8 defaults)', server: await start(false), bursts: [] as { p50: number; p99: number; max: number; cpuMs: number }[] },
  ]
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })
  const burst = async (t: (typeof targets)[number], seconds: number) => {
    const cpu0 = treeCpuMs(t.server.child.pid!)
    const run = await loadAtRate({ url: `http://127.0.0.1:${t.server.port}/v1/chat/completions`, rate: RATE, seconds, connections: 50, method: 'POST', headers: { 'content-type': 'application/json' }, body })
    if (run.failed) throw new Error(`${t.name}: ${run.failed} requests failed`)
    return { p50: quantileOf(run.times, 0.5), p99: quantileOf(run.times, 0.99), max: quantileOf(run.times, 1), cpuMs: treeCpuMs(t.server.child.pid!) - cpu0 }
  }
  console.log(`a ${RATE} req/s burst of 1 s after ${IDLE_S} s idle, ${CYCLES} cycles (warm-up: 3 s each)`)
  for (const t of targets) await burst(t, 3)
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    await sleep(IDLE_S * 1000)
    for (const t of cycle % 2 ? targets : [...targets].reverse()) {
      const r = await burst(t, 1)
      t.bursts.push(r)
      console.log(`cycle ${cycle}  ${t.name.padEnd(32)} p50 ${r.p50.toFixed(1).padStart(6)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms  max ${r.max.toFixed(1).padStart(6)} ms  CPU ${String(r.cpuMs).padStart(5)} ms`)
    }
  }
  for (const t of targets) {
    const worst = t.bursts.reduce((a, b) => (b.p99 > a.p99 ? b : a))
    const cpu = median(t.bursts.map((b) => b.cpuMs))
    console.log(`${t.name.padEnd(32)} worst burst p50 ${worst.p50.toFixed(1)} ms, p99 ${worst.p99.toFixed(1)} ms, CPU ${worst.cpuMs} ms; bursts over 1.5x the median CPU (${cpu} ms): ${t.bursts.filter((b) => b.cpuMs > 1.5 * cpu).length} of ${t.bursts.length}`)
  }
} finally {
  killAll()
  await rm(dir, { recursive: true, force: true })
}
