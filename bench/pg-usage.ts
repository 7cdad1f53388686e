/**
 * PostgreSQL's CPU per usage event while one full-pipeline gateway (bench/configs.ts) is under load:
 *   node --import tsx bench/pg-usage.ts ROOT [seconds]
 * ROOT: the checkout whose gateway runs (built). Every postgres process's CPU from /proc over the
 * rows the gateway inserted meanwhile (another job on the same server adds to it). EXTRA: YAML
 * appended to the config (e.g. `usage: { batch_size: 2000 }`); STAGES=1 also prints the steps'
 * mean durations from /metrics (wall time under load, not CPU).
 */
import { readFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { load } from './load.ts'
import pg from 'pg'
import { dropSchema, fullPipelineConfig, virtualKey } from './configs.ts'
import { killAll, spawnServer, treeCpuMs } from './procs.ts'
const [root, secs = '8'] = process.argv.slice(2)
const DATABASE = 'postgres://postgres@127.0.0.1:5432/test'
const ADMIN = 'bench-admin-key-0123456789abcdef'
const schema = `pgrow_${process.pid}`
const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-pgrow-'))
const upstream = await spawnServer(['--import', 'tsx', 'bench/upstream.ts', '0'], /listening (\d+)/, { cwd: path.resolve(import.meta.dirname, '..') })
const file = path.join(dir, 'full.yaml')
await writeFile(file, fullPipelineConfig({ database: DATABASE, schema, upstreamBase: `http://127.0.0.1:${upstream.port}/v1`, adminKey: ADMIN }) + (process.env.EXTRA ?? ''))
const s = await spawnServer(['bin/gateway.js', 'start', '--config', file, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/, { cwd: root })
const headers = { 'content-type': 'application/json', authorization: `Bearer ${await virtualKey(s.port, ADMIN)}` }
const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })
const c = new pg.Client(DATABASE); await c.connect()
const count = async () => Number((await c.query(`select count(*) n from "${schema}".usage_events`)).rows[0].n)
const pgCpu = (): Map<string, number> => { const m = new Map<string, number>(); for (const p of execFileSync('pgrep', ['-x', 'postgres']).toString().trim().split('\n')) { try { const st = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' '); const t = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').slice(10, 60); m.set(`${p} ${t}`, (Number(st[11]) + Number(st[12])) * 10) } catch {} } return m }
await autocannon({ url: `http://127.0.0.1:${s.port}/v1/chat/completions`, connections: 50, duration: 2, method: 'POST', headers, body })
await new Promise((r) => setTimeout(r, 1500))
const n0 = await count(); const p0 = pgCpu(); const g0 = treeCpuMs(s.child.pid!)
const { result: r, p99 } = await load({ url: `http://127.0.0.1:${s.port}/v1/chat/completions`, connections: 50, duration: Number(secs), method: 'POST', headers, body })
await new Promise((r) => setTimeout(r, 1500))
const n1 = await count(); const p1 = pgCpu(); const g1 = treeCpuMs(s.child.pid!)
const rows = n1 - n0
if (process.env.STAGES) { const m = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text(); const sums = new Map<string, number>(); const counts = new Map<string, number>(); for (const l of m.split('\n')) { const a = /^gateway_stage_seconds_total\{[^}]*step="([^"]+)"[^}]*\} ([\d.e+-]+)/.exec(l) ?? /^gateway_stage_seconds_total\{[^}]*stage="([^"]+)"[^}]*\} ([\d.e+-]+)/.exec(l); const b = /^gateway_stage_calls_total\{[^}]*(?:step|stage)="([^"]+)"[^}]*\} ([\d.e+-]+)/.exec(l); if (a) sums.set(a[1], Number(a[2])); if (b) counts.set(b[1], Number(b[2])) } for (const [k, v] of sums) console.log(`  step ${k.padEnd(20)} ${(v / (counts.get(k) ?? 1) * 1e6).toFixed(1)} µs`); if (!sums.size) console.log(m.split('\n').filter((l) => l.startsWith('gateway_stage')).slice(0, 6).join('\n')) }
let total = 0
for (const [k, v] of p1) { const d = v - (p0.get(k) ?? 0); if (d) { total += d; console.log(`  ${(d * 1000 / rows).toFixed(1).padStart(6)} µs/row  ${k}`) } }
console.log(`${r.requests.average.toFixed(0)} req/s, p99 ${p99.toFixed(1)} ms, ${rows} rows (${r.requests.total} requests): PostgreSQL ${(total * 1000 / rows).toFixed(1)} µs/row, gateway ${((g1 - g0) * 1000 / r.requests.total).toFixed(0)} µs/request`)
await c.end(); killAll(); await dropSchema(DATABASE, schema)
