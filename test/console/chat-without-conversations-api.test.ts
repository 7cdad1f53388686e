/**
 * The chat page on a gateway with stored threads but without the Conversations API
 * (surfaces.responses), which is what keeps a question the model did not answer: a first question
 * that fails leaves no empty chat behind. The thread made for it is taken out again, the question
 * is back in the box with why it failed, and sending it again (to a model that answers) makes the
 * chat. Screenshot: test-output/console/69f-*.png.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, ensureConsoleBuilt, launchBrowser, screenshot, skipWithoutChromium } from '../helpers/browser.ts'
import { modelPicker, openChatPage, pickModel } from './chat-page.ts'
import { ADMIN_KEY, startSignIn, type SignInSetup } from './helpers.ts'

let setup: SignInSetup
let browser: Browser

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  setup = await startSignIn({
    providers: '  broken: { plugin: mock, fail_status: 502 }',
    routes: '  - { model: broken, targets: [ { provider: broken } ], retry: { attempts: 1 } }',
    // Threads (chat), no surfaces.responses: nothing can be added to a thread but a whole exchange.
    services: '  console: {}\n  conversations: {}\n  chat: {}',
  })
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await setup?.close()
})

const threads = async (): Promise<{ id: string; title: string }[]> => {
  const res = await fetch(`${setup.gw.url}/api/v1/chat/threads`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })
  return ((await res.json()) as { data: { id: string; title: string }[] }).data
}
const box = (page: Page) => page.getByLabel('Message', { exact: true })

describe.skipIf(skipWithoutChromium)('a failed first question without the Conversations API', () => {
  it('leaves no empty chat: the question is back in the box with the failure, and sent again it makes the chat', async () => {
    expect((await fetch(`${setup.gw.url}/v1/conversations/conv_x`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status).toBe(404)
    const { page, close } = await openChatPage(browser, setup.gw.url, LAPTOP)
    await pickModel(page, 'broken')
    await box(page).fill('Will this fail?')
    await box(page).press('Enter')
    // Said why, at a new chat again, the question in the box to send again.
    await page.getByText(/provider failed/i).first().waitFor({ timeout: 30_000 })
    await expect.poll(() => box(page).inputValue()).toBe('Will this fail?')
    await expect.poll(() => new URL(page.url()).pathname).toBe('/chat')
    // Still asking the model it was asked of: sending again is the retry.
    expect(await modelPicker(page).innerText()).toBe('broken')
    await expect.poll(threads).toEqual([])
    await expect.poll(() => page.getByRole('list', { name: 'Threads' }).getByRole('button', { name: /Will this fail/ }).count()).toBe(0)
    await screenshot(page, '69f-chat-failed-first-question-no-conversations-api')
    // After a reload no chat is there either.
    await page.reload()
    await box(page).waitFor()
    expect(await page.getByRole('list', { name: 'Threads' }).getByRole('button', { name: /Will this fail/ }).count()).toBe(0)

    // Sent again to a model that answers: the chat is made, with the question and its answer.
    await pickModel(page, 'mock')
    await box(page).fill('Will this fail?')
    await box(page).press('Enter')
    await page.locator('[data-role=assistant]').getByText('echo: Will this fail?').waitFor({ timeout: 30_000 })
    await expect.poll(async () => (await threads()).map((t) => t.title)).toEqual(['Will this fail?'])
    await close()
  }, 120_000)
})
