/**
 * The bench's process handling: servers under test each run in a process of their own, their
 * logs read only until they say they are ready and discarded after (a load generator that keeps
 * and re-scans a gateway's log slows itself and skews every figure it takes), and their CPU time
 * and memory read from /proc for the whole process tree (a gateway with --workers is several).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { GATEWAY_NODE_FLAGS } from '../cli/node-flags.ts'

export interface Server {
  readonly child: ChildProcess
  readonly port: number
}

const children: ChildProcess[] = []
const READY_WINDOW = 4096

/**
 * Start `node ARGS` and resolve with the port its ready line names (`ready`'s first group, or
 * `options.port` for a server told its port). Only
 * the last few kB of output are kept while waiting; once ready, output is drained and dropped.
 */
export async function spawnServer(args: string[], ready: RegExp, options: { cwd: string; env?: NodeJS.ProcessEnv; port?: number; gatewayFlags?: boolean }): Promise<Server> {
  const entry = args.indexOf('bin/gateway.js')
  // GATEWAY_TS=1 asks for the sources on purpose.
  if (entry >= 0 && (options.env?.GATEWAY_TS ?? process.env.GATEWAY_TS) !== '1') await assertBuilt(options.cwd)
  // A gateway runs with the node flags `npm start` gives it, unless told not to (bench/after-idle.ts compares).
  if (entry >= 0 && options.gatewayFlags !== false) args = [...args.slice(0, entry), ...GATEWAY_NODE_FLAGS.filter((f) => !args.includes(f)), ...args.slice(entry)]
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let tail = ''
    let done = false
    const onData = (d: Buffer): void => {
      if (done) return
      tail = (tail + d.toString()).slice(-READY_WINDOW)
      const m = ready.exec(tail)
      if (!m) return
      done = true
      tail = ''
      resolve({ child, port: options.port ?? Number(m[1]) })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => { if (!done) reject(new Error(`${args.join(' ')} exited ${code}: ${tail}`)) })
  })
}

/**
 * A gateway checkout the bench starts must run its build: bin/gateway.js falls back to the
 * TypeScript sources through tsx when dist/ is older than them (an edit, a checkout, even a
 * `git stash` and `pop`), and says so only on stderr, which the bench drops. A cache-hit A/B once
 * read 7% "slower" that way. Checked with the checkout's own scripts/compiled.mjs, where it has one.
 */
async function assertBuilt(root: string): Promise<void> {
  const script = path.resolve(root, 'scripts/compiled.mjs')
  try {
    statSync(script)
  } catch {
    return
  }
  const { compiledEntry } = (await import(pathToFileURL(script).href)) as { compiledEntry(root: string): { entry?: string; stale?: boolean } }
  const { entry, stale } = compiledEntry(path.resolve(root))
  if (!entry) throw new Error(`${path.resolve(root)}: dist/ ${stale ? 'is older than the sources' : 'is missing'}; run \`npm run build\` there (the bench measures the build, not the sources through tsx)`)
}

/** Stop every server this process started. */
export function killAll(): void {
  for (const c of children) c.kill('SIGKILL')
}

/** A port free right now on loopback, for servers that cannot be told to take port 0. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}

/** The process and all its descendants (cluster workers, a Portkey server's children). */
export function processTree(pid: number): number[] {
  const pids = [pid]
  for (let i = 0; i < pids.length; i++) {
    let tasks: string[] = []
    try { tasks = readdirSync(`/proc/${pids[i]}/task`) } catch { continue }
    for (const task of tasks) {
      try {
        for (const child of readFileSync(`/proc/${pids[i]}/task/${task}/children`, 'utf8').split(' ')) if (child.trim()) pids.push(Number(child))
      } catch { /* the task ended */ }
    }
  }
  return pids
}

const TICK_MS = 10 // USER_HZ is 100 on Linux

/** CPU time (user + system) used so far by a process tree, in ms. */
export function treeCpuMs(pid: number): number {
  let ms = 0
  for (const p of processTree(pid)) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')
      ms += (Number(fields[11]) + Number(fields[12])) * TICK_MS
    } catch { /* ended */ }
  }
  return ms
}

/**
 * CPU time used so far by every PostgreSQL server process on this machine, in ms: the database's
 * share of a run (noisy when another job uses the same server, and blind to backends that ended).
 */
export function postgresCpuMs(): number {
  let pids: number[] = []
  try { pids = execFileSync('pgrep', ['-x', 'postgres']).toString().trim().split('\n').map(Number) } catch { return 0 }
  let ms = 0
  for (const p of pids) {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ')
      ms += (Number(fields[11]) + Number(fields[12])) * TICK_MS
    } catch { /* ended */ }
  }
  return ms
}

/** Resident memory of a process tree now (VmRSS) and at its peak (VmHWM, summed), in MB. */
export function treeRssMb(pid: number): { now: number; peak: number } {
  let now = 0
  let peak = 0
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8')
      now += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
      peak += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
    } catch { /* ended */ }
  }
  return { now: Math.round(now / 1024), peak: Math.round(peak / 1024) }
}

/** `NAME=value NAME2=value2` (AB_ENV_B of the A/B scripts) as an environment; a value has no spaces. */
export const envOf = (text: string | undefined): Record<string, string> =>
  Object.fromEntries((text ?? '').split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]

/**
 * 0..n-1 in a new random order (Fisher-Yates), for sequential targets taking turns: a target right
 * after a gateway pays for that one's after-stream work (its usage writes), and a fixed cycle, even
 * one started a target later each round, puts each target after the same one most rounds.
 */
export function shuffledOrder(n: number): number[] {
  const order = Array.from({ length: n }, (_, j) => j)
  for (let k = n - 1; k > 0; k--) {
    const r = Math.floor(Math.random() * (k + 1))
    ;[order[k], order[r]] = [order[r], order[k]]
  }
  return order
}
