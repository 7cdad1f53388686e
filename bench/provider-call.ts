/**
 * The provider call alone, in this process: provider.openai's chat() against the bench upstream
 * (its own process), 10 calls in flight, CPU time per call from process.cpuUsage. With a second
 * checkout (an older commit), its provider.openai runs in alternating blocks beside this one's,
 * so both see the same machine: the fast path's saving without the rest of the gateway. This
 * checkout's same-wire passthrough (`native['openai-chat']`, the answer kept as bytes, only usage
 * read) runs as a third subject when the provider has one.
 * Usage: node --import tsx bench/provider-call.ts [OTHER_CHECKOUT] [blocks] [calls per block]
 * PROVIDER_CALL_STREAM=1 asks for streamed answers and reads each stream to its end (set
 * BENCH_STREAM_DELAY_MS=0 too, or the upstream's 20 ms between words makes each block long).
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { PluginManifest, Provider, ProviderCall } from '../plugin-api/index.ts'
import { testPluginContext } from '../test/helpers/plugin-context.ts'
import { killAll, median, spawnServer } from './procs.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const [other, blocksText = '10', callsText = '2000'] = process.argv.slice(2)
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const config = { api_key: 'bench', base_url: `http://127.0.0.1:${upstream.port}/v1`, timeout_ms: 60_000 }

async function providerFrom(root: string): Promise<Provider> {
  const { default: plugin } = (await import(pathToFileURL(path.join(root, 'plugins/providers/openai/index.ts')).href)) as { default: PluginManifest<typeof config, Provider> }
  return plugin.setup(testPluginContext({ id: 'provider.openai', name: 'up' }), config)
}

const subjects: { name: string; provider: Provider; passthrough?: boolean }[] = [{ name: 'this checkout', provider: await providerFrom(ROOT) }]
if (subjects[0].provider.native?.['openai-chat']) subjects.push({ name: 'this checkout, passthrough', provider: subjects[0].provider, passthrough: true })
if (other) subjects.push({ name: other, provider: await providerFrom(path.resolve(other)) })
const stream = process.env.PROVIDER_CALL_STREAM === '1'
const request = { model: 'bench-model', ...(stream ? { stream } : {}), messages: [{ role: 'user' as const, content: 'Say something about foxes.' }] }
const drain = async (events: unknown): Promise<void> => {
  if (stream) for await (const _ of events as AsyncIterable<unknown>) { /* read to the end */ }
}
const call = (): ProviderCall => ({ signal: new AbortController().signal, requestId: 'bench', unsupported: () => {} })

async function block({ provider, passthrough }: { provider: Provider; passthrough?: boolean }, calls: number): Promise<number> {
  const cpu = process.cpuUsage()
  let next = 0
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (next++ < calls) {
      if (passthrough) {
        const result = await provider.native!['openai-chat'](request, call())
        await drain(result.events)
        result.usage()
      } else await drain(await provider.chat(request, call()))
    }
  }))
  const used = process.cpuUsage(cpu)
  return (used.user + used.system) / calls
}

const samples = subjects.map(() => [] as number[])
for (let b = -1; b < Number(blocksText); b++) {
  for (const [i, s] of subjects.entries()) {
    const us = await block(s, Number(callsText))
    if (b >= 0) samples[i].push(us)
  }
}
for (const [i, s] of subjects.entries()) {
  console.log(`${s.name}: ${median(samples[i]).toFixed(0)} µs CPU per call (blocks: ${samples[i].map((x) => x.toFixed(0)).join(' ')})`)
}
for (let j = 1; j < subjects.length; j++) {
  const ratios = samples[0].map((x, i) => x / samples[j][i])
  console.log(`this / ${subjects[j].name}, block by block: median ${median(ratios).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})`)
}
for (const s of subjects) if (!s.passthrough) await s.provider.dispose?.()
killAll()
