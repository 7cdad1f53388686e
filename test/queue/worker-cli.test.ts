/** `gateway worker` refuses configs whose jobs it could never see, and says what to change. */
import { writeFile, mkdtemp } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'

describe('gateway worker', () => {
  it('refuses the in-process queue and the embedded store, naming the settings to use', async () => {
    const { code, stderr } = await runCli(['worker', '--config', 'gateway.yaml'])
    expect(code).toBe(1)
    // Each at its line, as validate says a problem (the shipped gateway.yaml: its queue and store plugins).
    expect(stderr).toMatch(/gateway\.yaml:19:11 queue\.plugin: queue\.memory lives inside one process.*plugin: rabbitmq/)
    expect(stderr).toMatch(/gateway\.yaml:13:11 store\.plugin: the embedded store belongs to one process: use store: \{ plugin: postgres/)
  })

  it('refuses a --metrics-port that is not a port, naming it', async () => {
    const { code, stderr } = await runCli(['worker', '--config', 'gateway.yaml', '--metrics-port', 'abc'])
    expect(code).not.toBe(0)
    expect(stderr).toMatch(/invalid --metrics-port 'abc'/)
  })

  it('refuses a config without a queue', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-worker-'))
    const file = path.join(dir, 'g.yaml')
    await writeFile(file, 'version: 1\nproviders: { mock: { plugin: mock } }\nroutes: [ { model: m, targets: [ { provider: mock } ] } ]\n')
    const { code, stderr } = await runCli(['worker', '--config', file])
    expect(code).toBe(1)
    expect(stderr).toMatch(/g\.yaml:1:1 \(root\): no `queue:` is configured/)
  })
})
