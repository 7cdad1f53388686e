/**
 * A private PostgreSQL server for a test that must stop and start the database (the shared one on
 * 5432 serves other suites running at the same time). initdb into a temp folder, listen on a free
 * port, trust auth. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
 */
import { execFile } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './ports.ts'

const run = promisify(execFile)

function binDir(): string {
  const base = '/usr/lib/postgresql'
  const version = readdirSync(base).sort((a, b) => Number(b) - Number(a))[0]
  return path.join(base, version, 'bin')
}

export interface PrivatePostgres {
  readonly url: string
  stop(): Promise<void>
  start(): Promise<void>
  destroy(): Promise<void>
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const asRoot = process.getuid?.() === 0
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-pg-'))
  await chmod(dir, 0o777)
  const data = path.join(dir, 'data')
  const port = await freePort()
  const exec = (bin: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(binDir(), bin), ...args]) : run(path.join(binDir(), bin), args)
  await exec('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`
  const start = async () => { await exec('pg_ctl', ['-D', data, '-o', options, '-w', '-t', '30', '-l', path.join(dir, 'log'), 'start']) }
  const stop = async () => { await exec('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']) }
  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    async destroy() {
      await stop().catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    },
  }
}
