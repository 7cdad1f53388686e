/**
 * npm run bench: the gateway against the floor (the mock upstream directly), the least any Node
 * gateway can cost (a bare pass-through proxy), the stack floor (bench/stack-floor.ts: the
 * gateway's own packages, Koa and undici, with nothing of the gateway) and, when installed, a peer gateway (Portkey's,
 * `npm --prefix bench/peer install`), all on one machine in one run. Every server runs in a process
 * of its own with its log drained and dropped (bench/procs.ts); load comes from autocannon here, with each response's time kept for exact percentiles (bench/load.ts).
 *
 * Rows run in interleaved rounds (each target for a short slice, round after round), and each
 * round's throughput is divided by the bare proxy's in the same round: on a shared machine the
 * ratios hold while absolute req/s drift. CPU µs per request is the server process tree's CPU time
 * (from /proc) over the requests it answered; it drifts far less than req/s.
 *
 * Env: BENCH_DURATION (s per row, default 10, split over BENCH_ROUNDS rounds, default 5),
 * BENCH_CONNECTIONS (default 50), BENCH_WORKERS (N > 1 adds a --workers N row), BENCH_TTFB_N
 * (streamed requests per target, default 100), BENCH_AUTH=0 / BENCH_ROUTING=0 skip those tables,
 * DATABASE_URL (the full-pipeline row's PostgreSQL; skipped when it does not answer),
 * PORTKEY_GATEWAY (path to Portkey's build/start-server.js, if not under bench/peer),
 * BENCH_COMPARE (another checkout of this gateway, e.g. an older commit: its no-auth row and TTFB
 * run beside this one's, for before/after figures from one run).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { load, loadAtRate, quantileOf } from './load.ts'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { spawnSync, type ChildProcess } from 'node:child_process'
import { dropSchema, fullPipelineConfig, virtualKey } from './configs.ts'
import { conversationRows } from './conversations.ts'
import { freePort, killAll, median, shuffledOrder, spawnServer, treeCpuMs, treeRssMb, type Server } from './procs.ts'

const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const SLICE = Math.max(1, Math.round(DURATION / ROUNDS))
const ROOT = path.resolve(import.meta.dirname, '..')
const GATEWAY_READY = /listening on http:\/\/[^:]+:(\d+)/
const DATABASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

const startGateway = (config: string, extra: string[] = [], root = ROOT): Promise<Server> =>
  spawnServer(['bin/gateway.js', 'start', '--config', config, '--port', '0', '--no-watch', ...extra], GATEWAY_READY, { cwd: root })
const startScript = (script: string, ...args: string[]): Promise<Server> =>
  spawnServer(['--import', 'tsx', script, ...args], /listening (\d+)/, { cwd: ROOT })

const CHAT = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say something about foxes.' }] })
const chatFor = (model: string): string => CHAT.replace('"bench"', JSON.stringify(model))
const chatUrl = (port: number): string => `http://127.0.0.1:${port}/v1/chat/completions`

interface Target {
  readonly name: string
  readonly url: string
  readonly pid: number
  readonly headers?: Record<string, string>
  readonly body?: string
}
interface Sample { rps: number; p50: number; p99: number; errors: number; cpuUs: number }

async function slice(t: Target, seconds: number): Promise<Sample> {
  const cpu0 = treeCpuMs(t.pid)
  const { result: r, p50, p99 } = await load({ url: t.url, connections: CONNECTIONS, duration: seconds, method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body: t.body ?? CHAT })
  const cpuUs = ((treeCpuMs(t.pid) - cpu0) * 1000) / Math.max(1, r.requests.total)
  return { rps: r.requests.average, p50, p99, errors: r.errors + r.non2xx + r.timeouts, cpuUs }
}

/** Each target for `SLICE` s, round after round; per target every round's sample. */
async function interleaved(targets: readonly Target[]): Promise<Sample[][]> {
  for (const t of targets) await slice(t, 2) // warm-up: JIT, pools, caches
  const samples = targets.map(() => [] as Sample[])
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, t] of targets.entries()) samples[i].push(await slice(t, SLICE))
  }
  return samples
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`
const signedMs = (ms: number): string => `${ms >= 0 ? '+' : ''}${ms.toFixed(2)} ms`

function printThroughput(targets: readonly Target[], samples: Sample[][], baseline: number): void {
  const base = samples[baseline]
  console.log(`\n${'target'.padEnd(50)} ${'req/s'.padStart(7)} ${'vs bare'.padStart(8)} ${'(min-max)'.padStart(11)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'p99 vs'.padStart(7)} ${'CPU µs/req'.padStart(11)} ${'CPU vs'.padStart(7)} ${'errors'.padStart(7)}`)
  targets.forEach((t, i) => {
    const s = samples[i]
    const ratios = s.map((x, r) => x.rps / base[r].rps)
    const p99s = s.map((x, r) => x.p99 / Math.max(0.1, base[r].p99))
    const cpus = s.map((x, r) => x.cpuUs / Math.max(1, base[r].cpuUs))
    const errors = s.reduce((n, x) => n + x.errors, 0)
    const spread = `${pct(Math.min(...ratios))}-${pct(Math.max(...ratios))}`
    console.log(`${t.name.padEnd(50)} ${median(s.map((x) => x.rps)).toFixed(0).padStart(7)} ${pct(median(ratios)).padStart(8)} ${spread.padStart(11)} ${median(s.map((x) => x.p50)).toFixed(1).padStart(7)} ${median(s.map((x) => x.p99)).toFixed(1).padStart(7)} ${(median(p99s).toFixed(2) + 'x').padStart(7)} ${median(s.map((x) => x.cpuUs)).toFixed(0).padStart(11)} ${(median(cpus).toFixed(1) + 'x').padStart(7)} ${String(errors).padStart(7)}`)
  })
  const bareRps = base.map((x) => x.rps)
  console.log(`(medians of ${ROUNDS} interleaved ${SLICE} s rounds at ${CONNECTIONS} connections; "vs bare", "p99 vs" and "CPU vs" are medians of each round's ratio to the bare proxy in that round, min-max across rounds for throughput.`)
  console.log(' CPU µs/req is the server process tree\'s CPU time over the requests it answered; on a contended machine it inflates for every row alike, so read "CPU vs".')
  console.log(` noise: the bare proxy itself ranged ${Math.min(...bareRps).toFixed(0)}-${Math.max(...bareRps).toFixed(0)} req/s across rounds, ${pct(Math.max(...bareRps) / Math.min(...bareRps) - 1)} apart)`)
}

/** Untimed seconds at the rate that open each fixed-rate round (bench/load.ts's warmupSeconds). */
const RATE_WARMUP_S = 0.25

/**
 * Latency at a fixed rate every target carries (open loop, bench/load.ts). At saturation (the
 * throughput table) a target's latency is only the inverse of its throughput; here it is what each
 * adds to a request. Percentiles are over all the requests of the interleaved rounds.
 */
async function fixedRate(targets: readonly Target[], rate: number, of: string): Promise<void> {
  const times: number[][] = targets.map(() => [])
  const failed = targets.map(() => 0)
  for (let round = 0; round < ROUNDS; round++) {
    for (const i of shuffledOrder(targets.length)) {
      const t = targets[i]
      const run = await loadAtRate({ url: t.url, rate, seconds: SLICE, warmupSeconds: RATE_WARMUP_S, connections: CONNECTIONS, method: 'POST', headers: { 'content-type': 'application/json', ...t.headers }, body: t.body ?? CHAT })
      failed[i] += run.failed
      times[i].push(...run.times)
    }
  }
  const sorted = times.map((x) => Float64Array.from(x).sort())
  console.log(`\nlatency at a fixed rate: ${rate} req/s (half ${of}'s throughput above), open loop, up to ${CONNECTIONS} connections   p50 ms   p99 ms   p50 added   p99 vs bare   errors`)
  targets.forEach((t, i) => {
    const [p50, p99] = [quantileOf(sorted[i], 0.5), quantileOf(sorted[i], 0.99)]
    const added = i === 0 ? '' : signedMs(p50 - quantileOf(sorted[0], 0.5))
    const vs = i === 0 ? '' : `${(p99 / quantileOf(sorted[0], 0.99)).toFixed(2)}x`
    console.log(`${t.name.padEnd(92)} ${p50.toFixed(2).padStart(6)} ${p99.toFixed(2).padStart(8)} ${added.padStart(11)} ${vs.padStart(13)} ${String(failed[i]).padStart(8)}`)
  })
  console.log(`(all ${sorted[0].length} timed requests of each target, ${ROUNDS} interleaved ${SLICE} s rounds, each timed from when it was issued; each round opens with ${RATE_WARMUP_S} s at the same rate, untimed, so its connections are open: a burst after a pause is bench/after-idle.ts's)`)
}

/** Time to first byte of streamed chat completions, sent one at a time, the targets taking turns request by request. */
async function ttfb(targets: readonly { name: string; port: number; headers?: Record<string, string> }[], n: number): Promise<number[][]> {
  const body = JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'stream please' }] })
  const agent = new http.Agent({ keepAlive: true })
  const times = targets.map(() => [] as number[])
  const once = (port: number, headers: Record<string, string> = {}): Promise<number> => new Promise<number>((resolve, reject) => {
    const start = performance.now()
    const req = http.request({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let first = 0
      res.on('data', () => { first ||= performance.now() - start })
      res.on('end', () => (res.statusCode === 200 ? resolve(first) : reject(new Error(`status ${res.statusCode} from port ${port}`))))
    })
    req.on('error', reject)
    req.end(body)
  })
  for (let i = 0; i < n + 5; i++) {
    // A new order each round (see shuffledOrder): a fixed one favoured whichever target followed the bare proxy.
    for (const j of shuffledOrder(targets.length)) {
      const ms = await once(targets[j].port, targets[j].headers)
      if (i >= 5) times[j].push(ms)
    }
  }
  agent.destroy()
  return times.map((xs) => xs.sort((a, b) => a - b))
}

async function pgAnswers(): Promise<boolean> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: DATABASE, connectionTimeoutMillis: 2000 })
  try { await client.connect(); await client.end(); return true } catch { return false }
}

/** Portkey's gateway, when installed for the bench (`npm --prefix bench/peer install`): it runs offline and takes --port=N. */
async function startPortkey(): Promise<Server | undefined> {
  const script = process.env.PORTKEY_GATEWAY ?? path.join(ROOT, 'bench/peer/node_modules/@portkey-ai/gateway/build/start-server.js')
  if (!existsSync(script)) return undefined
  const port = await freePort()
  return spawnServer([script, `--port=${port}`, '--headless'], /Ready for connections/, { cwd: ROOT, port })
}

async function main(): Promise<void> {
  const upstream = await startScript('bench/upstream.ts', '0')
  const bare = await startScript('bench/bare-proxy.ts', '0', String(upstream.port))
  // The gateway's own packages with nothing of the gateway: what the stack itself costs over the bare proxy.
  const stackFloor = await startScript('bench/stack-floor.ts', '0', String(upstream.port))
  const portkey = await startPortkey()
  const upstreamBase = `http://127.0.0.1:${upstream.port}/v1`
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-bench-'))
  const provider = `  upstream: { plugin: openai, api_key: bench, base_url: "${upstreamBase}" }\n`
  const openConfig = path.join(dir, 'gateway.yaml')
  await writeFile(openConfig, `version: 1
providers:
  mock: { plugin: mock }
${provider}routes:
  - model: bench
    targets: [ { provider: upstream, model: bench-model } ]
  - model: bench-mock
    targets: [ { provider: mock } ]
  - model: bench-cached
    cache: true
    targets: [ { provider: upstream, model: bench-model } ]
cache: { plugin: memory }
`)
  const gateway = await startGateway(openConfig)
  const idle = treeRssMb(gateway.child.pid!)

  // The full pipeline (bench/configs.ts): api-key auth, limits, usage to PostgreSQL, openai provider.
  const schema = `bench_full_${process.pid}`
  const pg = await pgAnswers()
  let full: { server: Server; key: string } | undefined
  if (pg) {
    const adminKey = 'bench-admin-key-0123456789abcdef'
    const fullConfig = path.join(dir, 'full.yaml')
    await writeFile(fullConfig, fullPipelineConfig({ database: DATABASE, schema, upstreamBase, adminKey }))
    const server = await startGateway(fullConfig)
    full = { server, key: await virtualKey(server.port, adminKey) }
  }
  const workers = Number(process.env.BENCH_WORKERS ?? 1)
  const clustered = workers > 1 ? await startGateway(openConfig, ['--workers', String(workers)]) : undefined
  const compareRoot = process.env.BENCH_COMPARE
  const compared = compareRoot ? await startGateway(openConfig, [], path.resolve(compareRoot)) : undefined

  const load = os.loadavg()
  console.log(`bench ${new Date().toISOString()}: ${os.cpus().length} cores (${os.cpus()[0]?.model}), load average ${load.map((x) => x.toFixed(2)).join(' ')}, node ${process.version}`)
  const targets: Target[] = [
    { name: 'upstream (floor)', url: chatUrl(upstream.port), pid: upstream.child.pid! },
    { name: 'bare node proxy', url: chatUrl(bare.port), pid: bare.child.pid! },
    { name: 'stack floor (Koa, undici; no gateway)', url: chatUrl(stackFloor.port), pid: stackFloor.child.pid! },
  ]
  if (portkey) {
    targets.push({ name: 'Portkey gateway (peer)', url: chatUrl(portkey.port), pid: portkey.child.pid!, headers: { authorization: 'Bearer bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': upstreamBase } })
  }
  if (compared) targets.push({ name: 'gateway at BENCH_COMPARE, no auth, single', url: chatUrl(compared.port), pid: compared.child.pid! })
  targets.push({ name: 'gateway, no auth, single route', url: chatUrl(gateway.port), pid: gateway.child.pid! })
  if (full) targets.push({ name: 'gateway, full (api-key, limits, usage to PG)', url: chatUrl(full.server.port), pid: full.server.child.pid!, headers: { authorization: `Bearer ${full.key}` } })
  targets.push(
    { name: 'gateway, mock provider (no upstream call)', url: chatUrl(gateway.port), pid: gateway.child.pid!, body: chatFor('bench-mock') },
    // Every request after the first is a cache hit (the route opts in with `cache: true`).
    { name: 'gateway, cache hit', url: chatUrl(gateway.port), pid: gateway.child.pid!, body: chatFor('bench-cached') },
  )
  if (clustered) targets.push({ name: `gateway, no auth, --workers ${workers}`, url: chatUrl(clustered.port), pid: clustered.child.pid! })
  if (!portkey) console.log('(no peer row: Portkey\'s gateway is not installed; `npm --prefix bench/peer install` adds it)')
  if (!full) console.log(`(no full-pipeline row: PostgreSQL at ${DATABASE} does not answer)`)

  const samples = await interleaved(targets)
  printThroughput(targets, samples, 1)
  const row = (name: string) => samples[targets.findIndex((t) => t.name === name)]
  const upstreamCall = row('gateway, no auth, single route')
  const hit = row('gateway, cache hit')
  console.log(`cache hit / upstream call (same gateway): throughput ${(median(hit.map((x) => x.rps)) / median(upstreamCall.map((x) => x.rps))).toFixed(2)}x, CPU ${median(hit.map((x) => x.cpuUs)).toFixed(0)} vs ${median(upstreamCall.map((x) => x.cpuUs)).toFixed(0)} µs/req`)
  if (clustered) {
    const scale = row(`gateway, no auth, --workers ${workers}`).map((x, r) => x.rps / upstreamCall[r].rps)
    console.log(`--workers ${workers} / one worker: ${median(scale).toFixed(2)}x (min-max ${Math.min(...scale).toFixed(2)}-${Math.max(...scale).toFixed(2)}); the load generator and the upstream share the same ${os.cpus().length} cores`)
  }

  const fullRow = full ? row('gateway, full (api-key, limits, usage to PG)') : upstreamCall
  await fixedRate([targets[1], targets.find((t) => t.name === 'gateway, no auth, single route')!, ...(full ? [targets.find((t) => t.url === chatUrl(full.server.port))!] : [])],
    Math.max(100, Math.round(median(fullRow.map((x) => x.rps)) / 200) * 100), full ? 'the full pipeline' : 'the no-auth gateway')

  const streamTargets = [
    { name: 'upstream (floor)', port: upstream.port },
    { name: 'bare node proxy', port: bare.port },
    ...(compared ? [{ name: 'gateway at BENCH_COMPARE, no auth', port: compared.port }] : []),
    { name: 'gateway, no auth', port: gateway.port },
    ...(full ? [{ name: 'gateway, full pipeline', port: full.server.port, headers: { authorization: `Bearer ${full.key}` } }] : []),
  ]
  const n = Number(process.env.BENCH_TTFB_N ?? 100)
  const streams = await ttfb(streamTargets, n)
  console.log(`\nstreaming time to first byte (${n} sequential requests each, targets taking turns)   p50 ms   p99 ms   p50 vs bare`)
  streamTargets.forEach((t, i) => {
    const over = i < 2 ? '' : signedMs(quantileOf(streams[i], 0.5) - quantileOf(streams[1], 0.5))
    console.log(`${t.name.padEnd(82)} ${quantileOf(streams[i], 0.5).toFixed(2).padStart(6)} ${quantileOf(streams[i], 0.99).toFixed(2).padStart(8)} ${over.padStart(13)}`)
  })
  if (portkey) console.log('(Portkey has no TTFB row: its streaming to an OpenAI custom host fails here with "TypeError: immutable")')

  const after = treeRssMb(gateway.child.pid!)
  console.log(`\ngateway (no auth) RSS: ${idle.now} MB idle at start, ${after.now} MB after the load, peak ${after.peak} MB`)
  if (full) {
    const f = treeRssMb(full.server.child.pid!)
    console.log(`gateway (full, PostgreSQL) RSS: ${f.now} MB after the load, peak ${f.peak} MB`)
    await dropSchema(DATABASE, schema)
  }

  if (process.env.BENCH_AUTH !== '0') await authRows(dir, upstream.port)
  if (process.env.BENCH_ROUTING !== '0') await routingAndUsageRows(dir, upstream.port)
  if (process.env.BENCH_CONVERSATIONS !== '0') {
    const children: ChildProcess[] = []
    try {
      await conversationRows(dir, upstream.port, children)
    } finally {
      for (const child of children) child.kill()
    }
  }
  // RAG ingestion and search over BENCH_RAG_CHUNKS chunks (bench/rag.ts): opt-in, since building
  // the HNSW index over 100,000 chunks takes minutes to tens of minutes on this machine.
  if (process.env.BENCH_RAG_CHUNKS) {
    console.log(`\nRAG on the embedded store, ${process.env.BENCH_RAG_CHUNKS} chunks (bench/rag.ts)`)
    spawnSync(process.execPath, ['--import', 'tsx', 'bench/rag.ts'], { stdio: 'inherit', env: process.env })
  }
}

/**
 * Authentication's cost, on the mock route (where the gateway's own work is most of the cost, so
 * auth's share shows most). Each variant is a gateway process of its own (auth applies to a whole
 * gateway), compared with a baseline that differs only in auth: a JWT checked against a local
 * issuer's JWKS (with the verified-token cache, the default, and verifying every request) against
 * no auth; a virtual API key (looked up once, then cached) against no auth with the same store,
 * since a store also records every request's usage. Interleaved rounds, medians. BENCH_AUTH=0 skips.
 */
async function authRows(dir: string, upstreamPort: number): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' }
  const jwks = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })) })
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(jwks.address() as { port: number }).port}`
  const adminKey = 'bench-admin-key-0123456789abcdef'
  const gatewayWith = async (name: string, auth: string, extra = ''): Promise<Server> => {
    const file = path.join(dir, `${name}.yaml`)
    await writeFile(file, `version: 1
${extra}providers:
  mock: { plugin: mock }
  upstream: { plugin: openai, api_key: bench, base_url: "http://127.0.0.1:${upstreamPort}/v1" }
routes:
  - model: bench
    targets: [ { provider: upstream, model: bench-model } ]
  - model: bench-mock
    targets: [ { provider: mock } ]
${auth ? `auth:\n  strategies:\n${auth}` : ''}`)
    return startGateway(file)
  }
  const store = (name: string) => `store: { plugin: embedded, path: ${JSON.stringify(path.join(dir, name))}, vector: false }\n`

  const open = await gatewayWith('no-auth', '')
  const stored = await gatewayWith('no-auth-store', '', store('data-open'))
  const keyed = await gatewayWith('api-key', `    - { plugin: api-key, keys: [ { key: ${adminKey}, user: bench, role: admin } ] }\n`, `${store('data-keyed')}services: { keys: {} }\n`)
  const userKey = await virtualKey(keyed.port, adminKey)
  const jwtBlock = (ttl: number) => `    - { plugin: jwt, issuer: ${issuer}, audience: bench, jwks_uri: "${issuer}/keys", cache_ttl_s: ${ttl} }\n`
  const jwtCached = await gatewayWith('jwt', jwtBlock(60))
  const jwtEvery = await gatewayWith('jwt-verify', jwtBlock(0))
  const token = await new SignJWT({ sub: 'bench-user' }).setProtectedHeader({ alg: 'RS256', kid: 'bench' }).setIssuer(issuer).setAudience('bench').setIssuedAt().setExpirationTime('1h').sign(privateKey)

  const body = chatFor('bench-mock')
  const target = (name: string, server: Server, headers: Record<string, string> = {}): Target => ({ name, url: chatUrl(server.port), pid: server.child.pid!, headers, body })
  const jwtHeaders = { authorization: `Bearer ${token}` }
  const variants = [
    { ...target('no auth', open), baseline: 0 },
    { ...target('  + jwt (token cache, default)', jwtCached, jwtHeaders), baseline: 0 },
    { ...target('  + jwt (verify every request)', jwtEvery, jwtHeaders), baseline: 0 },
    { ...target('no auth, embedded store', stored), baseline: 3 },
    { ...target('  + api-key (virtual key, cached)', keyed, { authorization: `Bearer ${userKey}` }), baseline: 3 },
  ]
  const samples = await interleaved(variants)
  jwks.close()
  const rps = samples.map((s) => median(s.map((x) => x.rps)))
  const cpu = samples.map((s) => median(s.map((x) => x.cpuUs)))
  console.log(`\nauthentication, mock route (median of ${ROUNDS} interleaved ${SLICE} s rounds)   req/s  vs base   CPU µs/req  vs base   errors`)
  variants.forEach((v, i) => {
    const errors = samples[i].reduce((n, x) => n + x.errors, 0)
    const vs = (a: number, b: number) => (i === v.baseline ? '' : `${((a / b) * 100).toFixed(1)}%`).padStart(8)
    console.log(`${v.name.padEnd(72)} ${rps[i].toFixed(0).padStart(6)} ${vs(rps[i], rps[v.baseline])} ${cpu[i].toFixed(0).padStart(12)} ${vs(cpu[i], cpu[v.baseline])} ${String(errors).padStart(8)}`)
  })
  console.log('(aim: api-key within 5% of its baseline, jwt with a cached JWKS within 15%; CPU "vs base" is the cost ratio, 105% = 5% more work)')
}

/**
 * Routing and usage accounting, through the openai plugin to the mock upstream, each variant in a
 * gateway process of its own, in interleaved rounds (medians): a single-target route, a 3-target
 * fallback route answered by its first target, the same with the first target refusing
 * connections (one fallback per request), and the single route with usage written to PostgreSQL
 * (skipped when DATABASE_URL does not answer). BENCH_ROUTING=0 skips.
 */
async function routingAndUsageRows(dir: string, upstreamPort: number): Promise<void> {
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}/v1`
  const deadUrl = 'http://127.0.0.1:9/v1'
  const gatewayWith = async (name: string, yaml: string): Promise<Target> => {
    const file = path.join(dir, `${name}.yaml`)
    await writeFile(file, `version: 1\n${yaml}`)
    const server = await startGateway(file)
    return { name, url: chatUrl(server.port), pid: server.child.pid! }
  }
  const providers = `providers:\n  up1: { plugin: openai, api_key: b, base_url: "${upstreamUrl}" }\n  up2: { plugin: openai, api_key: b, base_url: "${upstreamUrl}" }\n  up3: { plugin: openai, api_key: b, base_url: "${upstreamUrl}" }\n  dead: { plugin: openai, api_key: b, base_url: "${deadUrl}" }\n`
  const route = (targets: string) => `routes:\n  - model: bench\n    strategy: fallback\n    circuit: { failures: 1000000, window_s: 1 }\n    targets: [ ${targets} ]\n`
  const variants: Target[] = [
    await gatewayWith('single target', providers + route('{ provider: up1, model: bench-model }')),
    await gatewayWith('3-target fallback, first answers', providers + route('{ provider: up1, model: bench-model }, { provider: up2, model: bench-model }, { provider: up3, model: bench-model }')),
    await gatewayWith('3-target fallback, first refuses', providers + route('{ provider: dead, model: bench-model }, { provider: up2, model: bench-model }, { provider: up3, model: bench-model }')),
  ]
  const pg = await pgAnswers()
  const schema = `bench_usage_${process.pid}`
  if (pg) variants.push(await gatewayWith('single target + usage to PostgreSQL', `store: { plugin: postgres, url: "${DATABASE}", schema: ${schema} }\n` + providers + route('{ provider: up1, model: bench-model }')))

  const samples = await interleaved(variants)
  console.log(`\nrouting and usage (openai plugin -> upstream; median of ${ROUNDS} interleaved ${SLICE} s rounds)  req/s   p50 ms   p99 ms   errors   CPU µs/req`)
  const rows = variants.map((v, i) => ({ name: v.name, rps: median(samples[i].map((x) => x.rps)), p50: median(samples[i].map((x) => x.p50)), p99: median(samples[i].map((x) => x.p99)), errors: samples[i].reduce((n, x) => n + x.errors, 0), cpu: median(samples[i].map((x) => x.cpuUs)) }))
  for (const r of rows) console.log(`${r.name.padEnd(44)} ${r.rps.toFixed(0).padStart(6)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${String(r.errors).padStart(8)} ${r.cpu.toFixed(0).padStart(11)}`)
  const [single, , , usage] = rows
  if (usage) console.log(`usage accounting to PostgreSQL moves p99 by ${(((usage.p99 - single.p99) / single.p99) * 100).toFixed(1)}% (aim: within 10%)`)
  if (pg) await dropSchema(DATABASE, schema)
}

main()
  .catch((err) => { console.error(err); process.exitCode = 1 })
  .finally(killAll)
