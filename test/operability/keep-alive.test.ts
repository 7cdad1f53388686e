/**
 * Behind a load balancer the gateway must hold an idle keep-alive connection longer than the
 * balancer does, or the balancer sends a request on a connection the gateway is closing (a 502).
 * `server.keep_alive_timeout_ms` sets that time (default 65 s, beyond AWS ALB's and nginx's 60 s;
 * Google Cloud's and Envoy's are longer), and a reload applies it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../helpers/gateway.ts'
import { connectRaw } from '../helpers/raw-http.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-keep-alive-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const config = (ms: number): string => `version: 1\nserver: { keep_alive_timeout_ms: ${ms} }\n`

/** A keep-alive connection that has had one answer: how long after it the gateway closes it, if within `waitMs`. */
async function idleClose(port: number, waitMs: number): Promise<number | 'open'> {
  const conn = await connectRaw(port)
  conn.socket.write('GET /health HTTP/1.1\r\nhost: gateway\r\nconnection: keep-alive\r\n\r\n')
  while (!/\r\n\r\n[\s\S]*\}$/.test(conn.received())) await new Promise((r) => setTimeout(r, 10))
  const answered = performance.now()
  expect(conn.received()).toMatch(/^HTTP\/1\.1 200[\s\S]*keep-alive/i)
  const closedAt = await Promise.race([conn.closed.then(() => performance.now()), new Promise<'open'>((r) => setTimeout(() => r('open'), waitMs))])
  conn.socket.destroy()
  expect(conn.reset()).toBe(false)
  return closedAt === 'open' ? 'open' : closedAt - answered
}

describe('server.keep_alive_timeout_ms', () => {
  it('closes an idle keep-alive connection after it, and a reload changes it', async () => {
    const file = path.join(dir, 'gateway.yaml')
    writeFileSync(file, config(1000))
    const gw = await startTestGateway({ file })
    try {
      const closed = await idleClose(gw.port, 3000)
      expect(closed).not.toBe('open')
      expect(closed).toBeGreaterThanOrEqual(900)
      writeFileSync(file, config(120_000))
      expect((await gw.controller.reload('test')).status).toBe('reloaded')
      // Held well past the old timeout.
      expect(await idleClose(gw.port, 2500)).toBe('open')
    } finally {
      await gw.close()
    }
  }, 30_000)

  it('refuses one under a second (0 would keep idle connections forever in Node)', async () => {
    await expect(startTestGateway(config(0))).rejects.toThrow(/server\.keep_alive_timeout_ms/)
  })
})
