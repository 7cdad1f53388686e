/**
 * In a container the gateway is PID 1, for which a signal without a handler does nothing: SIGTERM
 * must stop a gateway that is still starting (waiting for its store), not wait for the kubelet's
 * SIGKILL. Run as PID 1 of a new PID namespace (`unshare`), where the machine allows it.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { GATEWAY_BIN } from '../helpers/cli.ts'
import { waitFor } from '../helpers/wait.ts'

const UNSHARE = ['--pid', '--fork', ...(process.getuid?.() === 0 ? [] : ['--map-root-user'])]
const canUnshare = existsSync('/usr/bin/unshare') && spawnSync('unshare', [...UNSHARE, 'true']).status === 0

describe.runIf(canUnshare)('the gateway as PID 1', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-pid1-'))
  // A "database" that takes the connection and never answers: the start waits on it.
  const silent = net.createServer(() => undefined)
  afterAll(() => {
    silent.close()
    rmSync(dir, { recursive: true, force: true })
  })

  for (const command of ['start', 'worker']) {
    it(`gateway ${command}: SIGTERM while it waits for its store stops it at once`, async () => {
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
      const { port } = silent.address() as net.AddressInfo
      const file = path.join(dir, `${command}.yaml`)
      writeFileSync(file, `version: 1
store: { plugin: postgres, url: "postgres://postgres@127.0.0.1:${port}/test", connect_timeout_ms: 30000 }
queue: { plugin: rabbitmq, url: "amqp://guest:guest@127.0.0.1:1" }
providers: { mock: { plugin: mock } }
routes: [ { model: mock, targets: [ { provider: mock } ] } ]
`)
      const connected = new Promise<void>((resolve) => silent.once('connection', () => resolve()))
      const outer = spawn('unshare', [...UNSHARE, process.execPath, GATEWAY_BIN, command, '--config', file, '--no-watch', ...(command === 'start' ? ['--port', '0'] : [])])
      let output = ''
      outer.stderr.on('data', (d) => (output += d))
      const exited = new Promise<number | null>((resolve) => outer.on('exit', resolve))
      try {
        await connected
        // The gateway: unshare's child, PID 1 in its namespace.
        let pid = 0
        await waitFor(() => (pid = Number(readFileSync(`/proc/${outer.pid}/task/${outer.pid}/children`, 'utf8').trim().split(' ')[0])) > 0, 5000, 20)
        expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+1$/m)
        const signalled = performance.now()
        process.kill(pid, 'SIGTERM')
        const result = await Promise.race([exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 5000))])
        expect(result, output).toBe(143)
        expect(performance.now() - signalled).toBeLessThan(5000)
        expect(output).toContain('SIGTERM while starting: stopped')
      } finally {
        outer.kill('SIGKILL')
        spawnSync('pkill', ['-KILL', '-P', String(outer.pid)])
        silent.close()
      }
    }, 30_000)
  }
})
