/**
 * The gateway's node flags (cli/node-flags.ts) on every path that starts it: `npm start` and
 * `npm run gateway`, the bin run as a program (its shebang), the Docker image's entrypoint and the
 * commands the README gives. A path that lost one would start a gateway that slows down after
 * idle periods (bench/after-idle.ts), with nothing else to show for it.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATEWAY_NODE_FLAGS, withGatewayFlags } from '../../cli/node-flags.ts'
import { GATEWAY_BIN } from '../helpers/cli.ts'

const read = (file: string): string => readFileSync(path.resolve(file), 'utf8')
/** The node flags of a command line that runs bin/gateway.js: the words between `node` and the entry. */
const flagsOf = (command: readonly string[]): string[] => {
  const entry = command.indexOf('bin/gateway.js')
  expect(entry, command.join(' ')).toBeGreaterThan(0)
  return command.slice(command.indexOf('node') + 1, entry)
}

let dir: string
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'gw-node-flags-')) })
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('the gateway\'s node flags', () => {
  it('are on every launch path: npm scripts, the shebang, the image, the README', () => {
    expect(GATEWAY_NODE_FLAGS).toContain('--no-memory-reducer')
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
    for (const name of ['start', 'gateway']) expect(flagsOf(scripts[name].split(' ')), `npm run ${name}`).toEqual(GATEWAY_NODE_FLAGS)
    const shebang = read('bin/gateway.js').split('\n')[0]
    expect(shebang).toBe(`#!/usr/bin/env -S node ${GATEWAY_NODE_FLAGS.join(' ')}`)
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(read('docker/Dockerfile'))![1]) as string[]
    expect(flagsOf(entrypoint)).toEqual(GATEWAY_NODE_FLAGS)
    // Every `node ... bin/gateway.js` the README tells an operator to run.
    const commands = [...read('README.md').matchAll(/`(node [^`]*bin\/gateway\.js[^`]*)`/g)].map((m) => m[1].split(' '))
    expect(commands.length).toBeGreaterThan(1)
    for (const command of commands) expect(flagsOf(command), command.join(' ')).toEqual(GATEWAY_NODE_FLAGS)
  })

  it('adds only what is missing to a process\'s own flags (the --workers primary passes its own on)', () => {
    expect(withGatewayFlags(['--inspect'])).toEqual(['--inspect', ...GATEWAY_NODE_FLAGS])
    expect(withGatewayFlags([...GATEWAY_NODE_FLAGS])).toEqual([...GATEWAY_NODE_FLAGS])
  })

  it('reach node when the bin is run as a program', async () => {
    const file = path.join(dir, 'gateway.yaml')
    await writeFile(file, 'version: 1\nproviders:\n  mock: { plugin: mock }\nroutes:\n  - model: mock\n    targets: [ { provider: mock } ]\n')
    const child = spawn(GATEWAY_BIN, ['start', '--config', file, '--port', '0', '--no-watch'], { env: { ...process.env, LOG_LEVEL: 'info' } })
    let output = ''
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    try {
      await new Promise<void>((resolve, reject) => {
        const onData = (d: Buffer): void => { output += d; if (/gateway listening on/.test(output)) resolve() }
        child.stdout.on('data', onData)
        child.stderr.on('data', onData)
        void exited.then((code) => reject(new Error(`exited ${code}:\n${output}`)))
      })
      // env execs node in its own place: the gateway's process is the one spawned.
      const argv = read(`/proc/${child.pid}/cmdline`).split('\0')
      expect(path.basename(argv[0])).toBe('node')
      expect(argv.slice(1, 1 + GATEWAY_NODE_FLAGS.length)).toEqual(GATEWAY_NODE_FLAGS)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited, output).toBe(0)
  }, 60_000)
})
