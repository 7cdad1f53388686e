/**
 * A Redis that accepts connections and then stops answering (a TCP proxy this test owns, in front
 * of the shared Redis, stops forwarding): limiter.redis's timeout_ms bounds each call, and after a
 * failure the limits stage trips to on_backend_failure for limits.backend_cooldown_ms without
 * asking Redis, so requests keep their normal latency instead of each waiting for a timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway } from '../../core/gateway.ts'
import redisLimiter from '../../plugins/limits/redis/index.ts'
import type { Limiter } from '../../plugins/contracts/limiter.ts'
import type { RunningGateway } from '../helpers/gateway.ts'
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts'
import { waitFor } from '../helpers/wait.ts'
import { REDIS_ENABLED, REDIS_URL, capturingLogger, chat, deleteKeys, metric, setupPlugin, uniquePrefix } from '../limits/helpers.ts'

const redisAddress = (): { host: string; port: number } => {
  const url = new URL(REDIS_URL)
  return { host: url.hostname, port: Number(url.port || 6379) }
}

/** The proxy's URL, keeping the shared Redis's credentials and database. */
const viaProxy = (proxy: TcpProxy): string => {
  const url = new URL(REDIS_URL)
  url.hostname = proxy.host
  url.port = String(proxy.port)
  return url.toString()
}

describe.skipIf(!REDIS_ENABLED)('limiter.redis on its own, with Redis hung', () => {
  const prefix = uniquePrefix('hung-plugin')
  let proxy: TcpProxy
  let limiter: Limiter
  beforeAll(async () => {
    proxy = await startTcpProxy(redisAddress())
    limiter = await setupPlugin(redisLimiter, { url: viaProxy(proxy), key_prefix: prefix, timeout_ms: 100, connect_timeout_ms: 1000 })
  })
  afterAll(async () => {
    proxy?.release()
    await limiter?.dispose?.()
    await proxy?.close()
    await deleteKeys(REDIS_URL, prefix)
  })

  it('fails a check after timeout_ms, not later, and answers again once Redis does', async () => {
    const bucket = { key: 'b', limit: 10, windowMs: 60_000, cost: 1 }
    expect((await limiter.take([bucket]))[0].allowed).toBe(true)
    proxy.hang()
    const started = performance.now()
    await expect(limiter.take([bucket])).rejects.toThrow(/within 100 ms/)
    const ms = performance.now() - started
    expect(ms).toBeGreaterThanOrEqual(90)
    expect(ms).toBeLessThan(400)
    await expect(Promise.resolve(limiter.ready?.())).rejects.toThrow(/within 100 ms/)
    proxy.release()
    const [decision] = await limiter.take([bucket])
    expect(decision.allowed).toBe(true)
  })
})

describe.skipIf(!REDIS_ENABLED)('a gateway whose Redis hangs', () => {
  const prefix = uniquePrefix('hung-gw')
  const cooldownMs = 1000
  let proxy: TcpProxy
  let gw: RunningGateway
  const { logger, lines } = capturingLogger('info')
  beforeAll(async () => {
    proxy = await startTcpProxy(redisAddress())
    gw = await startGateway({
      source: { text: `version: 1
providers:
  mock: { plugin: mock }
routes:
  - model: open
    targets: [ { provider: mock } ]
  - model: closed
    targets: [ { provider: mock } ]
limits:
  backend: { plugin: redis, url: "${viaProxy(proxy)}", key_prefix: "${prefix}", timeout_ms: 100 }
  backend_cooldown_ms: ${cooldownMs}
  policies:
    - { scope: user, when: { routes: [open] }, requests_per_minute: 100000 }
    - { scope: user, when: { routes: [closed] }, requests_per_minute: 100000, on_backend_failure: closed }
`, label: 'test.yaml', dir: process.cwd() },
      port: 0, host: '127.0.0.1', logger, watch: false,
    })
  })
  afterAll(async () => {
    proxy?.release()
    await gw?.close()
    await proxy?.close()
    await deleteKeys(REDIS_URL, prefix)
  })

  async function timed(model: string): Promise<{ status: number; ms: number; headers: Headers }> {
    const started = performance.now()
    const res = await chat(gw, { model })
    return { status: res.status, headers: res.headers, ms: performance.now() - started }
  }

  it('keeps near-normal latency while Redis hangs: open admits, closed refuses with 503, Redis is probed once per cool-down', async () => {
    const normal = await timed('open')
    expect(normal.status).toBe(200)
    expect(normal.headers.get('x-ratelimit-remaining-requests')).not.toBeNull()

    proxy.hang()
    const heldBefore = proxy.heldWrites
    const results: { model: string; status: number; ms: number }[] = []
    const started = performance.now()
    while (performance.now() - started < 2500) {
      for (const model of ['open', 'closed']) results.push({ model, ...(await timed(model)) })
    }
    const elapsed = performance.now() - started

    for (const r of results) expect(r.status).toBe(r.model === 'open' ? 200 : 503)
    // Redis was asked by the first failing check and then once per cool-down, not by every request.
    const probes = proxy.heldWrites - heldBefore
    expect(probes).toBeGreaterThanOrEqual(1)
    expect(probes).toBeLessThanOrEqual(Math.ceil(elapsed / cooldownMs) + 1)
    // None waited for the kernel's 1 s guard; most did not wait at all (the few that asked Redis waited timeout_ms).
    const times = results.map((r) => r.ms).sort((a, b) => a - b)
    expect(times.at(-1)!).toBeLessThan(900)
    expect(times[Math.floor(times.length / 2)]).toBeLessThan(100)
    // Many requests in 2.5 s: a timeout per request would have allowed two or three.
    expect(results.length).toBeGreaterThan(20)
    expect(lines.filter((l) => l.msg.startsWith('limiter backend is not answering'))).toHaveLength(1)
    expect(await metric(gw, 'gateway_limiter_backend_up', { backend: 'redis' })).toBe(0)
    expect(await metric(gw, 'gateway_limiter_backend_failures_total', { outcome: 'closed' })).toBe(results.filter((r) => r.model === 'closed').length)
  }, 20_000)

  it('recovers within a cool-down once Redis answers again', async () => {
    proxy.release()
    const { ms } = await waitFor(async () => (await chat(gw, { model: 'closed' })).status === 200, 5000, 50)
    expect(ms).toBeLessThan(cooldownMs + 1000)
    const res = await timed('open')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-ratelimit-remaining-requests')).not.toBeNull()
    expect(lines.some((l) => l.msg === 'limiter backend answers again: rate limits are enforced')).toBe(true)
    expect(await metric(gw, 'gateway_limiter_backend_up', { backend: 'redis' })).toBe(1)
  })
})
