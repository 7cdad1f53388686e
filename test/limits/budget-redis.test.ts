/**
 * Budgets kept in Redis (limiter.redis): one ledger for every gateway process sharing it. The
 * reservation is made in the same script as the rate limits, so two processes together admit
 * exactly what the budget holds; a reservation left by a gateway killed mid-request expires after
 * limits.budget_reservation_ttl_s; an empty ledger (a flushed Redis) is seeded from the usage
 * events in the store. Each suite uses a key prefix of its own on the shared Redis and deletes it after.
 *
 * Prices (budget-fixtures.ts): with max_tokens 5 each request reserves $12 and costs $12.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCli } from '../helpers/cli.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { PRICED_ROUTES, PROMPT } from './budget-fixtures.ts'
import { REDIS_ENABLED, REDIS_URL, chat, deleteKeys, metric, uniquePrefix } from './helpers.ts'

const ask = (gw: RunningGateway | string, body: Record<string, unknown> = {}) =>
  chat(gw, { messages: [{ role: 'user', content: PROMPT }], max_tokens: 5, ...body })

/** What the budget has spent or reserved, from a probe that is always refused (it would reserve $1007) and so takes nothing. */
async function committed(gw: RunningGateway | string): Promise<number> {
  const r = await ask(gw, { max_tokens: 1000 })
  expect(r.status).toBe(402)
  return Number(/\$([\d.]+) spent or reserved/.exec(r.body.error.message)![1])
}

type Child = { child: ChildProcess; url: string }

async function stop(g: Child, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (g.child.exitCode !== null || g.child.signalCode !== null) return
  const exited = new Promise((resolve) => g.child.once('exit', resolve))
  g.child.kill(signal)
  await exited
}

describe.skipIf(!REDIS_ENABLED)('a budget shared by two gateway processes through Redis', () => {
  const prefix = uniquePrefix('budget-two')
  const gateways: Child[] = []
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gw-budget-'))
    const file = path.join(dir, 'gateway.yaml')
    await writeFile(file, `version: 1
${PRICED_ROUTES}limits:
  backend: { plugin: redis, url: "${REDIS_URL}", key_prefix: "${prefix}", timeout_ms: 10000 }
  budgets:
    - { scope: organization, usd_per_day: 100 }
`)
    gateways.push(...await Promise.all([0, 1].map(() => startCli(['--config', file, '--port', '0', '--no-watch'], { LOG_LEVEL: 'warn' }))))
  }, 40_000)
  afterAll(async () => {
    await Promise.all(gateways.map((g) => stop(g)))
    await deleteKeys(REDIS_URL, prefix)
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('admits exactly 8 of 200 requests at $12 against $100 when 100 race through each process', async () => {
    // Both hold a live Redis connection before the race (a refused probe takes nothing).
    for (const g of gateways) expect(await committed(g.url)).toBe(0)
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => ask(gateways[i % 2].url)))
    // Counted per process, each would admit 8 (16 in all): exactly 8 is the proof the ledger is shared.
    expect(results.filter((r) => r.status === 200)).toHaveLength(8)
    expect(results.filter((r) => r.status === 402)).toHaveLength(192)
    await waitFor(async () => (await committed(gateways[0].url)) === 96, 5_000, 50)
    expect(await committed(gateways[1].url)).toBe(96)
  }, 30_000)

  it('raises the 80% alert once between them, not once per process', async () => {
    const alerts = await Promise.all(gateways.map(async (g) => (await metric(g as unknown as RunningGateway, 'gateway_budget_alerts_total', { scope: 'organization', threshold: '0.8' })) ?? 0))
    expect(alerts[0] + alerts[1]).toBe(1)
    const full = await Promise.all(gateways.map(async (g) => (await metric(g as unknown as RunningGateway, 'gateway_budget_alerts_total', { scope: 'organization', threshold: '1' })) ?? 0))
    expect(full[0] + full[1]).toBe(0)
  })
})

describe.skipIf(!REDIS_ENABLED)('a gateway killed with a request in flight', () => {
  const prefix = uniquePrefix('budget-kill')
  let doomed: Child | undefined
  let survivor: RunningGateway
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gw-budget-'))
    const config = `version: 1
${PRICED_ROUTES}limits:
  backend: { plugin: redis, url: "${REDIS_URL}", key_prefix: "${prefix}", timeout_ms: 10000 }
  budget_reservation_ttl_s: 2
  budgets:
    - { scope: organization, usd_per_day: 100 }
`
    const file = path.join(dir, 'gateway.yaml')
    await writeFile(file, config)
    doomed = await startCli(['--config', file, '--port', '0', '--no-watch'], { LOG_LEVEL: 'warn' })
    survivor = await startTestGateway(config)
  }, 40_000)
  afterAll(async () => {
    if (doomed) await stop(doomed, 'SIGKILL')
    await survivor?.close()
    await deleteKeys(REDIS_URL, prefix)
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('leaves a reservation that holds the budget until it expires, then the budget is usable again', async () => {
    // Reserves 7 + 60 = $67 and hangs upstream.
    void ask(doomed!.url, { model: 'hang', max_tokens: 60 }).catch(() => undefined)
    await waitFor(async () => (await committed(survivor)) === 67, 5_000, 20)
    await stop(doomed!, 'SIGKILL')
    // Gone, but its reservation still holds: $67 + $67 would exceed $100.
    const held = await ask(survivor, { max_tokens: 60 })
    expect(held.status).toBe(402)
    // After budget_reservation_ttl_s (2 s) it has expired, and nothing was spent.
    const { ms } = await waitFor(async () => (await committed(survivor)) === 0, 6_000, 100)
    expect(ms).toBeLessThan(4_000)
    expect((await ask(survivor, { max_tokens: 60 })).status).toBe(200)
  }, 20_000)
})

describe.skipIf(!REDIS_ENABLED)('a ledger emptied in Redis', () => {
  const prefix = uniquePrefix('budget-seed')
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(`version: 1
store: { plugin: embedded, memory: true, vector: false }
${PRICED_ROUTES}limits:
  backend: { plugin: redis, url: "${REDIS_URL}", key_prefix: "${prefix}", timeout_ms: 10000 }
  budgets:
    - { scope: organization, usd_per_day: 100 }
`)
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await deleteKeys(REDIS_URL, prefix)
  })

  it('is seeded again from the usage events in the store', async () => {
    for (let i = 0; i < 3; i++) expect((await ask(gw)).status).toBe(200)
    await waitFor(async () => (await committed(gw)) === 36, 5_000, 50)
    // Let the usage events reach the store, then lose the ledger (a flushed or replaced Redis).
    await new Promise((r) => setTimeout(r, 500))
    expect(await deleteKeys(REDIS_URL, prefix)).toBeGreaterThan(0)
    expect(await committed(gw)).toBe(36)
    // And it goes on from there: five more fit ($96), the sixth does not.
    const results = await Promise.all(Array.from({ length: 10 }, () => ask(gw)))
    expect(results.filter((r) => r.status === 200)).toHaveLength(5)
  })
})
