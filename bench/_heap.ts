import autocannon from 'autocannon'
import { writeFile, mkdtemp } from 'node:fs/promises'
import { killAll, spawnServer } from './procs.ts'
const ROOT = '/work/main'
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const dir = await mkdtemp('/tmp/gw-heap-')
await writeFile(dir + '/g.yaml', `version: 1\nproviders:\n  upstream: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }\nroutes:\n  - model: bench\n    targets: [ { provider: upstream, model: bench-model } ]\n`)
const gw = await spawnServer(['--import', '/tmp/heapsample.mjs', 'bin/gateway.js', 'start', '--config', dir + '/g.yaml', '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, { cwd: ROOT })
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })
const go = (amount: number) => autocannon({ url: `http://127.0.0.1:${gw.port}/v1/chat/completions`, connections: 50, amount, method: 'POST', headers: { 'content-type': 'application/json' }, body })
await go(20000)
gw.child.kill('SIGUSR2'); await new Promise((r) => setTimeout(r, 300))
const r = await go(Number(process.env.N ?? 20000))
console.log('requests', r.requests.total)
gw.child.kill('SIGWINCH'); await new Promise((r) => setTimeout(r, 3000))
killAll()
