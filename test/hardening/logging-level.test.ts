/**
 * gateway.yaml's logging.level is applied at start and on every reload (it was accepted and
 * ignored); a level the operator fixed (LOG_LEVEL, through the CLI) wins over it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type RunningGateway } from '../../core/gateway.ts'
import { startCli } from '../helpers/cli.ts'
import { capturingLogger, chat } from '../limits/helpers.ts'

const config = (level: string | undefined): string => `version: 1
${level ? `logging: { level: ${level} }` : ''}
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`

/** Lines logged while `work` runs. */
async function linesDuring(lines: { level: string; msg: string }[], work: () => Promise<unknown>): Promise<{ level: string; msg: string }[]> {
  const from = lines.length
  await work()
  await new Promise((r) => setTimeout(r, 20))
  return lines.slice(from)
}

describe('logging.level', () => {
  let dir: string
  let file: string
  let gw: RunningGateway
  const { logger, lines } = capturingLogger('info')
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gw-loglevel-'))
    file = path.join(dir, 'gateway.yaml')
    await writeFile(file, config('warn'))
    gw = await startGateway({ source: { file }, port: 0, host: '127.0.0.1', logger, watch: false })
  })
  afterAll(async () => {
    await gw?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('applies at start: at warn, a request writes no info line (the access log included)', async () => {
    expect(logger.level).toBe('warn')
    const logged = await linesDuring(lines, () => chat(gw, {}))
    expect(logged.filter((l) => l.level === 'info')).toEqual([])
  })

  it('follows a reload: at debug, the access log and debug lines are written', async () => {
    await writeFile(file, config('debug'))
    expect((await gw.controller.reload('test')).status).toBe('reloaded')
    expect(logger.level).toBe('debug')
    const logged = await linesDuring(lines, () => chat(gw, {}))
    expect(logged.some((l) => l.msg === 'request' && l.level === 'info')).toBe(true)
  })

  it('goes back to the level the gateway started with when the config no longer sets one', async () => {
    await writeFile(file, config(undefined))
    expect((await gw.controller.reload('test')).status).toBe('reloaded')
    expect(logger.level).toBe('info')
  })
})

describe('a level fixed by the operator', () => {
  it('wins over logging.level (startGateway logLevel, which the CLI sets from LOG_LEVEL)', async () => {
    const { logger } = capturingLogger('error')
    const gw = await startGateway({ source: { text: config('debug'), label: 'test.yaml', dir: os.tmpdir() }, port: 0, host: '127.0.0.1', logger, logLevel: 'error', watch: false })
    try {
      expect(logger.level).toBe('error')
    } finally {
      await gw.close()
    }
  })

  it('through the CLI: without LOG_LEVEL the file decides, with it LOG_LEVEL does', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-loglevel-cli-'))
    const file = path.join(dir, 'gateway.yaml')
    await writeFile(file, config('warn'))
    try {
      for (const [env, expectAccessLog] of [[{ LOG_LEVEL: '' }, false], [{ LOG_LEVEL: 'info' }, true]] as const) {
        const cli = await startCli(['--config', file, '--port', '0', '--no-watch'], env)
        try {
          expect((await chat(cli.url, {})).status).toBe(200)
          await new Promise((r) => setTimeout(r, 100))
          expect(cli.output().includes('"msg":"request"')).toBe(expectAccessLog)
        } finally {
          cli.child.kill('SIGTERM')
          await cli.exited
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
