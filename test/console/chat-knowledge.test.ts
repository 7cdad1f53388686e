/**
 * Knowledge attached in the chat itself, as Open WebUI's `#` does: typing `#` in the message box
 * lists the collections the user sees (filtered as they type; arrows and Enter pick, no mouse
 * needed), the pick is a chip over the box, the answer is grounded in it with a citation that
 * links to the document, the thread keeps it after a reload, and the chip's button removes it (the
 * next answer is not grounded). The Attach knowledge button offers the same list. The mock model
 * echoes the question, its [1] included: a grounded answer cites the passage found.
 * Screenshots in test-output/console/ (chat-knowledge-*), at 1280 and 390 px.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, openSignedIn, screenshot, skipWithoutChromium } from '../helpers/browser.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { keyAdminConfig } from './helpers.ts'

const ADMIN_KEY = 'console-chat-knowledge-admin-key-0123456789'
const CONFIG = keyAdminConfig(ADMIN_KEY, { services: ['rag: { embedding_route: mock }', 'conversations', 'chat'], vector: true })

let gw: RunningGateway
let browser: Browser
const collections: Record<string, string> = {}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; data: any }> {
  const res = await fetch(`${gw.url}/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, data: ((await res.json()) as { data: unknown }).data }
}

async function collectionWith(name: string, filename: string, text: string): Promise<void> {
  const made = await call('POST', '/rag/collections', { name })
  expect(made.status).toBe(201)
  collections[name] = made.data.id
  const form = new FormData()
  form.append('file', new Blob([text], { type: 'text/plain' }), filename)
  const uploaded = await fetch(`${gw.url}/api/v1/rag/collections/${made.data.id}/documents`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` }, body: form })
  expect(uploaded.status).toBe(202)
  // Outside a test (beforeAll): polled by hand, as expect.poll is not available there.
  for (const deadline = Date.now() + 20_000; ;) {
    const statuses = (await call('GET', `/rag/collections/${made.data.id}/documents`)).data.map((d: { status: string }) => d.status)
    if (statuses.join() === 'completed') return
    if (Date.now() > deadline) throw new Error(`${filename} not ingested: ${statuses.join()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const box = (page: Page) => page.getByRole('combobox', { name: 'Message' })
const chip = (page: Page, name: string) => page.locator(`[data-knowledge-chip="${name}"]`)
const lastAnswer = (page: Page) => page.locator('[data-role=assistant]').last()

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  ;[gw, browser] = await Promise.all([startTestGateway(CONFIG), launchBrowser()])
  await collectionWith('Travel rules', 'travel.txt', 'Train tickets are refunded within five working days of the trip.\n')
  await collectionWith('Holidays', 'holidays.txt', 'Everyone has thirty days of paid holiday a year.\n')
}, 120_000)
afterAll(async () => { await browser?.close(); await gw?.close() })

describe.skipIf(skipWithoutChromium)('knowledge attached in the chat', () => {
  it('picks a collection with #, answers from it with a citation to the document, keeps it on reload, and removes it', async () => {
    const { page, close } = await openSignedIn(browser, gw.url, ADMIN_KEY, '/chat', LAPTOP)
    await page.getByRole('combobox', { name: 'Model or assistant' }).waitFor()
    // `#` lists the collections (newest first); the arrows move through them, Escape closes the list and leaves the text.
    await box(page).click()
    await box(page).pressSequentially('#')
    const list = page.getByRole('listbox', { name: 'Knowledge collections' })
    await list.waitFor()
    expect(await list.getByRole('option').allInnerTexts()).toEqual(['Holidays', 'Travel rules'])
    await box(page).press('ArrowDown')
    expect(await list.getByRole('option', { selected: true }).innerText()).toBe('Travel rules')
    expect(await box(page).getAttribute('aria-activedescendant')).toBe(await list.getByRole('option', { selected: true }).getAttribute('id'))
    await box(page).press('Escape')
    await list.waitFor({ state: 'detached' })
    expect(await box(page).inputValue()).toBe('#')
    // `#tra` lists the collections whose name holds it; the keyboard picks one.
    await box(page).fill('')
    await box(page).pressSequentially('#tra')
    await list.waitFor()
    expect(await list.getByRole('option').allInnerTexts()).toEqual(['Travel rules'])
    expect(await box(page).getAttribute('aria-expanded')).toBe('true')
    await screenshot(page, 'chat-knowledge-picker')
    await box(page).press('Enter')
    await chip(page, 'Travel rules').waitFor()
    // The `#tra` is gone from the question; the list closed; nothing was sent.
    expect(await box(page).inputValue()).toBe('')
    expect(await list.count()).toBe(0)
    expect(await page.locator('[data-role=user]').count()).toBe(0)

    await box(page).fill('How fast are train tickets refunded [1]?')
    await box(page).press('Enter')
    // The answer cites the passage; its source links to the document on the Knowledge page.
    const link = lastAnswer(page).locator('[data-source="1"] a[data-source-document]')
    await link.waitFor({ timeout: 20_000 })
    expect(await link.innerText()).toBe('travel.txt')
    await lastAnswer(page).locator('a[data-cite]').first().waitFor()
    await page.waitForURL(/\/chat\/conv_/)
    const threadId = new URL(page.url()).pathname.split('/').at(-1)!
    expect((await call('GET', `/chat/threads/${threadId}`)).data.rag_collections).toEqual([collections['Travel rules']])
    await screenshot(page, 'chat-knowledge-answer')

    // Reopened: still attached.
    await page.reload()
    await chip(page, 'Travel rules').waitFor()
    await lastAnswer(page).locator('[data-source="1"] a[data-source-document]').waitFor()

    // Removed with the chip's button: gone from the thread, and the next answer is not grounded.
    await chip(page, 'Travel rules').getByRole('button', { name: 'Remove Travel rules' }).click()
    await expect.poll(async () => (await call('GET', `/chat/threads/${threadId}`)).data.rag_collections).toEqual([])
    expect(await chip(page, 'Travel rules').count()).toBe(0)
    await box(page).fill('And the holidays [1]?')
    await box(page).press('Enter')
    await expect.poll(() => page.locator('[data-role=assistant]').count()).toBe(2)
    await lastAnswer(page).getByText('And the holidays').waitFor()
    expect(await lastAnswer(page).locator('[data-source]').count()).toBe(0)
    await page.reload()
    await lastAnswer(page).getByText('And the holidays').waitFor()
    expect(await page.locator('[data-knowledge-chip]').count()).toBe(0)
    await close()
  }, 90_000)

  it('attaches from the button by keyboard, and shows readable chips on a phone', async () => {
    const { page, close } = await openSignedIn(browser, gw.url, ADMIN_KEY, '/chat', PHONE)
    await page.getByRole('combobox', { name: 'Model or assistant' }).waitFor()
    const button = page.getByRole('button', { name: 'Attach knowledge' })
    await button.focus()
    await page.keyboard.press('Enter')
    await page.getByRole('menuitem', { name: 'Holidays' }).waitFor()
    await screenshot(page, 'chat-knowledge-menu-phone')
    // Opened by the keyboard, the first collection (the newest: Holidays) has the focus; Enter picks it.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-knowledge-option'))).toBe('Holidays')
    await page.keyboard.press('Enter')
    await chip(page, 'Holidays').waitFor()
    // The second through `#` at the phone's width too.
    await box(page).click()
    await box(page).pressSequentially('#')
    // Holidays is attached: only Travel rules is offered.
    const options = page.getByRole('listbox', { name: 'Knowledge collections' }).getByRole('option')
    await options.first().waitFor()
    expect(await options.allInnerTexts()).toEqual(['Travel rules'])
    await screenshot(page, 'chat-knowledge-hash-phone')
    await options.first().click()
    await chip(page, 'Travel rules').waitFor()
    for (const name of ['Holidays', 'Travel rules']) {
      const shown = await chip(page, name).boundingBox()
      expect(shown!.x + shown!.width).toBeLessThanOrEqual(PHONE.width)
      expect(await chip(page, name).innerText()).toBe(name)
    }
    await box(page).fill('How many days of holiday [1]?')
    await box(page).press('Enter')
    await lastAnswer(page).locator('[data-source] a[data-source-document]').first().waitFor({ timeout: 20_000 })
    await page.waitForURL(/\/chat\/conv_/)
    const threadId = new URL(page.url()).pathname.split('/').at(-1)!
    expect([...(await call('GET', `/chat/threads/${threadId}`)).data.rag_collections].sort()).toEqual([collections.Holidays, collections['Travel rules']].sort())
    await screenshot(page, 'chat-knowledge-phone')
    await close()
  }, 90_000)
})
