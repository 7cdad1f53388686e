/**
 * What each provider's path costs: one no-auth gateway, the same chat completion sent to each
 * provider in turn at 50 connections on the same bench upstream (openai, its passthrough; anthropic,
 * gemini and mistral, translated both ways; Azure OpenAI, openai-compatible with api_version), and
 * Anthropic's Messages API to the anthropic provider (relayed). Prints each one's req/s and the
 * gateway's CPU per request, and that CPU against the openai route's in the same round.
 * node --import tsx bench/providers.ts [rounds] [seconds]
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { load } from './load.ts'
import { killAll, median, spawnServer, treeCpuMs } from './procs.ts'

const [roundsText = '5', secondsText = '3'] = process.argv.slice(2)
const ROOT = path.resolve(import.meta.dirname, '..')
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-providers-'))
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const config = path.join(dir, 'gateway.yaml')
await writeFile(config, `version: 1
providers:
  up: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }
  claude: { plugin: anthropic, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}" }
  gemini: { plugin: gemini, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}" }
  mistral: { plugin: mistral, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }
  azure: { plugin: openai-compatible, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}", api_version: "2024-10-21" }
routes:
  - model: bench
    targets: [ { provider: up, model: bench-model } ]
  - model: bench-claude
    targets: [ { provider: claude, model: bench-model } ]
  - model: bench-gemini
    targets: [ { provider: gemini, model: bench-model } ]
  - model: bench-mistral
    targets: [ { provider: mistral, model: bench-model } ]
  - model: bench-azure
    targets: [ { provider: azure, model: bench-deployment } ]
`)
const gateway = await spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, { cwd: ROOT })
const base = `http://127.0.0.1:${gateway.port}`
const messages = [{ role: 'user', content: 'Say something about foxes.' }]
const calls = [
  { name: 'chat completions -> openai', path: '/v1/chat/completions', body: { model: 'bench', messages } },
  { name: 'chat completions -> anthropic', path: '/v1/chat/completions', body: { model: 'bench-claude', messages } },
  { name: 'messages -> anthropic', path: '/v1/messages', body: { model: 'bench-claude', max_tokens: 256, messages } },
  { name: 'chat completions -> gemini', path: '/v1/chat/completions', body: { model: 'bench-gemini', messages } },
  { name: 'chat completions -> mistral', path: '/v1/chat/completions', body: { model: 'bench-mistral', messages } },
  { name: 'chat completions -> azure', path: '/v1/chat/completions', body: { model: 'bench-azure', messages } },
]
const samples = calls.map(() => [] as { rps: number; cpuUs: number }[])
for (let round = -1; round < Number(roundsText); round++) {
  const order = round % 2 !== 0 ? [...calls.entries()].reverse() : [...calls.entries()]
  for (const [i, call] of order) {
    const cpu0 = treeCpuMs(gateway.child.pid!)
    const { result: r } = await load({ url: base + call.path, connections: 50, duration: Number(secondsText), method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(call.body) })
    if (r.non2xx + r.errors) throw new Error(`${call.name}: ${r.non2xx} non-2xx answers, ${r.errors} errors`)
    if (round >= 0) samples[i].push({ rps: r.requests.average, cpuUs: ((treeCpuMs(gateway.child.pid!) - cpu0) * 1000) / Math.max(1, r.requests.total) })
  }
}
console.log(`load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`)
for (const [i, call] of calls.entries()) {
  const vsOpenAI = samples[i].map((x, r) => x.cpuUs / samples[0][r].cpuUs)
  console.log(`${call.name.padEnd(32)} ${median(samples[i].map((x) => x.rps)).toFixed(0).padStart(6)} req/s  ${median(samples[i].map((x) => x.cpuUs)).toFixed(0).padStart(4)} µs CPU/req  CPU vs openai ${median(vsOpenAI).toFixed(2)}x`)
}
killAll()
