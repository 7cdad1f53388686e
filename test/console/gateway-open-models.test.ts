/**
 * The Gateway page with a glob route whose models' breakers are open: each model a glob target
 * sends has a breaker of its own, and the page names the open ones under the target (five, then
 * "and N more") instead of the target's own breaker, which only measures latency and reads
 * healthy while every model fails. Breaker states are in plain words (closed reads as "down" to
 * anyone who does not know breaker terms): healthy, failing — paused, testing, with the raw state in
 * the title. A screenshot at each width in test-output/console/.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'
import { keyAdminConfig } from './helpers.ts'

const KEY = 'console-open-models-admin-key-0123456'
const MODELS = Array.from({ length: 7 }, (_, i) => `down-model-${i}`)

describe.skipIf(skipWithoutChromium)('the Gateway page names a glob route\'s open models', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  let browser: Browser

  beforeAll(async () => {
    ensureConsoleBuilt()
    upstream = await startUpstream((_req, res) => sendJson(res, 500, { error: { message: 'down', type: 'server_error', code: null, param: null } }))
    const config = keyAdminConfig(KEY, {
      services: [],
      routes: "  - { model: 'down-*', retry: { attempts: 0 }, circuit: { failures: 1, window_s: 60, cooldown_s: 600 }, targets: [ { provider: down } ] }\n"
        + "  - { model: broken, retry: { attempts: 0 }, circuit: { failures: 1, window_s: 60, cooldown_s: 600 }, targets: [ { provider: down, model: gone } ] }\n",
    })
    gw = await startTestGateway(config.replace('  mock: { plugin: mock }\n', `  mock: { plugin: mock }\n  down: { plugin: openai, api_key: sk-test, base_url: '${upstream.url}' }\n`))
    for (const model of [...MODELS, 'broken']) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }) })
      expect(res.status).toBe(502)
    }
    browser = await launchBrowser()
  }, 90_000)
  afterAll(async () => { await browser?.close(); await gw?.close(); await upstream?.close() })

  for (const [width, viewport] of [['laptop', LAPTOP], ['phone', PHONE]] as const) {
    it(`shows how many models are open and names the first five (${width})`, async () => {
      const { context, page } = await openPage(browser, viewport)
      try {
        await signInWithKey(page, gw.url, KEY)
        await page.goto(`${gw.url}/gateway`)
        const card = page.locator('[data-route="down-*"]')
        await card.waitFor()
        expect(await card.getByText('7 models failing').isVisible()).toBe(true)
        const named = card.getByRole('list', { name: 'Failing models of down' }).getByRole('listitem')
        await named.first().waitFor()
        expect(await named.allInnerTexts()).toEqual([...MODELS.slice(0, 5).map((m) => `${m} · failing — paused`), 'and 2 more'])
        expect(await named.first().locator('[data-circuit]').getAttribute('title')).toMatch(/^circuit open: requests skip it; retry in /)
        // The target's own breaker (latency only) is not shown as healthy beside them.
        expect(await card.getByText('healthy', { exact: true }).count()).toBe(0)
        // A target that answers reads healthy, one whose breaker opened failing — paused: the raw state only in the title.
        const healthy = page.locator('[data-route="mock"] [data-circuit]')
        expect(await healthy.innerText()).toBe('healthy')
        expect(await healthy.getAttribute('title')).toMatch(/^circuit closed: requests go through/)
        const broken = page.locator('[data-route="broken"] [data-circuit]')
        expect(await broken.innerText()).toBe('failing — paused')
        expect(await broken.getAttribute('title')).toMatch(/^circuit open: requests skip it; retry in /)
        expect(await broken.isVisible()).toBe(true)
        expect(await page.getByText(/^(closed|open|half-open)$/).count()).toBe(0)
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true)
        await screenshot(page, `gateway-open-models-${width}`)
      } finally {
        await context.close()
      }
    })
  }
})
