/**
 * npm run bench: the gateway against the floor (the mock upstream directly) and the least any
 * Node gateway can cost (a bare pass-through proxy), in the same run on the same machine.
 * Each server runs in its own process; load comes from autocannon in this one.
 *
 * Env: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 50).
 * These machines are noisy: compare the ratios within one run, not absolute numbers across runs.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { conversationRows } from './conversations.ts'

const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const ROOT = path.resolve(import.meta.dirname, '..')
const children: ChildProcess[] = []

function spawnServer(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let out = ''
    const onData = (d: Buffer) => {
      out += d
      const m = ready.exec(out)
      if (m) resolve({ child, port: Number(m[1]) })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${out}`)))
  })
}

const CHAT = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })

async function load(name: string, url: string, body = CHAT, extraHeaders: Record<string, string> = {}): Promise<{ name: string; rps: number; p50: number; p99: number; errors: number }> {
  const headers = { 'content-type': 'application/json', ...extraHeaders }
  // Warm up (JIT, connection pools), then measure.
  await autocannon({ url, connections: CONNECTIONS, duration: 2, method: 'POST', headers, body })
  const r = await autocannon({ url, connections: CONNECTIONS, duration: DURATION, method: 'POST', headers, body })
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts }
}

/** Time to first byte of a streamed chat completion, over sequential requests. */
async function ttfb(name: string, port: number, n = 50): Promise<{ name: string; p50: number; p99: number }> {
  const body = JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'stream please' }] })
  const agent = new http.Agent({ keepAlive: true })
  const times: number[] = []
  for (let i = 0; i < n + 5; i++) {
    const ms = await new Promise<number>((resolve, reject) => {
      const start = performance.now()
      const req = http.request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        let first = 0
        res.on('data', () => { first ||= performance.now() - start })
        res.on('end', () => resolve(first))
      })
      req.on('error', reject)
      req.end(body)
    })
    if (i >= 5) times.push(ms)
  }
  agent.destroy()
  times.sort((a, b) => a - b)
  return { name, p50: times[Math.floor(n * 0.5)], p99: times[Math.min(n - 1, Math.floor(n * 0.99))] }
}

function peakRssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024)
}

async function main(): Promise<void> {
  const tsx = ['--import', 'tsx']
  const upstream = await spawnServer([...tsx, 'bench/upstream.ts', '0'], /listening (\d+)/)
  const bare = await spawnServer([...tsx, 'bench/bare-proxy.ts', '0', String(upstream.port)], /listening (\d+)/)
  const hasOpenAI = existsSync(path.join(ROOT, 'plugins/providers/openai/index.ts'))
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-bench-'))
  const config = path.join(dir, 'gateway.yaml')
  await writeFile(config, `version: 1
providers:
  mock: { plugin: mock }
${hasOpenAI ? `  upstream: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstream.port}/v1" }\n` : ''}routes:
  - model: bench
    targets: [ { provider: ${hasOpenAI ? 'upstream' : 'mock'}, model: bench-model } ]
  - model: bench-mock
    targets: [ { provider: mock } ]
  - model: bench-cached
    cache: true
    targets: [ { provider: ${hasOpenAI ? 'upstream' : 'mock'}, model: bench-model } ]
cache: { plugin: memory }
`)
  const gateway = await spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/)
  const url = (port: number) => `http://127.0.0.1:${port}/v1/chat/completions`

  console.log(`bench: ${CONNECTIONS} connections, ${DURATION} s each, ${os.cpus().length} cores; gateway route 'bench' -> ${hasOpenAI ? 'openai plugin -> mock upstream' : 'mock plugin (no openai plugin yet)'}\n`)
  const rows = [
    await load('upstream (floor)', url(upstream.port)),
    await load('bare node proxy', url(bare.port)),
    await load('gateway', url(gateway.port)),
    await load('gateway, mock plugin (no upstream)', url(gateway.port), CHAT.replace('"bench"', '"bench-mock"')),
    // Every request after the first is a cache hit (the route opts in with `cache: true`).
    await load('gateway, cache hit', url(gateway.port), CHAT.replace('"bench"', '"bench-cached"')),
  ]
  console.log('target                                  req/s     p50 ms   p99 ms   errors')
  for (const r of rows) console.log(`${r.name.padEnd(38)} ${r.rps.toFixed(0).padStart(7)} ${r.p50.toFixed(1).padStart(9)} ${r.p99.toFixed(1).padStart(8)} ${String(r.errors).padStart(8)}`)
  const [, b, g] = rows
  console.log(`\ngateway / bare proxy: throughput ${(g.rps / b.rps * 100).toFixed(1)}%, p99 ${(g.p99 / b.p99).toFixed(2)}x (aim: >= 80%, <= 1.5x)`)
  const hit = rows[4]
  console.log(`cache hit / gateway calling the upstream: throughput ${(hit.rps / g.rps).toFixed(2)}x, p50 ${hit.p50.toFixed(1)} vs ${g.p50.toFixed(1)} ms (aim: a hit is faster)`)

  const streams = [await ttfb('upstream (floor)', upstream.port), await ttfb('bare node proxy', bare.port), await ttfb('gateway', gateway.port)]
  console.log('\nstreaming time to first byte (sequential)   p50 ms   p99 ms')
  for (const s of streams) console.log(`${s.name.padEnd(42)} ${s.p50.toFixed(2).padStart(8)} ${s.p99.toFixed(2).padStart(8)}`)
  console.log(`gateway TTFB overhead vs bare proxy: p50 +${(streams[2].p50 - streams[1].p50).toFixed(2)} ms, p99 +${(streams[2].p99 - streams[1].p99).toFixed(2)} ms`)
  console.log(`\ngateway peak RSS: ${peakRssMb(gateway.child.pid)} MB`)

  if (process.env.BENCH_AUTH !== '0') await authRows(dir, upstream.port, hasOpenAI)
  if (process.env.BENCH_ROUTING !== '0') await routingAndUsageRows(dir, upstream.port)
  if (process.env.BENCH_CONVERSATIONS !== '0') await conversationRows(dir, upstream.port, children)
}

/**
 * Authentication's cost, on the mock route (where the gateway's own work is most of the cost, so
 * auth's share shows most). Each variant is a gateway process of its own (auth applies to a whole
 * gateway), compared with a baseline that differs only in auth: a JWT checked against a local
 * issuer's JWKS (with the verified-token cache, the default, and verifying every request) against
 * no auth; a virtual API key (looked up once, then cached) against no auth with the same store,
 * since a store also records every request's usage. Besides throughput, the gateway's own CPU time
 * per request (from /proc): on a shared machine it drifts far less than req/s. Variants run
 * interleaved in short rounds, each reporting its median. Skip with BENCH_AUTH=0.
 */
async function authRows(dir: string, upstreamPort: number, hasOpenAI: boolean): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' }
  const jwks = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })) })
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(jwks.address() as { port: number }).port}`
  const adminKey = 'bench-admin-key-0123456789abcdef'
  const gatewayWith = async (name: string, auth: string, extra = ''): Promise<{ url: string; pid: number }> => {
    const file = path.join(dir, `${name}.yaml`)
    await writeFile(file, `version: 1
${extra}providers:
  mock: { plugin: mock }
${hasOpenAI ? `  upstream: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstreamPort}/v1" }\n` : ''}routes:
  - model: bench
    targets: [ { provider: ${hasOpenAI ? 'upstream' : 'mock'}, model: bench-model } ]
  - model: bench-mock
    targets: [ { provider: mock } ]
${auth ? `auth:\n  strategies:\n${auth}` : ''}`)
    const { child, port } = await spawnServer(['bin/gateway.js', 'start', '--config', file, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/)
    return { url: `http://127.0.0.1:${port}/v1/chat/completions`, pid: child.pid! }
  }
  const store = (name: string) => `store: { plugin: embedded, path: ${JSON.stringify(path.join(dir, name))}, vector: false }\n`

  const open = await gatewayWith('no-auth', '')
  const stored = await gatewayWith('no-auth-store', '', store('data-open'))
  const keyed = await gatewayWith('api-key', `    - { plugin: api-key, keys: [ { key: ${adminKey}, user: bench, role: admin } ] }\n`, `${store('data-keyed')}services: { keys: {} }\n`)
  const created = await fetch(keyed.url.replace('/v1/chat/completions', '/api/v1/keys'), { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench', role: 'user' }) })
  const virtualKey = ((await created.json()) as { data: { key: string } }).data.key
  const jwtBlock = (ttl: number) => `    - { plugin: jwt, issuer: ${issuer}, audience: bench, jwks_uri: "${issuer}/keys", cache_ttl_s: ${ttl} }\n`
  const jwtCached = await gatewayWith('jwt', jwtBlock(60))
  const jwtEvery = await gatewayWith('jwt-verify', jwtBlock(0))
  const token = await new SignJWT({ sub: 'bench-user' }).setProtectedHeader({ alg: 'RS256', kid: 'bench' }).setIssuer(issuer).setAudience('bench').setIssuedAt().setExpirationTime('1h').sign(privateKey)

  const mock = CHAT.replace('"bench"', '"bench-mock"')
  const jwtHeaders = { authorization: `Bearer ${token}` }
  const variants = [
    { name: 'no auth', gateway: open, headers: {}, baseline: 0 },
    { name: '  + jwt (token cache, default)', gateway: jwtCached, headers: jwtHeaders, baseline: 0 },
    { name: '  + jwt (verify every request)', gateway: jwtEvery, headers: jwtHeaders, baseline: 0 },
    { name: 'no auth, embedded store', gateway: stored, headers: {}, baseline: 3 },
    { name: '  + api-key (virtual key, cached)', gateway: keyed, headers: { authorization: `Bearer ${virtualKey}` }, baseline: 3 },
  ]
  const cpuMs = (pid: number): number => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10 // utime + stime, in 10 ms ticks
  }
  const run = async (v: (typeof variants)[number], duration: number) => {
    const before = cpuMs(v.gateway.pid)
    const r = await autocannon({ url: v.gateway.url, connections: CONNECTIONS, duration, method: 'POST', headers: { 'content-type': 'application/json', ...v.headers }, body: mock })
    return { rps: r.requests.average, cpuUs: ((cpuMs(v.gateway.pid) - before) * 1000) / Math.max(1, r.requests.total), errors: r.errors + r.non2xx + r.timeouts }
  }
  for (const v of variants) await run(v, 2)
  const rounds = Number(process.env.BENCH_AUTH_ROUNDS ?? 5)
  const slice = Math.max(2, Math.round(DURATION / 2))
  const samples = variants.map(() => [] as Awaited<ReturnType<typeof run>>[])
  for (let round = 0; round < rounds; round++) {
    for (const [i, v] of variants.entries()) samples[i].push(await run(v, slice))
  }
  jwks.close()
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
  const rps = samples.map((s) => median(s.map((x) => x.rps)))
  const cpu = samples.map((s) => median(s.map((x) => x.cpuUs)))
  console.log(`\nauthentication, mock route (median of ${rounds} interleaved ${slice} s rounds)   req/s  vs base   CPU µs/req  vs base   errors`)
  variants.forEach((v, i) => {
    const errors = samples[i].reduce((n, x) => n + x.errors, 0)
    const vs = (a: number, b: number) => (i === v.baseline ? '' : `${((a / b) * 100).toFixed(1)}%`).padStart(8)
    console.log(`${v.name.padEnd(72)} ${rps[i].toFixed(0).padStart(6)} ${vs(rps[i], rps[v.baseline])} ${cpu[i].toFixed(0).padStart(12)} ${vs(cpu[i], cpu[v.baseline])} ${String(errors).padStart(8)}`)
  })
  console.log('(aim: api-key within 5% of its baseline, jwt with a cached JWKS within 15%; CPU "vs base" is the cost ratio, 105% = 5% more work)')
}

/** CPU time (user + system) a process has used so far, in ms: steadier than req/s on a busy machine. */
function cpuMs(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // utime + stime, in 10 ms clock ticks
}

/**
 * Routing and usage accounting, through the openai plugin to the mock upstream, each variant in a
 * gateway process of its own, run in interleaved rounds (medians): a single-target route, a
 * 3-target fallback route answered by its first target, the same with the first target refusing
 * connections (one fallback per request), and the single route with usage written to PostgreSQL
 * (skipped when DATABASE_URL does not answer). Also the gateway's CPU per request. BENCH_ROUTING=0 skips.
 */
async function routingAndUsageRows(dir: string, upstreamPort: number): Promise<void> {
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}/v1`
  const deadUrl = 'http://127.0.0.1:9/v1'
  const gatewayWith = async (name: string, yaml: string) => {
    const file = path.join(dir, `${name}.yaml`)
    await writeFile(file, `version: 1\n${yaml}`)
    const { child, port } = await spawnServer(['bin/gateway.js', 'start', '--config', file, '--port', '0', '--no-watch'], /listening on http:\/\/[^:]+:(\d+)/)
    return { pid: child.pid, url: `http://127.0.0.1:${port}/v1/chat/completions` }
  }
  const providers = `providers:\n  up1: { plugin: openai, api_key: b, base_url: "${upstreamUrl}" }\n  up2: { plugin: openai, api_key: b, base_url: "${upstreamUrl}" }\n  up3: { plugin: openai, api_key: b, base_url: "${upstreamUrl}" }\n  dead: { plugin: openai, api_key: b, base_url: "${deadUrl}" }\n`
  const route = (targets: string) => `routes:\n  - model: bench\n    strategy: fallback\n    circuit: { failures: 1000000, window_s: 1 }\n    targets: [ ${targets} ]\n`
  const variants: { name: string; pid: number | undefined; url: string }[] = [
    { name: 'single target', ...(await gatewayWith('single', providers + route('{ provider: up1, model: bench-model }'))) },
    { name: '3-target fallback, first answers', ...(await gatewayWith('fallback3', providers + route('{ provider: up1, model: bench-model }, { provider: up2, model: bench-model }, { provider: up3, model: bench-model }'))) },
    { name: '3-target fallback, first refuses', ...(await gatewayWith('fallback3-dead', providers + route('{ provider: dead, model: bench-model }, { provider: up2, model: bench-model }, { provider: up3, model: bench-model }'))) },
  ]
  const database = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
  const pgUp = await import('pg').then(async ({ default: pg }) => {
    const client = new pg.Client({ connectionString: database, connectionTimeoutMillis: 2000 })
    try { await client.connect(); await client.end(); return true } catch { return false }
  })
  const schema = `bench_usage_${process.pid}`
  if (pgUp) variants.push({ name: 'single target + usage to PostgreSQL', ...(await gatewayWith('usage', `store: { plugin: postgres, url: "${database}", schema: ${schema} }\n` + providers + route('{ provider: up1, model: bench-model }'))) })

  const rounds = Number(process.env.BENCH_ROUTING_ROUNDS ?? 3)
  const slice = Math.max(2, Math.round(DURATION / 2))
  const samples = variants.map(() => [] as { rps: number; p50: number; p99: number; errors: number; cpu: number }[])
  for (const v of variants) await autocannon({ url: v.url, connections: CONNECTIONS, duration: 2, method: 'POST', headers: { 'content-type': 'application/json' }, body: CHAT })
  for (let round = 0; round < rounds; round++) {
    for (const [i, v] of variants.entries()) {
      const cpu0 = cpuMs(v.pid)
      const r = await autocannon({ url: v.url, connections: CONNECTIONS, duration: slice, method: 'POST', headers: { 'content-type': 'application/json' }, body: CHAT })
      samples[i].push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx + r.timeouts, cpu: (cpuMs(v.pid) - cpu0) / Math.max(1, r.requests.total) })
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
  console.log('\nrouting and usage (openai plugin -> upstream)  req/s   p50 ms   p99 ms   errors   CPU ms/req')
  const rows = variants.map((v, i) => ({ name: v.name, rps: median(samples[i].map((x) => x.rps)), p50: median(samples[i].map((x) => x.p50)), p99: median(samples[i].map((x) => x.p99)), errors: samples[i].reduce((n, x) => n + x.errors, 0), cpu: median(samples[i].map((x) => x.cpu)) }))
  for (const r of rows) console.log(`${r.name.padEnd(44)} ${r.rps.toFixed(0).padStart(6)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${String(r.errors).padStart(8)} ${r.cpu.toFixed(3).padStart(11)}`)
  const [single, , , usage] = rows
  if (usage) console.log(`usage accounting to PostgreSQL moves p99 by ${(((usage.p99 - single.p99) / single.p99) * 100).toFixed(1)}% (aim: within 10%)`)
  if (pgUp) {
    const { default: pg } = await import('pg')
    const client = new pg.Client(database)
    await client.connect()
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end())
  }
}

main()
  .catch((err) => { console.error(err); process.exitCode = 1 })
  .finally(() => { for (const c of children) c.kill('SIGKILL') })
