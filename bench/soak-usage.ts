/**
 * Usage soak: does a store outage at full load lose usage events?
 *
 *   node --import tsx bench/soak-usage.ts [--minutes 10] [--outage-s 60] [--mode blackhole|cut] [--connections 50] [--rate N]
 *
 * A gateway (its own process, the CLI) on PostgreSQL (DATABASE_URL, a schema of its own) through
 * a TCP proxy this script owns; load from autocannon (in this process) on the mock provider, at
 * full rate (what the machine can serve) or at `--rate` requests per second. At 40% of the run the proxy is cut for the outage (`blackhole`: connections accepted,
 * never answered; `cut`: every connection reset), then restored. After the load, the script waits
 * for the gateway to catch up, stops it (SIGTERM), and compares the usage rows with the requests
 * served. The shared PostgreSQL itself is never touched. Prints the figures, then one JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import autocannon from 'autocannon'
import { sqlOnce, usageRowCounts } from '../test/helpers/sql-once.ts'
import { startTcpProxy, type ProxyMode } from '../test/helpers/tcp-proxy.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export interface SoakOptions {
  /** Seconds of load. */
  readonly durationS: number
  readonly outageS: number
  readonly mode: Exclude<ProxyMode, 'open'>
  readonly connections: number
  /** Requests per second in all; undefined: as fast as the gateway answers. */
  readonly rate?: number
  /** gateway.yaml usage.buffer_events (a short run needs a small buffer to spill at all). */
  readonly bufferEvents?: number
  /** How long to wait, after the load, for every event to reach the store (default 300). */
  readonly drainTimeoutS?: number
  /** Progress lines on stderr. */
  readonly log?: (line: string) => void
}

export interface SoakResult {
  /** Responses autocannon received (any status): each is one usage event. */
  readonly responses: number
  /** The gateway's own count of /v1 requests (gateway_requests_total). */
  readonly gatewayRequests: number
  readonly rows: number
  readonly distinctEventIds: number
  /** gatewayRequests - rows. */
  readonly lost: number
  readonly dropped: number
  readonly rps: number
  readonly maxBufferEvents: number
  readonly maxJournalEvents: number
  readonly maxJournalBytes: number
  readonly spilled: number
  readonly replayed: number
  /** From the end of the outage to an empty journal and a buffer back to normal. */
  readonly catchUpS: number | null
  /** From the end of the load to every event in the store. */
  readonly drainS: number | null
  readonly shutdownS: number
  readonly exitCode: number | null
  readonly clientErrors: number
}

interface GatewayProcess {
  readonly child: ChildProcess
  readonly url: string
  readonly exited: Promise<number | null>
  output(): string
}

function startGatewayProcess(config: string): Promise<GatewayProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/gateway.js'), 'start', '--config', config, '--port', '0', '--no-watch'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    const onData = (d: Buffer): void => {
      // Keep the tail only: the gateway logs each spill.
      output = (output + d.toString()).slice(-20_000)
      const m = /gateway listening on (http:\/\/\S+)/.exec(output)
      if (m) resolve({ child, url: m[1], exited, output: () => output })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    void exited.then((code) => reject(new Error(`gateway exited with ${code} before listening:\n${output}`)))
  })
}

/** The gateway's metrics, by name (label sets summed). */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const values = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{[^}]*\})? (\S+)$/.exec(line)
    if (m) values.set(m[1], (values.get(m[1]) ?? 0) + Number(m[2]))
  }
  return values
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => undefined)
  const target = new URL(DATABASE_URL)
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-soak-'))
  const schema = `gw_soak_${process.pid}_${Date.now().toString(36)}`
  const config = path.join(dir, 'gateway.yaml')
  await writeFile(config, `version: 1
logging: { level: warn }
store: { plugin: postgres, url: "${proxy.via(DATABASE_URL)}", schema: ${schema} }
usage: { journal_dir: ./journal${options.bufferEvents ? `, buffer_events: ${options.bufferEvents}` : ''} }
providers: { mock: { plugin: mock } }
routes: [ { model: mock, targets: [ { provider: mock } ] } ]
`)
  let gateway: GatewayProcess | undefined
  try {
    gateway = await startGatewayProcess(config)
    const gw = gateway
    log(`gateway ${gw.url} (pid ${gw.child.pid}), schema ${schema}, journal ${path.join(dir, 'journal')}`)

    // Sample the writer's state through the run.
    const max = { buffer: 0, journalEvents: 0, journalBytes: 0 }
    let last = new Map<string, number>()
    let restoredAt: number | undefined
    let caughtUpAt: number | undefined
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        try {
          last = await scrape(gw.url)
          const buffer = last.get('gateway_usage_buffer_depth') ?? 0
          const journalEvents = last.get('gateway_usage_journal_events') ?? 0
          max.buffer = Math.max(max.buffer, buffer)
          max.journalEvents = Math.max(max.journalEvents, journalEvents)
          max.journalBytes = Math.max(max.journalBytes, last.get('gateway_usage_journal_bytes') ?? 0)
          // Caught up: the journal is empty and memory is back to what one flush interval holds.
          if (restoredAt !== undefined && caughtUpAt === undefined && journalEvents === 0 && buffer < 5000) caughtUpAt = performance.now()
        } catch { /* the gateway is busy: sample again */ }
        await sleep(500)
      }
    })()

    const outageAt = Math.round(options.durationS * 0.4)
    const outage = (async () => {
      await sleep(outageAt * 1000)
      log(`outage (${options.mode}) for ${options.outageS} s`)
      if (options.mode === 'cut') proxy.cut()
      else proxy.blackhole()
      await sleep(options.outageS * 1000)
      proxy.restore()
      restoredAt = performance.now()
      log('store restored')
    })()

    log(`load: ${options.connections} connections for ${options.durationS} s${options.rate ? ` at ${options.rate} req/s` : ', full rate'}`)
    const load = await autocannon({
      url: `${gw.url}/v1/chat/completions`, connections: options.connections, duration: options.durationS, method: 'POST', overallRate: options.rate,
      headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'Count me.' }] }),
    })
    await outage
    const loadEnded = performance.now()
    const responses = load['1xx'] + load['2xx'] + load['3xx'] + load['4xx'] + load['5xx']
    log(`load done: ${responses} responses, ${Math.round(load.requests.average)} req/s`)

    // Wait for every event to reach the store.
    const gatewayRequests = (await scrape(gw.url)).get('gateway_requests_total') ?? 0
    let drainedAt: number | undefined
    const drainDeadline = performance.now() + (options.drainTimeoutS ?? 300) * 1000
    while (performance.now() < drainDeadline) {
      if ((await usageRowCounts(DATABASE_URL, schema)).rows >= gatewayRequests) {
        drainedAt = performance.now()
        break
      }
      await sleep(500)
    }
    sampling = false
    await sampler
    const final = await scrape(gw.url)

    const stopping = performance.now()
    gw.child.kill('SIGTERM')
    const exitCode = await gw.exited
    const shutdownS = (performance.now() - stopping) / 1000
    const { rows, eventIds } = await usageRowCounts(DATABASE_URL, schema)
    return {
      responses,
      gatewayRequests,
      rows,
      distinctEventIds: eventIds,
      lost: gatewayRequests - rows,
      dropped: final.get('gateway_usage_events_dropped_total') ?? 0,
      rps: Math.round(load.requests.average),
      maxBufferEvents: max.buffer,
      maxJournalEvents: max.journalEvents,
      maxJournalBytes: max.journalBytes,
      spilled: final.get('gateway_usage_events_spilled_total') ?? 0,
      replayed: final.get('gateway_usage_events_replayed_total') ?? 0,
      catchUpS: restoredAt !== undefined && caughtUpAt !== undefined ? Math.round((caughtUpAt - restoredAt) / 100) / 10 : null,
      drainS: drainedAt === undefined ? null : Math.round((drainedAt - loadEnded) / 100) / 10,
      shutdownS: Math.round(shutdownS * 10) / 10,
      exitCode,
      clientErrors: load.errors + load.timeouts,
    }
  } catch (err) {
    if (gateway) process.stderr.write(`gateway output (tail):\n${gateway.output()}\n`)
    throw err
  } finally {
    gateway?.child.kill('SIGKILL')
    await proxy.close()
    await rm(dir, { recursive: true, force: true })
    await sqlOnce(DATABASE_URL, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { minutes: { type: 'string', default: '10' }, 'outage-s': { type: 'string', default: '60' }, mode: { type: 'string', default: 'blackhole' }, connections: { type: 'string', default: '50' }, rate: { type: 'string' } },
  })
  const mode = values.mode === 'cut' ? 'cut' : 'blackhole'
  const result = await runSoak({
    durationS: Math.round(Number(values.minutes) * 60), outageS: Number(values['outage-s']), mode, connections: Number(values.connections),
    rate: values.rate === undefined ? undefined : Number(values.rate),
    log: (line) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
  })
  const rows: [string, string | number | null][] = [
    ['requests served (responses)', result.responses],
    ['requests counted by the gateway', result.gatewayRequests],
    ['usage rows', result.rows],
    ['distinct event ids', result.distinctEventIds],
    ['lost', result.lost],
    ['dropped (metric)', result.dropped],
    ['throughput, req/s', result.rps],
    ['max buffer, events', result.maxBufferEvents],
    ['max journal, events', result.maxJournalEvents],
    ['max journal, MB', Math.round(result.maxJournalBytes / 1e5) / 10],
    ['spilled / replayed', `${result.spilled} / ${result.replayed}`],
    ['catch-up after restore, s', result.catchUpS],
    ['drain after load, s', result.drainS],
    ['SIGTERM to exit, s', result.shutdownS],
    ['client errors', result.clientErrors],
  ]
  for (const [name, value] of rows) console.log(`${name.padEnd(34)} ${value}`)
  console.log(JSON.stringify(result))
  process.exitCode = result.lost === 0 && result.dropped === 0 && result.exitCode === 0 ? 0 : 1
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
