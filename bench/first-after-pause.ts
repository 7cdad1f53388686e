/**
 * Sporadic traffic: the full pipeline (a virtual key, a limit, usage to PostgreSQL), warmed with 300
 * requests, then one request after each idle pause, and three more right after it. After a pause
 * longer than the key cache's 30 s, the first request waits for the key's lookup; with the store
 * keeping one connection open (store.postgres `idle_timeout_ms`), not also for a new connection.
 *   IDLES=5,35,35,35 node --import tsx bench/first-after-pause.ts    (KEY_TTL_S=3600: no lookup)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { dropSchema, fullPipelineConfig, virtualKey } from './configs.ts'
import { killAll, spawnServer } from './procs.ts'
const ROOT = path.resolve(import.meta.dirname, '..')
const DATABASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-first-after-pause-'))
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: ROOT })
const schema = `bench_pause_${process.pid}`
await writeFile(path.join(dir, 'full.yaml'), fullPipelineConfig({ database: DATABASE, schema, upstreamBase: `http://127.0.0.1:${upstream.port}/v1`, adminKey: 'admin-key-pause-0123456789', keyCacheTtlS: process.env.KEY_TTL_S ? Number(process.env.KEY_TTL_S) : undefined }))
const gw = await spawnServer(['bin/gateway.js', 'start', '--config', path.join(dir, 'full.yaml'), '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, { cwd: ROOT })
const key = await virtualKey(gw.port, 'admin-key-pause-0123456789')
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })
const { Agent } = await import('undici')
const agent = new Agent({ keepAliveTimeout: 120_000, keepAliveMaxTimeout: 120_000 })
const once = async () => { const t = performance.now(); const r = await fetch(`http://127.0.0.1:${gw.port}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body, dispatcher: agent } as RequestInit); await r.text(); if (r.status !== 200) throw new Error(String(r.status)); return performance.now() - t }
try {
  for (let i = 0; i < 300; i++) await once()
  for (const idle of (process.env.IDLES ?? '5,35,35,35').split(',').map(Number)) {
    await new Promise((r) => setTimeout(r, idle * 1000))
    const first = await once(); const next = [await once(), await once(), await once()]
    console.log(`after ${idle}s: first ${first.toFixed(1)} ms, next ${next.map((x) => x.toFixed(1)).join(' / ')} ms`)
  }
} finally {
  killAll()
  await dropSchema(DATABASE, schema)
  await rm(dir, { recursive: true, force: true })
}
