/**
 * Secrets mounted as files (a Kubernetes Secret volume, Docker's /run/secrets): `NAME_FILE` gives
 * the value of a `${NAME}` the config reads, for `gateway start`, `gateway worker` and `validate`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, startCli } from '../helpers/cli.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-secret-files-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const config = path.join(dir, 'gateway.yaml')
writeFileSync(config, `version: 1
auth:
  strategies:
    - { plugin: api-key, keys: [ { key: "\${ADMIN_KEY}", user: admin, role: admin } ] }
providers: { mock: { plugin: mock } }
routes: [ { model: mock, targets: [ { provider: mock } ] } ]
`)
const KEY = 'sk-mounted-admin-key-0123456789'
const keyFile = path.join(dir, 'admin-key')
// As `kubectl create secret --from-file` or `echo KEY > file` leaves it: with a final newline.
writeFileSync(keyFile, `${KEY}\n`)
/** The environment without the variables a developer's shell may hold. */
const env = (extra: Record<string, string>): NodeJS.ProcessEnv => ({ ADMIN_KEY: '', ADMIN_KEY_FILE: '', ...extra })

describe('NAME_FILE for a ${NAME} the config reads', () => {
  it('starts with the key read from the file (its final newline dropped) and accepts it', async () => {
    const gw = await startCli(['--config', config, '--port', '0', '--no-watch'], env({ ADMIN_KEY_FILE: keyFile }))
    try {
      const chat = (key: string) => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }) })
      expect((await chat(KEY)).status).toBe(200)
      expect((await chat('sk-wrong')).status).toBe(401)
      expect(gw.output()).not.toContain(KEY)
    } finally {
      gw.child.kill('SIGTERM')
    }
    expect(await gw.exited).toBe(0)
  }, 60_000)

  it('validate reads it too', async () => {
    const res = await runCli(['validate', config], env({ ADMIN_KEY_FILE: keyFile }))
    expect(res.stdout.trim()).toBe(`${config}: ok`)
    expect(res.code).toBe(0)
  }, 30_000)

  it('refuses to start when the file cannot be read, or when both NAME and NAME_FILE are set, naming them (never the value)', async () => {
    const missing = await runCli(['start', '--config', config, '--port', '0', '--no-watch'], env({ ADMIN_KEY_FILE: path.join(dir, 'nope') }))
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain(`cannot start: cannot read ADMIN_KEY_FILE (${path.join(dir, 'nope')}): no such file or directory`)
    const both = await runCli(['worker', '--config', config, '--no-watch'], env({ ADMIN_KEY_FILE: keyFile, ADMIN_KEY: 'sk-other' }))
    expect(both.code).toBe(1)
    expect(both.stderr).toContain('cannot start: both ADMIN_KEY and ADMIN_KEY_FILE are set: set one of them')
    expect(both.stderr + missing.stderr).not.toContain(KEY)
  }, 30_000)

  it('leaves alone a *_FILE the config does not read', async () => {
    const res = await runCli(['validate', config], env({ ADMIN_KEY: KEY, LOG_FILE: path.join(dir, 'nope') }))
    expect(res.stdout.trim()).toBe(`${config}: ok`)
  }, 30_000)
})
