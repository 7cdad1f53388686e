/**
 * The chat page's threads as a person moving between them expects: a model switched mid-chat stays
 * the thread's (after a reload, after another thread and back, and answers), an answer streaming
 * in one thread goes on while another is used (whose Stop never ends it), a first question the
 * model failed is still there after a reload, an ended session keeps the typed message and offers
 * a way back in, every chat is reachable past the first hundred, and "Load earlier messages" keeps
 * the reader's place; a new chat's first answer streams in view with its Stop while the page moves
 * to the new chat's address. Screenshots go to test-output/console/69-*.png.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { modelPicker, openChatPage, pickModel, startChatGateway } from './chat-page.ts'
import { ADMIN_KEY, type SignInSetup } from './helpers.ts'

const ADMIN = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
const SLOW = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ')

let setup: SignInSetup
let browser: Browser

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  setup = await startChatGateway({
    slow: `{ plugin: mock, chunk_delay_ms: 60, reply: "${SLOW}" }`,
    other: '{ plugin: mock, reply: "the other model answers" }',
    broken: '{ plugin: mock, fail_status: 502 }',
  })
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await setup?.close()
})

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${setup.gw.url}${path}`, { method, headers: ADMIN, body: body === undefined ? undefined : JSON.stringify(body) })
  return ((await res.json()) as { data: unknown }).data
}

const openChat = () => openChatPage(browser, setup.gw.url, LAPTOP)
const picker = modelPicker
const box = (page: Page) => page.getByLabel('Message', { exact: true })
async function send(page: Page, text: string): Promise<void> {
  await box(page).fill(text)
  await box(page).press('Enter')
}
async function answered(page: Page, text: string | RegExp): Promise<void> {
  await page.locator('[data-role=assistant]').getByText(text).last().waitFor({ timeout: 30_000 })
  await page.getByRole('button', { name: 'Send' }).waitFor()
}
const threadOf = (page: Page) => new URL(page.url()).pathname.split('/chat/')[1]!
const openThread = (page: Page, title: string) => page.getByRole('list', { name: 'Threads' }).getByRole('button', { name: new RegExp(`^${title}`) }).click()

describe.skipIf(skipWithoutChromium)('the chat page across threads', () => {
  it('keeps a model switched mid-chat: after a reload, after another thread and back, and the next answer is its', async () => {
    await call('POST', '/api/v1/chat/threads', { title: 'Elsewhere', metadata: { model: 'mock' } })
    const { page, close } = await openChat()
    await pickModel(page, 'mock')
    await send(page, 'one')
    await answered(page, 'echo: one')
    const id = threadOf(page)
    await pickModel(page, 'other')
    await expect.poll(async () => (await call('GET', `/api/v1/chat/threads/${id}`)).metadata.model).toBe('other')
    await page.reload()
    await page.getByText('echo: one').waitFor()
    expect(await picker(page).innerText()).toBe('other')
    await openThread(page, 'Elsewhere')
    await page.getByRole('heading', { name: 'Elsewhere' }).waitFor()
    expect(await picker(page).innerText()).toBe('mock')
    await openThread(page, 'one')
    await page.getByText('echo: one').waitFor()
    expect(await picker(page).innerText()).toBe('other')
    await send(page, 'two')
    await answered(page, 'the other model answers')
    await screenshot(page, '69a-chat-model-switched')
    await close()
  }, 90_000)

  it('shows a new chat\'s answer as it streams, with Stop, from its first word to its last, on a busy page too', async () => {
    const { page, close } = await openChat()
    // A slow phone: the router's move to /chat/<id> (a transition) is held back while the deltas keep the page busy.
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 })
    await pickModel(page, 'slow')
    // Every state of the page the reader could see, from the question sent until the answer is kept.
    await page.evaluate(() => {
      const seen: { question: boolean; answer: number; stop: boolean }[] = []
      ;(window as unknown as { seen: typeof seen }).seen = seen
      new MutationObserver(() => seen.push({
        question: !!document.querySelector('[data-role=user]'),
        answer: document.querySelector('[data-role=assistant]')?.textContent?.match(/word\d+/g)?.length ?? -1,
        stop: !!document.querySelector('button[aria-label=Stop]'),
      })).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true })
    })
    await send(page, 'a new chat, slowly')
    await page.locator('[data-role=assistant]').getByText('word5').waitFor({ timeout: 30_000 })
    await screenshot(page, '69g-chat-new-chat-streaming')
    await answered(page, 'word39')
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 })
    expect(page.url()).toContain(`/chat/${threadOf(page)}`)
    const seen = await page.evaluate(() => (window as unknown as { seen: { question: boolean; answer: number; stop: boolean }[] }).seen)
    // Stop from the moment the question is sent until the answer ends (it vanished, and the
    // exchange with it, while the page moved to the new chat's address: up to the whole answer long).
    const sent = seen.findIndex((s) => s.stop)
    const ended = seen.map((s) => s.stop).lastIndexOf(true)
    expect(sent).toBeGreaterThanOrEqual(0)
    expect(seen.slice(sent, ended + 1).filter((s) => !s.stop)).toEqual([])
    // Once shown, the question stays.
    expect(seen.slice(seen.findIndex((s) => s.question)).filter((s) => !s.question)).toEqual([])
    // And the answer grew in view, word after word, not all at once at the end.
    expect(new Set(seen.filter((s) => s.stop && s.answer > 0).map((s) => s.answer)).size).toBeGreaterThan(3)
    await close()
  }, 90_000)

  it('lets another thread be used while an answer streams, whose Stop never ends it; coming back shows it whole', async () => {
    await call('POST', '/api/v1/chat/threads', { title: 'Side talk', metadata: { model: 'mock' } })
    const { page, close } = await openChat()
    await pickModel(page, 'slow')
    await send(page, 'tell me a slow story')
    await page.locator('[data-role=assistant]').getByText('word2').waitFor({ timeout: 30_000 })
    const a = threadOf(page)
    await openThread(page, 'Side talk')
    await page.getByRole('heading', { name: 'Side talk' }).waitFor()
    // The list marks the thread whose answer still streams, not with a count that lags until it is kept.
    const listed = (id: string) => page.locator(`[role=listitem][data-thread-id="${id}"]`).textContent()
    await expect.poll(() => listed(a)).toContain('answering…')
    // This thread's own box: no Stop (nothing streams here), the picker free, Enter sends.
    expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(0)
    expect(await picker(page).isDisabled()).toBe(false)
    await send(page, 'meanwhile here')
    await answered(page, 'echo: meanwhile here')
    expect(await box(page).inputValue()).toBe('')
    await screenshot(page, '69b-chat-other-thread-while-streaming')
    // Thread A kept streaming, and ends complete.
    await expect.poll(async () => (await call('GET', `/api/v1/chat/threads/${a}`)).messages.at(-1)?.status, { timeout: 30_000 }).toBe('completed')
    expect((await call('GET', `/api/v1/chat/threads/${a}`)).messages.at(-1).content).toBe(SLOW)
    await expect.poll(() => listed(a), { timeout: 15_000 }).toContain('2 messages')
    await openThread(page, 'tell me a slow story')
    await page.locator('[data-role=assistant]').getByText('word39').waitFor()
    expect(await page.getByText('Stopped.').count()).toBe(0)
    expect(await page.locator('[data-role=assistant]').count()).toBe(1)
    await close()
  }, 90_000)

  it('keeps a first question the model failed: after a reload it is there, unanswered, and Retry answers it', async () => {
    const { page, close } = await openChat()
    await pickModel(page, 'broken')
    await send(page, 'Will this fail?')
    await page.locator('[data-role=assistant]').getByText(/provider failed/i).waitFor({ timeout: 30_000 })
    const id = threadOf(page)
    await expect.poll(async () => (await call('GET', `/api/v1/chat/threads/${id}`)).messages.map((m: any) => m.content)).toEqual(['Will this fail?'])
    await page.reload()
    await page.locator('[data-role=user]').getByText('Will this fail?').waitFor()
    const answer = page.locator('[data-role=assistant]').last()
    await answer.getByText(/got no answer/).waitFor()
    await page.locator(`[data-thread-id="${id}"]`).getByText('1 message', { exact: false }).waitFor()
    expect(await page.locator(`[data-thread-id="${id}"]`).innerText()).toMatch(/1 message$/)
    await screenshot(page, '69c-chat-failed-first-question-after-reload')
    await pickModel(page, 'mock')
    await answer.getByRole('button', { name: 'Retry' }).click()
    await answered(page, 'echo: Will this fail?')
    expect((await call('GET', `/api/v1/chat/threads/${id}`)).messages.map((m: any) => m.content)).toEqual(['Will this fail?', 'echo: Will this fail?'])
    await close()
  }, 90_000)

  it('keeps the typed message when the session ended elsewhere, says so plainly, and signs in again to send it', async () => {
    const { context, page } = await openPage(browser, LAPTOP)
    await signInWithKey(page, setup.gw.url, ADMIN_KEY)
    await page.goto(`${setup.gw.url}/chat`)
    await picker(page).waitFor()
    await pickModel(page, 'mock')
    const other = await context.newPage()
    await other.goto(`${setup.gw.url}/chat`)
    await other.getByRole('button', { name: 'Account' }).click()
    await other.getByRole('menuitem', { name: 'Sign out' }).click()
    await other.getByLabel('API key').waitFor()
    await send(page, 'Sent after the session ended')
    await page.getByText(/session has ended/i).waitFor()
    expect(await page.locator('body').innerText()).not.toMatch(/Bearer|credentials/)
    expect(await box(page).inputValue()).toBe('Sent after the session ended')
    await screenshot(page, '69d-chat-session-ended')
    await page.getByRole('button', { name: 'Sign in again' }).click()
    await page.getByLabel('API key').fill(ADMIN_KEY)
    await page.getByRole('button', { name: /Sign in with key/ }).click()
    await box(page).waitFor()
    await expect.poll(() => box(page).inputValue()).toBe('Sent after the session ended')
    await box(page).press('Enter')
    await answered(page, 'echo: Sent after the session ended')
    await context.close()
  }, 90_000)

  it('keeps the reader\'s place when earlier messages load', async () => {
    const t = await call('POST', '/api/v1/chat/threads', { title: 'Long history', metadata: { model: 'mock' } })
    for (let i = 0; i < 30; i++) await call('POST', `/api/v1/chat/threads/${t.id}/messages`, { content: `question ${i}`, model: 'mock' })
    const { page, close } = await openChat()
    await page.goto(`${setup.gw.url}/chat/${t.id}`)
    await page.getByText('echo: question 29').waitFor()
    const scroller = page.locator('[data-chat-scroll]')
    await scroller.evaluate((el) => el.scrollTo(0, 0))
    const first = page.locator('[data-role=user]').first()
    const firstText = await first.innerText()
    const topBefore = (await first.boundingBox())!.y
    await page.getByRole('button', { name: 'Load earlier messages' }).click()
    await page.getByText('echo: question 0').waitFor({ state: 'attached' })
    await page.waitForTimeout(300)
    const same = page.locator('[data-role=user]', { hasText: new RegExp(`^${firstText}$`) })
    expect(Math.abs((await same.boundingBox())!.y - topBefore)).toBeLessThan(4)
    expect(await scroller.evaluate((el) => el.scrollTop)).toBeGreaterThan(100)
    await screenshot(page, '69e-chat-load-earlier-keeps-place')
    await close()
  }, 90_000)

  it('reaches every chat past the first hundred with "Show older chats"', async () => {
    for (let i = 0; i < 105; i++) await call('POST', '/api/v1/chat/threads', { title: `Bulk ${i}`, metadata: { model: 'mock' } })
    const { page, close } = await openChat()
    const list = page.getByRole('list', { name: 'Threads' })
    await list.getByText('Bulk 104', { exact: true }).waitFor()
    expect(await list.getByText('Bulk 0', { exact: true }).count()).toBe(0)
    await list.getByRole('button', { name: 'Show older chats' }).click()
    await list.getByText('Bulk 0', { exact: true }).waitFor()
    await list.evaluate((el) => el.scrollTo(0, el.scrollHeight))
    await screenshot(page, '69f-chat-older-chats')
    await openThread(page, 'Bulk 0')
    await page.getByRole('heading', { name: 'Bulk 0' }).waitFor()
    await close()
  }, 120_000)
})
