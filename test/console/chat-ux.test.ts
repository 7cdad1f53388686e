/**
 * The chat page as a demanding ChatGPT / Open WebUI user uses it, in Debian's chromium against a
 * gateway with stored threads: a streamed answer rendered as Markdown while it arrives (headings,
 * lists, tables, code with its language and a copy button), Stop that keeps what arrived,
 * regenerate and edit-and-resend of the last message (the thread keeps only the new exchange) or of
 * an earlier one (the thread is cut there),
 * Enter / Shift+Enter, the focus back in the box after Stop, Regenerate and Edit, a model choice remembered, errors in plain words with Retry, searching the
 * threads by title and by what was said, and scrolling that follows the stream unless the reader scrolled up; the same in the
 * single-exchange chat of a gateway without the conversations services. Screenshots in light,
 * dark and at 390 px go to test-output/console/6x-*.png.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { openChatPage, pickModel, startChatGateway } from './chat-page.ts'
import { ADMIN_KEY, startSignIn, type SignInSetup } from './helpers.ts'

const ADMIN = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
const RICH = [
  '## Release plan', '', '- build the image', '- run the **tests**', '',
  '| step | minutes |', '| --- | --- |', '| build | 4 |', '| test | 9 |', '',
  '```python', 'def total(xs):', '    return sum(xs)', '```', '', 'Done.',
].join('\n')
const LONG = Array.from({ length: 90 }, (_, i) => `Paragraph ${i} of a long answer.`).join('\n\n')

let setup: SignInSetup
let browser: Browser

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  setup = await startChatGateway({
    rich: `{ plugin: mock, chunk_delay_ms: 30, reply: ${JSON.stringify(RICH)} }`,
    long: `{ plugin: mock, chunk_delay_ms: 12, reply: ${JSON.stringify(LONG)} }`,
    busy: '{ plugin: mock, fail_status: 429 }',
    broken: '{ plugin: mock, fail_status: 502 }',
  })
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await setup?.close()
})

const openChat = (viewport = PHONE, colorScheme: 'light' | 'dark' = 'light') =>
  openChatPage(browser, setup.gw.url, viewport, { colorScheme, permissions: ['clipboard-read', 'clipboard-write'] })

async function storedMessages(threadId: string): Promise<{ role: string; content: string | null }[]> {
  const res = await fetch(`${setup.gw.url}/api/v1/chat/threads/${threadId}`, { headers: ADMIN })
  return ((await res.json()) as { data: { messages: { role: string; content: string | null }[] } }).data.messages
}

const threadOf = (page: Page) => new URL(page.url()).pathname.split('/chat/')[1]!

/** Type a question into the chat's box and send it with Enter. */
async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(text)
  await page.getByLabel('Message', { exact: true }).press('Enter')
}

/** Wait for `text` in the answer and for the box to be ready to send again (the stream has ended). */
async function answered(page: Page, text: string | RegExp): Promise<void> {
  await page.getByText(text).waitFor({ timeout: 30_000 })
  await page.getByRole('button', { name: 'Send' }).waitFor()
}
const LAPTOP_WIDE = { width: 1280, height: 800 }

/** A chat at `viewport` asked for the long story, once its answer has streamed as far as `shown`. */
async function askForLongStory(viewport: { width: number; height: number }, shown: string) {
  const chat = await openChat(viewport)
  await pickModel(chat.page, 'long')
  await send(chat.page, 'Tell me a long story')
  const answer = chat.page.locator('[data-role=assistant]').last()
  await answer.getByText(shown).waitFor({ timeout: 30_000 })
  return { ...chat, answer }
}

/** The focused element's accessible label ("Message" is the chat's box), or its tag when it has none. */
const focused = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.tagName)

/** The next question is typed at once, without clicking the box first. */
async function typesIntoTheBox(page: Page): Promise<void> {
  expect(await focused(page)).toBe('Message')
  await page.keyboard.type('next question')
  expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('next question')
  await page.getByLabel('Message', { exact: true }).fill('')
}

describe.skipIf(skipWithoutChromium)('the chat page, as a ChatGPT user expects it', () => {
  it('renders the answer as Markdown while it streams: heading, list, table, code with its language and a copy button', async () => {
    for (const [viewport, scheme, name] of [[LAPTOP_WIDE, 'light', '60-chat-markdown-light'], [LAPTOP_WIDE, 'dark', '61-chat-markdown-dark'], [PHONE, 'dark', '62-phone-chat-markdown-dark']] as const) {
      const { page, close } = await openChat(viewport, scheme)
      await pickModel(page, 'rich')
      await page.getByLabel('Message', { exact: true }).fill('Plan the release')
      await page.getByLabel('Message', { exact: true }).press('Enter')
      const answer = page.locator('[data-role=assistant]').last()
      // The heading is on screen as a heading while the answer still streams (Stop is still there).
      await answer.getByRole('heading', { name: 'Release plan' }).waitFor({ timeout: 30_000 })
      expect(await page.getByRole('button', { name: 'Stop' }).isVisible()).toBe(true)
      await page.getByRole('button', { name: 'Send' }).waitFor({ timeout: 30_000 })
      expect(await answer.locator('li').allInnerTexts()).toEqual(['build the image', 'run the tests'])
      expect(await answer.locator('table td').allInnerTexts()).toEqual(['build', '4', 'test', '9'])
      const code = answer.locator('[data-code-block]')
      expect(await code.getAttribute('data-language')).toBe('python')
      expect(await code.getByText('python', { exact: true }).isVisible()).toBe(true)
      await code.getByRole('button', { name: 'Copy code' }).click()
      await code.getByRole('button', { name: 'Copied' }).waitFor()
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('def total(xs):\n    return sum(xs)\n')
      // The whole answer, as Markdown.
      await answer.getByRole('button', { name: 'Copy answer' }).click()
      await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(RICH)
      // Nothing wider than the screen: a wide table or code scrolls inside the answer.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width)
      await screenshot(page, name)
      await close()
    }
  }, 120_000)

  it('sends on Enter, breaks the line on Shift+Enter, stops keeping what arrived, and regenerates the answer', async () => {
    const { page, close } = await openChat(LAPTOP_WIDE)
    await pickModel(page, 'long')
    const box = page.getByLabel('Message', { exact: true })
    await box.fill('first line')
    await box.press('Shift+Enter')
    await box.pressSequentially('second line')
    expect(await box.inputValue()).toBe('first line\nsecond line')
    await box.press('Enter')
    const answer = page.locator('[data-role=assistant]').last()
    await answer.getByText('Paragraph 3 ').waitFor({ timeout: 30_000 })
    await page.getByRole('button', { name: 'Stop' }).click()
    await answer.getByText('Stopped.').waitFor()
    const kept = await answer.innerText()
    await page.waitForTimeout(500)
    expect(await answer.innerText()).toBe(kept)
    expect(kept).not.toContain('Paragraph 89')
    const id = threadOf(page)
    await expect.poll(async () => (await storedMessages(id)).map((m) => m.role)).toEqual(['user', 'assistant'])

    // Regenerate: the stopped answer is replaced by a whole new one; the thread keeps one exchange.
    await page.getByRole('button', { name: 'Regenerate' }).click()
    await answer.getByText('Paragraph 89').waitFor({ timeout: 30_000 })
    await page.getByRole('button', { name: 'Send' }).waitFor()
    expect(await page.locator('[data-role=assistant]').count()).toBe(1)
    expect(await page.getByText('Stopped.').count()).toBe(0)
    const after = await storedMessages(id)
    expect(after.map((m) => m.role)).toEqual(['user', 'assistant'])
    expect(after[0]!.content).toBe('first line\nsecond line')
    expect(after[1]!.content).toContain('Paragraph 89')
    await close()
  }, 90_000)

  it('edits an earlier message: sent again in its place, the thread cut there, after saying what goes', async () => {
    const { page, close } = await openChat(LAPTOP_WIDE)
    await pickModel(page, 'mock')
    for (const q of ['First question', 'Second question', 'Third question']) {
      await send(page, q)
      await answered(page, `echo: ${q}`)
    }
    const id = threadOf(page)
    const first = page.locator('[data-role=user]', { hasText: 'First question' })
    await first.hover()
    await first.getByRole('button', { name: 'Edit', exact: true }).click()
    await page.getByText('Sending removes the 5 messages after this one.').waitFor()
    await screenshot(page, '63-chat-edit-earlier')
    await page.getByLabel('Your question, edited').fill('A better first question')
    await page.getByRole('button', { name: 'Save and send' }).click()
    await answered(page, 'echo: A better first question')
    expect(await page.locator('[data-role]').count()).toBe(2)
    expect((await storedMessages(id)).map((m) => m.content)).toEqual(['A better first question', 'echo: A better first question'])
    await close()
  }, 90_000)

  it('edits the last message and sends it again: the old exchange is replaced', async () => {
    const { page, close } = await openChat(LAPTOP_WIDE)
    await pickModel(page, 'mock')
    await send(page, 'What is 2+2?')
    await answered(page, 'echo: What is 2+2?')
    const id = threadOf(page)
    await page.locator('[data-role=user]').last().hover()
    await page.locator('[data-role=user]').last().getByRole('button', { name: 'Edit', exact: true }).click()
    const editor = page.getByLabel('Your question, edited')
    expect(await editor.inputValue()).toBe('What is 2+2?')
    await editor.fill('What is 3+3?')
    await screenshot(page, '63-chat-edit')
    await page.getByRole('button', { name: 'Save and send' }).click()
    await answered(page, 'echo: What is 3+3?')
    // Gone from the conversation (the chat keeps the title its first question gave it).
    expect(await page.locator('[data-role]', { hasText: 'What is 2+2?' }).count()).toBe(0)
    expect((await storedMessages(id)).map((m) => m.content)).toEqual(['What is 3+3?', 'echo: What is 3+3?'])
    // After a reload too.
    await page.reload()
    await page.getByText('echo: What is 3+3?').waitFor()
    expect(await page.locator('[data-role]').count()).toBe(2)

    // A question refused before any answer (429) is not in the thread: editing it leaves the exchange before it alone.
    await pickModel(page, 'busy')
    await send(page, 'Fail me')
    await page.getByText(/too many requests/i).waitFor({ timeout: 30_000 })
    await pickModel(page, 'mock')
    await page.locator('[data-role=user]').last().hover()
    await page.locator('[data-role=user]').last().getByRole('button', { name: 'Edit', exact: true }).click()
    await page.getByLabel('Your question, edited').fill('Edited after a failure')
    await page.getByLabel('Your question, edited').press('Enter')
    await answered(page, 'echo: Edited after a failure')
    expect((await storedMessages(id)).map((m) => m.content)).toEqual(['What is 3+3?', 'echo: What is 3+3?', 'Edited after a failure', 'echo: Edited after a failure'])
    await close()
  }, 90_000)

  it('names a new chat after its first question, without its Markdown marks, so the list tells chats apart', async () => {
    const { page, close } = await openChat(LAPTOP_WIDE)
    await pickModel(page, 'mock')
    await send(page, 'How do I rotate the signing keys of the gateway without downtime for the clients?\nDetails follow.')
    await page.getByText('echo: How do I rotate').waitFor({ timeout: 30_000 })
    const title = 'How do I rotate the signing keys of the gateway without…'
    await page.getByRole('heading', { name: title }).waitFor()
    await page.locator(`[data-thread-id="${threadOf(page)}"]`).getByText(title).waitFor()

    // Without the question's Markdown marks: its heading, bold and code ticks, and a code fence line.
    await page.getByRole('button', { name: 'New chat' }).click()
    await send(page, '```\n## Why does **`npm ci`** fail in __init__?\nlog below')
    await page.getByText('log below').last().waitFor({ timeout: 30_000 })
    await page.getByRole('heading', { name: 'Why does npm ci fail in __init__?', exact: true }).waitFor()
    await page.locator(`[data-thread-id="${threadOf(page)}"]`).getByText('Why does npm ci fail in __init__?', { exact: true }).waitFor()
    await close()
  }, 60_000)

  it('remembers the model picked for the next new chat', async () => {
    const { page, close } = await openChat(LAPTOP_WIDE)
    await pickModel(page, 'rich')
    await page.reload()
    await page.getByRole('combobox', { name: 'Model or assistant' }).waitFor()
    expect(await page.getByRole('combobox', { name: 'Model or assistant' }).innerText()).toBe('rich')
    await close()
  }, 60_000)

  it('says in plain words when the model is rate-limited or its provider fails, and retries', async () => {
    const { page, close } = await openChat(PHONE)
    await pickModel(page, 'busy')
    await send(page, 'Are you there?')
    const answer = page.locator('[data-role=assistant]').last()
    await answer.getByText(/too many requests/i).waitFor({ timeout: 30_000 })
    expect(await answer.innerText()).toMatch(/wait a moment/i)
    await screenshot(page, '64-phone-chat-rate-limited')
    // Retry with the same model fails the same way, still one attempt shown.
    await answer.getByRole('button', { name: 'Retry' }).click()
    await answer.getByText(/too many requests/i).waitFor()
    expect(await page.locator('[data-role=user]').count()).toBe(1)

    await pickModel(page, 'broken')
    await answer.getByRole('button', { name: 'Retry' }).click()
    await answer.getByText(/provider failed/i).waitFor({ timeout: 30_000 })

    // Another model, Retry: the question is answered, asked once in the thread.
    await pickModel(page, 'mock')
    await answer.getByRole('button', { name: 'Retry' }).click()
    await page.getByText('echo: Are you there?').waitFor({ timeout: 30_000 })
    expect(await page.locator('[data-role=user]').count()).toBe(1)
    expect((await storedMessages(threadOf(page))).map((m) => m.content)).toEqual(['Are you there?', 'echo: Are you there?'])
    await close()
  }, 90_000)

  it('says under a question the model failed on that it was not answered, once another is asked (also after a reload)', async () => {
    const { page, close } = await openChat(LAPTOP_WIDE)
    await pickModel(page, 'broken')
    await send(page, 'Will this fail?')
    await page.getByText(/provider failed/i).waitFor({ timeout: 30_000 })
    await pickModel(page, 'mock')
    await send(page, 'And this one?')
    await answered(page, 'echo: And this one?')
    // The thread holds the failed question, kept, and the next exchange after it.
    expect((await storedMessages(threadOf(page))).map((m) => m.content)).toEqual(['Will this fail?', 'And this one?', 'echo: And this one?'])
    const failed = page.locator('[data-role=user]', { hasText: 'Will this fail?' })
    const next = page.locator('[data-role=user]', { hasText: 'And this one?' })
    for (const when of ['answered', 'reloaded']) {
      if (when === 'reloaded') { await page.reload(); await page.getByText('echo: And this one?').waitFor() }
      await failed.getByText('Not answered.').waitFor()
      expect(await next.getByText('Not answered.').count(), when).toBe(0)
    }
    await screenshot(page, '68-chat-not-answered')
    await close()
  }, 60_000)

  it('finds a chat by its title or by what was said in it, in the thread list', async () => {
    for (const title of ['Invoice for March', 'Holiday plans', 'invoice reminders']) {
      const made = await fetch(`${setup.gw.url}/api/v1/chat/threads`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ metadata: { model: 'mock' } }) })
      const { data } = (await made.json()) as { data: { id: string } }
      await fetch(`${setup.gw.url}/api/v1/chat/threads/${data.id}`, { method: 'PATCH', headers: ADMIN, body: JSON.stringify({ title }) })
      if (title === 'Holiday plans') {
        const said = await fetch(`${setup.gw.url}/api/v1/chat/threads/${data.id}/messages`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ content: 'Book the ferry to Tallinn', model: 'rich' }) })
        expect(said.status).toBe(201)
      }
    }
    const { page, close } = await openChat(LAPTOP_WIDE)
    const list = page.getByRole('list', { name: 'Threads' })
    await list.getByText('Holiday plans').waitFor()
    await page.getByRole('searchbox', { name: 'Search chats' }).fill('invoice')
    await expect.poll(() => list.getByRole('listitem').allInnerTexts()).toHaveLength(2)
    expect((await list.getByRole('listitem').allInnerTexts()).join('\n')).not.toContain('Holiday')
    // Not in any title: in what was said.
    await page.getByRole('searchbox', { name: 'Search chats' }).fill('ferry')
    await expect.poll(() => list.getByRole('listitem').allInnerTexts()).toHaveLength(1)
    expect(await list.getByRole('listitem').innerText()).toContain('Holiday plans')
    await page.getByRole('searchbox', { name: 'Search chats' }).fill('nothing like it')
    await page.getByText('No chat matches').waitFor()
    await screenshot(page, '65-chat-search')
    await close()

    // On a phone the list is behind the Chats button, search and all.
    const phone = await openChat(PHONE, 'dark')
    await phone.page.getByRole('button', { name: 'Chats' }).click()
    const sheet = phone.page.getByRole('dialog', { name: 'Chats' })
    await sheet.getByRole('searchbox', { name: 'Search chats' }).fill('holiday')
    await expect.poll(() => sheet.getByRole('listitem').allInnerTexts()).toHaveLength(1)
    await screenshot(phone.page, '68-phone-chat-list-dark')
    await sheet.getByText('Holiday plans').click()
    await phone.page.getByRole('heading', { name: 'Holiday plans' }).waitFor()
    expect(await sheet.count()).toBe(0)
    await phone.close()
  }, 60_000)

  it('follows the stream to the bottom, but not after the reader scrolls up', async () => {
    const { page, close, answer } = await askForLongStory(PHONE, 'Paragraph 20 ')
    const scroller = page.locator('[data-chat-scroll]')
    const gap = () => scroller.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)
    // Following: the newest line is in view.
    expect(await gap()).toBeLessThan(80)
    await scroller.hover()
    await page.mouse.wheel(0, -1500)
    await page.waitForTimeout(300)
    const top = await scroller.evaluate((el) => el.scrollTop)
    await answer.getByText('Paragraph 45 ').waitFor({ timeout: 30_000 })
    expect(Math.abs((await scroller.evaluate((el) => el.scrollTop)) - top)).toBeLessThan(40)
    await screenshot(page, '66-phone-chat-scrolled-up')
    // Back to the newest: it follows again.
    await page.getByRole('button', { name: 'Scroll to the newest' }).click()
    await answer.getByText('Paragraph 89').waitFor({ timeout: 30_000 })
    await page.getByRole('button', { name: 'Send' }).waitFor()
    await expect.poll(gap).toBeLessThan(80)
    await close()
  }, 90_000)

  // Stop, Regenerate and Save and send are gone once clicked (the answer starts or ends): the focus fell to the page's body, and the next question could not be typed before clicking the box.
  it('gives the focus back to the box after Stop, Regenerate and Save and send, and to Edit after an edit is cancelled', async () => {
    const { page, close, answer } = await askForLongStory(LAPTOP_WIDE, 'Paragraph 2 ')
    await page.getByRole('button', { name: 'Stop' }).click()
    await answer.getByText('Stopped.').waitFor()
    await typesIntoTheBox(page)

    await page.getByRole('button', { name: 'Regenerate' }).click()
    await page.getByRole('button', { name: 'Stop' }).waitFor()
    expect(await focused(page)).toBe('Message')
    await answered(page, 'Paragraph 89')
    await typesIntoTheBox(page)

    const question = page.locator('[data-role=user]').last()
    await question.hover()
    await question.getByRole('button', { name: 'Edit', exact: true }).click()
    // Escape cancels the edit and the focus is back on Edit: Enter opens the editor again.
    await page.getByLabel('Your question, edited').press('Escape')
    expect(await focused(page)).toBe('Edit')
    await page.keyboard.press('Enter')
    await page.getByLabel('Your question, edited').fill('Tell me a short story')
    await page.getByRole('button', { name: 'Save and send' }).click()
    await page.getByRole('button', { name: 'Stop' }).click()
    await answer.getByText('Stopped.').waitFor()
    await typesIntoTheBox(page)
    await screenshot(page, '67-chat-focus-after-stop')
    await close()
  }, 90_000)
})

describe.skipIf(skipWithoutChromium)('the chat page without stored threads (no conversations service)', () => {
  let plain: SignInSetup
  beforeAll(async () => {
    plain = await startSignIn({
      providers: [`  long: { plugin: mock, chunk_delay_ms: 12, reply: ${JSON.stringify(LONG)} }`, '  busy: { plugin: mock, fail_status: 429 }'].join('\n'),
      routes: ['long', 'busy'].map((m) => `  - { model: ${m}, targets: [ { provider: ${m} } ], retry: { attempts: 1 } }`).join('\n'),
      services: '  console: {}',
    })
  }, 90_000)
  afterAll(async () => { await plain?.close() })

  it('says a 429 in plain words, retries with another model, regenerates, edits, and stops following when scrolled up', async () => {
    const { context, page } = await openPage(browser, PHONE)
    await signInWithKey(page, plain.gw.url, ADMIN_KEY)
    await page.goto(`${plain.gw.url}/chat`)
    const picker = page.getByRole('combobox', { name: 'Model' })
    const choose = async (model: string) => { await picker.click(); await page.getByRole('option', { name: model, exact: true }).click() }
    await choose('busy')
    await send(page, 'Hello?')
    const answer = page.locator('[data-role=assistant]').last()
    await answer.getByText(/too many requests/i).waitFor({ timeout: 30_000 })
    await choose('mock')
    await answer.getByRole('button', { name: 'Retry' }).click()
    await page.getByText('echo: Hello?').waitFor({ timeout: 30_000 })
    expect(await page.locator('[data-role=user]').count()).toBe(1)
    await page.locator('[data-role=user]').last().getByRole('button', { name: 'Edit', exact: true }).click()
    await page.getByLabel('Your question, edited').fill('Hello again?')
    await page.getByRole('button', { name: 'Save and send' }).click()
    await page.getByText('echo: Hello again?').waitFor({ timeout: 30_000 })
    expect(await page.locator('[data-role]').allInnerTexts()).toHaveLength(2)

    await choose('long')
    await page.getByRole('button', { name: 'Regenerate' }).click()
    await answer.getByText('Paragraph 20 ').waitFor({ timeout: 30_000 })
    expect(await page.locator('[data-role]').count()).toBe(2)
    const scroller = page.locator('[data-chat-scroll]')
    await scroller.hover()
    await page.mouse.wheel(0, -1500)
    await page.waitForTimeout(300)
    const top = await scroller.evaluate((el) => el.scrollTop)
    await answer.getByText('Paragraph 45 ').waitFor({ timeout: 30_000 })
    expect(Math.abs((await scroller.evaluate((el) => el.scrollTop)) - top)).toBeLessThan(40)
    await page.getByRole('button', { name: 'Scroll to the newest' }).waitFor()
    await screenshot(page, '67-phone-single-chat-scrolled-up')
    await context.close()
  }, 90_000)
})

describe.skipIf(skipWithoutChromium)('the chat page on a gateway without the Conversations API (surfaces.responses)', () => {
  let bare: SignInSetup
  beforeAll(async () => {
    bare = await startSignIn({ services: '  console: {}\n  conversations: {}\n  chat: {}' })
  }, 90_000)
  afterAll(async () => { await bare?.close() })

  it('offers no Edit or Regenerate, which would need it, and still chats', async () => {
    const { context, page } = await openPage(browser, PHONE)
    await signInWithKey(page, bare.gw.url, ADMIN_KEY)
    await page.goto(`${bare.gw.url}/chat`)
    await send(page, 'Hi there')
    await page.getByText('echo: Hi there').waitFor({ timeout: 30_000 })
    await page.getByRole('button', { name: 'Copy answer' }).waitFor()
    await page.waitForTimeout(500)
    expect(await page.getByRole('button', { name: 'Regenerate' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: 'Edit', exact: true }).count()).toBe(0)
    await context.close()
  }, 60_000)
})
