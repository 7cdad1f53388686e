import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { PluginManifest, Provider, ProviderCall } from '../plugin-api/index.ts'
import { testPluginContext } from '../test/helpers/plugin-context.ts'
import { killAll, spawnServer } from './procs.ts'
const ROOT = path.resolve(import.meta.dirname, '..')
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const config = { api_key: 'bench', base_url: `http://127.0.0.1:${upstream.port}/v1`, timeout_ms: 60_000 }
const { default: plugin } = (await import(pathToFileURL(path.join(ROOT, process.env.DIST ? 'dist/plugins/providers/openai/index.js' : 'plugins/providers/openai/index.ts')).href)) as { default: PluginManifest<typeof config, Provider> }
const provider = await plugin.setup(testPluginContext({ id: 'provider.openai', name: 'up' }), config)
const request = { model: 'bench-model', messages: [{ role: 'user' as const, content: 'Say something about foxes.' }] }
const controller = new AbortController()
const call = (): ProviderCall => ({ signal: controller.signal, requestId: 'bench', unsupported: () => {} })
async function block(calls: number): Promise<number> {
  const cpu = process.cpuUsage(); let next = 0
  await Promise.all(Array.from({ length: 10 }, async () => { while (next++ < calls) { const r = await provider.native!['openai-chat'](request, call()); r.usage() } }))
  const u = process.cpuUsage(cpu); return (u.user + u.system) / calls
}
const out = []
for (let b = 0; b < 8; b++) out.push(await block(4000))
console.log('passthrough µs/call', out.map((x) => x.toFixed(1)).join(' '))
killAll(); process.exit(0)
