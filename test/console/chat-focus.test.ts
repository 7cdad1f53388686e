/**
 * Where the keyboard's focus goes in the chat. Stop, Regenerate and an edited question's Save and
 * send are gone from the page once clicked (the answer starts or ends), and the focus fell to the
 * page's body: the next question could not be typed until the box was clicked. It now comes back to
 * the message box (the composer both chat modes share); an edit cancelled with Escape gives it back
 * to the question's Edit button.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, ensureConsoleBuilt, launchBrowser, screenshot, skipWithoutChromium } from '../helpers/browser.ts'
import { openChatPage, pickModel, startChatGateway } from './chat-page.ts'
import type { SignInSetup } from './helpers.ts'

const LONG = Array.from({ length: 60 }, (_, i) => `Paragraph ${i} of a long answer.`).join('\n\n')

let setup: SignInSetup
let browser: Browser

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  setup = await startChatGateway({ long: `{ plugin: mock, chunk_delay_ms: 15, reply: ${JSON.stringify(LONG)} }` })
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await setup?.close()
})

/** The focused element's accessible label ("Message" is the chat's box), or its tag when it has none. */
const focused = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.tagName)

/** The next question is typed at once, without clicking the box first. */
async function typesIntoTheBox(page: Page): Promise<void> {
  expect(await focused(page)).toBe('Message')
  await page.keyboard.type('next question')
  expect(await page.getByLabel('Message', { exact: true }).inputValue()).toBe('next question')
  await page.getByLabel('Message', { exact: true }).fill('')
}

describe.skipIf(skipWithoutChromium)('the focus in the chat', () => {
  it('comes back to the message box after Stop, Regenerate and Save and send, and to Edit after an edit is cancelled', async () => {
    const { page, close } = await openChatPage(browser, setup.gw.url, LAPTOP)
    await pickModel(page, 'long')
    const box = page.getByLabel('Message', { exact: true })
    await box.fill('Tell me a long story')
    await box.press('Enter')
    const answer = page.locator('[data-role=assistant]').last()
    await answer.getByText('Paragraph 2 ').waitFor({ timeout: 30_000 })
    await page.getByRole('button', { name: 'Stop' }).click()
    await answer.getByText('Stopped.').waitFor()
    await typesIntoTheBox(page)

    await page.getByRole('button', { name: 'Regenerate' }).click()
    await page.getByRole('button', { name: 'Stop' }).waitFor()
    expect(await focused(page)).toBe('Message')
    await answer.getByText('Paragraph 59').waitFor({ timeout: 30_000 })
    await page.getByRole('button', { name: 'Send' }).waitFor()
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
    await screenshot(page, 'chat-focus-after-stop')
    await close()
  }, 90_000)
})
