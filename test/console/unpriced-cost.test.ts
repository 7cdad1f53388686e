/**
 * The analytics page where some traffic went to models without a price (the mock provider's, a
 * local model's): their requests are recorded at $0, so the cost figure is not the whole spend.
 * Before, the page showed a silent $0; now it says how many requests and which models the cost
 * leaves out, and marks the cost cells that are a lower bound. A screenshot at each width in
 * test-output/console/.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { keyAdminConfig } from './helpers.ts'

const KEY = 'console-unpriced-admin-key-0123456789'
const CONFIG = keyAdminConfig(KEY, {
  services: ['analytics'],
  top: 'pricing:\n  priced-mock: { input: 1000, output: 2000 }\n',
  routes: '  - { model: priced, targets: [ { provider: mock, model: priced-mock } ] }\n',
})

describe.skipIf(skipWithoutChromium)('the analytics page with unpriced traffic', () => {
  let gw: RunningGateway
  let browser: Browser
  const chat = async (model: string) =>
    (await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) })).status

  beforeAll(async () => {
    ensureConsoleBuilt()
    gw = await startTestGateway(CONFIG)
    for (const model of ['mock', 'mock', 'priced']) expect(await chat(model)).toBe(200)
    // The usage writer flushes every 50 ms in tests: wait until the three events are readable.
    await waitFor(async () => {
      const res = await fetch(`${gw.url}/api/v1/analytics/usage`, { headers: { authorization: `Bearer ${KEY}` } })
      return ((await res.json()).data[0]?.requests ?? 0) >= 3 || undefined
    }, 10_000, 50)
    browser = await launchBrowser()
  }, 90_000)
  afterAll(async () => { await browser?.close(); await gw?.close() })

  for (const [width, viewport] of [['laptop', LAPTOP], ['phone', PHONE]] as const) {
    it(`says how many requests the cost leaves out and names their models (${width})`, async () => {
      const { context, page } = await openPage(browser, viewport)
      try {
        await signInWithKey(page, gw.url, KEY)
        await page.goto(`${gw.url}/analytics`)
        const note = page.locator('[data-unpriced-note]')
        await note.waitFor()
        expect(await note.innerText()).toContain('2 requests to models without a price: mock — cost not counted')
        // The total cost is the priced request's only: marked as a lower bound, with the count beside it.
        const cost = page.locator('[data-stat="Cost"]')
        expect(await cost.innerText()).toMatch(/^≥ \$/)
        expect(await page.getByText('2 unpriced not counted').isVisible()).toBe(true)
        // By model: the unpriced model's cost is unknown, not $0; the priced one's is a figure.
        const mockRow = page.locator('tr[data-group="mock"]')
        await mockRow.waitFor()
        expect(await mockRow.innerText()).toContain('unknown')
        expect(await page.locator('tr[data-group="priced-mock"]').innerText()).toMatch(/\$\d/)
        // The note fits the width: no sideways scroll on a phone.
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true)
        // The breakdown's cost column is on screen without scrolling the table sideways (at phone width it ran off the edge).
        const costHead = page.getByRole('columnheader', { name: 'Cost' })
        const [head, table] = [await costHead.boundingBox(), await page.locator('table').boundingBox()]
        const visibleRight = await page.locator('table').evaluate((t) => t.parentElement!.getBoundingClientRect().right)
        expect(head!.x + head!.width, `cost column ends at ${head!.x + head!.width}, the table's box at ${table!.x + table!.width}`).toBeLessThanOrEqual(visibleRight + 0.5)
        await note.scrollIntoViewIfNeeded()
        await screenshot(page, `analytics-unpriced-${width}`)
      } finally {
        await context.close()
      }
    }, 60_000)
  }
})
