/**
 * The language of a collection made in the console: the New collection dialog offers the language
 * of its documents (the gateway's default unless chosen), and the collection made keeps it
 * (`text_search`), so a German collection's keyword search matches German word forms.
 * Screenshots in test-output/console/.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, openSignedIn, screenshot, skipWithoutChromium } from '../helpers/browser.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { keyAdminConfig } from './helpers.ts'

const ADMIN_KEY = 'console-knowledge-language-admin-key-0123456789'
const CONFIG = keyAdminConfig(ADMIN_KEY, { services: ['rag: { embedding_route: mock }'], vector: true })

let gw: RunningGateway
let browser: Browser

async function collections(): Promise<{ name: string; text_search: string }[]> {
  const res = await fetch(`${gw.url}/api/v1/rag/collections`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
  return ((await res.json()) as { data: { name: string; text_search: string }[] }).data
}

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  ;[gw, browser] = await Promise.all([startTestGateway(CONFIG), launchBrowser()])
}, 90_000)
afterAll(async () => { await browser?.close(); await gw?.close() })

describe.skipIf(skipWithoutChromium)('the language of a new collection in the console', () => {
  it('makes a collection in the language chosen, and in the gateway\'s default otherwise', async () => {
    for (const [viewport, name, language, shot] of [[LAPTOP, 'Verträge', 'German', 'knowledge-language'], [PHONE, 'Contracts', undefined, 'knowledge-language-phone']] as const) {
      const { page, close } = await openSignedIn(browser, gw.url, ADMIN_KEY, '/knowledge', viewport)
      await page.getByRole('button', { name: 'New collection' }).first().click()
      await page.getByLabel('Name').fill(name)
      const trigger = page.getByLabel('Language of its documents')
      await expect(trigger.innerText()).resolves.toContain('The gateway\'s default')
      if (language) {
        await trigger.click()
        await page.getByRole('option', { name: language }).click()
      }
      await screenshot(page, shot)
      await page.getByRole('button', { name: 'Create collection' }).click()
      await page.locator(`[data-collection="${name}"]`).waitFor()
      await close()
    }
    const made = Object.fromEntries((await collections()).map((c) => [c.name, c.text_search]))
    expect(made).toMatchObject({ Verträge: 'german', Contracts: 'english' })
  }, 90_000)
})
