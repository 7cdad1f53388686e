/**
 * Console text shown whole. At phone width (390x844) the Gateway page's "Loaded" time was cut off
 * with an ellipsis ("Dec 7, 2026, 2:54 …"), and the analytics metric tabs ran past the card's edge
 * ("Latency p95" clipped), and a knowledge collection with a long name ran past the screen's edge. A name the console cuts off with an ellipsis (a key's, at any width) now
 * shows whole on hover, where before it could not be read at all. Screenshots in test-output/console/.
 */
import type { Browser, Locator } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { keyAdminConfig } from './helpers.ts'

const KEY = 'console-phone-admin-key-0123456789'
const CONFIG = keyAdminConfig(KEY, { services: ['analytics', 'keys', 'rag: { embedding_route: mock }'], vector: true })

/**
 * Whether an element shows all of its content: its text laid out within it (a Range measures the
 * text itself: scrollWidth rounds a 0.3 px overflow away), not cut off with an ellipsis (whether the
 * time fits depends on the minute), and it within the viewport.
 */
const whole = (l: Locator) => l.evaluate((e) => {
  const box = e.getBoundingClientRect()
  const text = document.createRange()
  text.selectNodeContents(e)
  const style = getComputedStyle(e)
  const cuts = style.textOverflow === 'ellipsis' && style.overflowX !== 'visible'
  return !cuts && text.getBoundingClientRect().width <= e.clientWidth + 0.01 && box.left >= 0 && box.right <= window.innerWidth
})

describe.skipIf(skipWithoutChromium)('console text that used to be cut off', () => {
  let gw: RunningGateway
  let browser: Browser
  beforeAll(async () => {
    ensureConsoleBuilt()
    gw = await startTestGateway(CONFIG)
    browser = await launchBrowser()
  }, 90_000)
  afterAll(async () => { await browser?.close(); await gw?.close() })

  const onPhone = async (path: string, check: (page: import('playwright-core').Page) => Promise<void>, shot: string, viewport = PHONE) => {
    const { context, page } = await openPage(browser, viewport)
    try {
      await signInWithKey(page, gw.url, KEY)
      await page.goto(`${gw.url}${path}`)
      await check(page)
      await screenshot(page, shot)
    } finally {
      await context.close()
    }
  }

  it('the Gateway page shows when the config was loaded, time included', async () => {
    await onPhone('/gateway', async (page) => {
      const loaded = page.locator('dt', { hasText: 'Loaded' }).locator('xpath=following-sibling::dd[1]')
      await loaded.waitFor()
      expect(await loaded.innerText()).toMatch(/\d{1,2}:\d{2}/)
      expect(await whole(loaded)).toBe(true)
    }, 'phone-gateway')
  }, 60_000)

  it('the analytics metric tabs all fit the card', async () => {
    await onPhone('/analytics', async (page) => {
      const tabs = page.getByRole('tablist', { name: 'Metric' })
      await tabs.waitFor()
      expect(await whole(tabs)).toBe(true)
      for (const name of ['Requests', 'Tokens', 'Cost', 'Latency p95']) {
        const tab = page.getByRole('tab', { name })
        const [t, list] = [await tab.boundingBox(), await tabs.boundingBox()]
        expect(t!.x >= list!.x && t!.x + t!.width <= list!.x + list!.width + 0.5, name).toBe(true)
      }
    }, 'phone-analytics-tabs')
  }, 60_000)

  it('a key name cut off in the keys table shows whole on hover', async () => {
    const name = 'the nightly billing export job for the finance department'
    const made = await fetch(`${gw.url}/api/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) })
    expect(made.status).toBe(201)
    await onPhone('/keys', async (page) => {
      // The name's own text in its cell (a phone shows the key's status beside it).
      const text = page.getByRole('cell', { name: /^the nightly billing/ }).locator('[title]')
      await text.waitFor()
      // Cut off on screen (so the test means something), and whole in its title.
      expect(await whole(text)).toBe(false)
      expect(await text.getAttribute('title')).toBe(name)
    }, 'laptop-keys-long-name', LAPTOP)
  }, 60_000)

  it('a knowledge collection with a long name stays on a phone\'s screen', async () => {
    const name = 'Handbooks and policies of the company, every version since 2019'
    const made = await fetch(`${gw.url}/api/v1/rag/collections`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) })
    expect(made.status).toBe(201)
    await onPhone('/knowledge', async (page) => {
      const chip = page.locator(`[data-collection="${name}"]`)
      await chip.waitFor()
      const box = (await chip.boundingBox())!
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width)
      expect(await chip.locator('[title]').getAttribute('title')).toBe(name)
    }, 'phone-knowledge-long-name')
  }, 60_000)
})
