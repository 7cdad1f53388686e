/**
 * An admin watching spend on the keys page, in a real browser: each key shows what it has spent
 * this UTC day and month against its budget ("$3.20 of $5.00 today", a bar, a percentage), a key
 * whose budget is spent says "Over budget" in words (not colour alone), a key without a budget
 * shows its spend only, and at phone width the spend and the over-budget state are on screen
 * beside the key's name. The list carries the spend (GET /api/v1/keys): no request per key.
 * Screenshots in test-output/console/ (s01 laptop, s02 phone).
 */
import { randomUUID } from 'node:crypto'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsageLog } from '../../plugins/contracts/capabilities.ts'
import type { UsageEventRepository } from '../../plugins/stages/usage/repository.ts'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, openSignedIn, screenshot, skipWithoutChromium } from '../helpers/browser.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

const ADMIN_KEY = 'console-spend-admin-key-0123456789abcdef'
const CONFIG = `version: 1
store: { plugin: embedded, memory: true, vector: false }
providers:
  mock: { plugin: mock }
routes:
  - { model: mock, targets: [ { provider: mock } ] }
auth:
  strategies:
    - plugin: session
    - plugin: api-key
      keys:
        - { key: "${ADMIN_KEY}", user: admin, role: admin }
services:
  keys: {}
  users: {}
  auth: {}
  console: {}
`

/** The keys, their budgets, and what their usage events cost today (all this month too). */
const KEYS = {
  'over-day': { limits: { budget_usd_per_day: 5, budget_usd_per_month: 50 }, spent: [4, 2.5] },
  'within': { limits: { budget_usd_per_day: 5 }, spent: [3.2] },
  'no-budget': { limits: undefined, spent: [1.25] },
} as const
type Name = keyof typeof KEYS

let gw: RunningGateway
let browser: Browser

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  gw = await startTestGateway(CONFIG)
  const events = []
  for (const [name, { limits, spent }] of Object.entries(KEYS)) {
    const res = await fetch(`${gw.url}/api/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, ...(limits ? { limits } : {}) }) })
    expect(res.status).toBe(201)
    const { id } = (await res.json()).data
    for (const costUsd of spent) events.push({ eventId: randomUUID(), time: new Date(), requestId: `spend-${name}`, keyId: id, model: 'mock', status: 200, latencyMs: 5, costUsd })
  }
  await (capability(gw, UsageLog) as UsageEventRepository).insertBatch(events)
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await gw?.close()
})

const row = (page: Page, name: Name) => page.locator('tbody tr', { has: page.getByText(name, { exact: true }) })
const text = async (locator: ReturnType<Page['locator']>) => (await locator.innerText()).replace(/\s+/g, ' ').trim()

describe.skipIf(skipWithoutChromium)('keys page: spend against budget, for an admin', { timeout: 60_000 }, () => {
  it('shows each key\'s spend this UTC day and month against its budget, and an over-budget key in words', async () => {
    const { page, close } = await openSignedIn(browser, gw.url, ADMIN_KEY, '/keys', LAPTOP)
    const keyRequests: string[] = []
    page.on('request', (req) => { if (new URL(req.url()).pathname.startsWith('/api/v1/keys/')) keyRequests.push(req.url()) })
    await page.reload()
    await row(page, 'over-day').locator('[data-spend-column] [data-key-spend]').waitFor()
    expect(await page.locator('thead th').allTextContents()).toContain('Spend (UTC)')

    const over = row(page, 'over-day').locator('[data-spend-column] [data-key-spend]')
    expect(await text(over.locator('[data-spend-period="today"]'))).toBe('$6.50 of $5.00 today Over budget')
    expect(await text(over.locator('[data-spend-period="this month"]'))).toBe('$6.50 of $50.00 this month 13%')
    await expect.poll(() => over.getByRole('meter', { name: 'Spent of the budget this UTC day' }).getAttribute('aria-valuetext')).toBe('$6.50 of $5.00, over budget')

    const within = row(page, 'within').locator('[data-spend-column] [data-key-spend]')
    expect(await text(within.locator('[data-spend-period="today"]'))).toBe('$3.20 of $5.00 today 64%')
    expect(await within.locator('[data-over-budget]').count()).toBe(0)
    // No month budget: what it spent this month, no bar.
    expect(await text(within.locator('[data-spend-period="this month"]'))).toBe('$3.20 this month')

    const free = row(page, 'no-budget').locator('[data-spend-column] [data-key-spend]')
    expect(await text(free)).toBe('$1.25 today $1.25 this month')
    expect(await free.getByRole('meter').count()).toBe(0)
    // At 1280 px the table with its spend column fits: nothing scrolled out of sight.
    expect(await page.locator('table').evaluate((t) => t.parentElement!.scrollWidth <= t.parentElement!.clientWidth)).toBe(true)
    await screenshot(page, 's01-keys-spend-laptop')
    // The list carried it all: no request per key.
    expect(keyRequests).toEqual([])
    await close()
  })

  it('keeps the spend and the over-budget state on screen at phone width, beside the key\'s name', async () => {
    const { page, close } = await openSignedIn(browser, gw.url, ADMIN_KEY, '/keys', PHONE)
    const nameCell = row(page, 'over-day').locator('td').first()
    const overText = nameCell.getByText('Over budget')
    await overText.waitFor()
    const box = (await overText.boundingBox())!
    expect(box.x).toBeGreaterThanOrEqual(0)
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width)
    expect(await text(nameCell.locator('[data-spend-period="today (UTC)"]'))).toBe('$6.50 of $5.00 today (UTC) Over budget')
    expect(await text(row(page, 'within').locator('td').first().locator('[data-key-spend]'))).toBe('$3.20 of $5.00 today (UTC) · 64%')
    // Nothing is cut off: the spend line wraps within the name's cell.
    const spend = nameCell.locator('[data-key-spend]')
    expect(await spend.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true)
    await screenshot(page, 's02-keys-spend-phone')
    await close()
  })
})
