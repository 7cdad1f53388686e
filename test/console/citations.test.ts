/**
 * Citations in chat: a grounded answer's [n] markers are links to the sources listed under it
 * (file, page or heading, score; the ones it does not cite dimmed), a marker naming no source stays
 * text, and an answer without `sources` renders as plain Markdown. The threads are real (the mock
 * provider echoes the question, markers and all); the `sources` of the answer are added to the
 * thread the browser loads, as the conversations service sends them for an assistant with knowledge.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { ADMIN_KEY, startSignIn, type SignInSetup } from './helpers.ts'

const ADMIN = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
const QUESTION = 'Holidays are 30 days a year [1]; train tickets are refunded within a week [2]. Footnote [7] names nothing, and `[1]` in code stays code.'
const SOURCES = [
  { number: 1, cited: true, collection_id: 'col_handbook', document_id: 'doc_1', file_id: null, filename: 'holidays.md', page: null, heading: 'Holidays', start_offset: 0, end_offset: 80, score: 0.91 },
  { number: 2, cited: true, collection_id: 'col_handbook', document_id: 'doc_2', file_id: null, filename: 'expenses.pdf', page: 4, heading: null, start_offset: 0, end_offset: 90, score: 0.77 },
  { number: 3, cited: false, collection_id: 'col_handbook', document_id: 'doc_3', file_id: null, filename: 'parking.md', page: null, heading: 'Parking', start_offset: 0, end_offset: 40, score: 0.31 },
]

let setup: SignInSetup
let browser: Browser

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  setup = await startSignIn({ services: '  console: {}\n  conversations: {}\n  chat: {}' })
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await setup?.close()
})

/** A thread holding the question and the mock's echo of it. */
async function threadWithAnswer(title: string): Promise<string> {
  const created = await fetch(`${setup.gw.url}/api/v1/chat/threads`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ metadata: {} }) })
  const thread = ((await created.json()) as { data: { id: string } }).data
  await fetch(`${setup.gw.url}/api/v1/chat/threads/${thread.id}`, { method: 'PATCH', headers: ADMIN, body: JSON.stringify({ title }) })
  const sent = await fetch(`${setup.gw.url}/api/v1/chat/threads/${thread.id}/messages`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ content: QUESTION, model: 'mock' }) })
  expect(sent.status).toBeLessThan(300)
  return thread.id
}

/** The thread as the browser loads it, its answer carrying `sources`. */
async function withSources(page: Page, threadId: string): Promise<void> {
  await page.route(new RegExp(`/api/v1/chat/threads/${threadId}(\\?|$)`), async (route) => {
    const res = await route.fetch()
    const body = (await res.json()) as { data: { messages: { role: string; sources?: unknown }[] } }
    for (const m of body.data.messages) if (m.role === 'assistant') m.sources = SOURCES
    await route.fulfill({ response: res, json: body })
  })
}

describe.skipIf(skipWithoutChromium)('citations in chat', () => {
  it('links each [n] of a grounded answer to its source under the message', async () => {
    const id = await threadWithAnswer('Grounded')
    const { context, page } = await openPage(browser)
    await signInWithKey(page, setup.gw.url, ADMIN_KEY)
    await withSources(page, id)
    await page.goto(`${setup.gw.url}/chat/${id}`)
    const answer = page.locator('[data-role=assistant]').last()
    await answer.locator('[data-source]').first().waitFor()

    // Three sources, numbered, with where they come from; the one not cited dimmed and said so.
    expect(await answer.locator('[data-source]').count()).toBe(3)
    expect(await answer.locator('[data-source="2"]').innerText()).toMatch(/expenses\.pdf · p\. 4[\s\S]*0\.77/)
    expect(await answer.locator('[data-source="1"]').innerText()).toContain('holidays.md · Holidays')
    expect(await answer.locator('[data-source="3"]').innerText()).toContain('(not cited)')

    // [1] and [2] are links to them; [7] (no such source) and the [1] in code are not.
    const markers = answer.locator('a[data-cite]')
    // The markers become links once the Markdown renderer (its own chunk) has loaded: wait for that on a busy machine.
    await markers.first().waitFor()
    expect(await markers.allInnerTexts()).toEqual(['[1]', '[2]'])
    expect(await answer.locator('code', { hasText: '[1]' }).locator('a').count()).toBe(0)
    expect(await answer.locator('.markdown').innerText()).toContain('Footnote [7] names nothing')
    const path = new URL(page.url()).pathname
    await markers.nth(1).click()
    // The source is focused, and the chat stays where it was (no jump through <base href>).
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-source'))).toBe('2')
    expect(new URL(page.url()).pathname).toBe(path)
    await screenshot(page, '50-chat-citations')
    await context.close()
  }, 60_000)

  it('renders an answer without sources as before: markers stay text, no sources list', async () => {
    const id = await threadWithAnswer('Not grounded')
    const { context, page } = await openPage(browser, PHONE)
    await signInWithKey(page, setup.gw.url, ADMIN_KEY)
    await page.goto(`${setup.gw.url}/chat/${id}`)
    const answer = page.locator('[data-role=assistant]').last()
    await answer.getByText(/Footnote \[7\]/).waitFor()
    expect(await answer.locator('a[data-cite]').count()).toBe(0)
    expect(await answer.locator('[data-source]').count()).toBe(0)
    expect(await answer.innerText()).toContain('a year [1]')
    await screenshot(page, '51-phone-chat-no-sources')
    // The grounded one at phone width.
    await withSources(page, id)
    await page.reload()
    await answer.locator('[data-source="3"]').waitFor()
    await answer.locator('[data-source="3"]').scrollIntoViewIfNeeded()
    await screenshot(page, '52-phone-chat-citations')
    await context.close()
  }, 60_000)
})
