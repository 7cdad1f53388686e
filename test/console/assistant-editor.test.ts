/**
 * The assistant editor in a real browser: the model, knowledge collections (from
 * /api/v1/rag/collections) and department (from /api/v1/users/departments) picked from lists;
 * parameters and tools refused at their field before anything is sent (a tool's parameters
 * checked as JSON while typed), the context policy's window too; what is saved is what the API then
 * holds (the context policy included); editing shows it back.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { ADMIN_KEY, startSignIn, type SignInSetup } from './helpers.ts'

const ADMIN = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }

let setup: SignInSetup
let browser: Browser
const collections: Record<string, string> = {}

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  setup = await startSignIn({
    services: '  console: {}\n  conversations: {}\n  chat: {}\n  assistants: {}\n  rag: { embedding_route: mock }\ndepartments:\n  sales: {}\n  support: {}',
    store: 'store: { plugin: embedded, memory: true }\nqueue: { plugin: memory }',
  })
  for (const name of ['handbook', 'price-list']) {
    const res = await fetch(`${setup.gw.url}/api/v1/rag/collections`, { method: 'POST', headers: ADMIN, body: JSON.stringify({ name }) })
    expect(res.status).toBe(201)
    collections[name] = ((await res.json()) as { data: { id: string } }).data.id
  }
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await setup?.close()
})

async function savedAssistants(): Promise<any[]> {
  return ((await (await fetch(`${setup.gw.url}/api/v1/assistants`, { headers: ADMIN })).json()) as { data: any[] }).data
}

async function pick(page: Page, field: string, option: string): Promise<void> {
  await page.getByRole('combobox', { name: field }).click()
  await page.getByRole('option', { name: option, exact: true }).click()
}

describe.skipIf(skipWithoutChromium)('the assistant editor', () => {
  it('picks model, collections and department from lists, refuses bad fields where they are, and saves what the API holds', async () => {
    const { context, page } = await openPage(browser)
    await signInWithKey(page, setup.gw.url, ADMIN_KEY)
    await page.goto(`${setup.gw.url}/assistants`)
    await page.getByRole('button', { name: 'New assistant' }).first().click()
    const dialog = page.getByRole('dialog')
    await dialog.locator('[data-collection-option=handbook]').waitFor()

    await dialog.getByRole('button', { name: 'Create assistant' }).click()
    expect(await dialog.locator('[data-field-error=asst-name]').innerText()).toMatch(/starting with a letter or digit/)
    expect(await dialog.locator('[data-field-error=asst-route]').innerText()).toBe('Choose the model it uses.')

    await dialog.getByLabel('Name', { exact: true }).fill('order-helper')
    await pick(page, 'Model', 'mock')
    await dialog.getByLabel('Temperature').fill('3')
    await dialog.getByLabel('Max tokens').fill('1.5')
    await dialog.getByLabel('Context window').fill('100')
    await dialog.getByRole('button', { name: 'Add tool' }).click()
    await dialog.getByLabel('Tool 1 name').fill('get order')
    await dialog.getByLabel('Tool 1 parameters').fill('{"type": "object",')
    // Said while typing, before any save.
    expect(await dialog.locator('[data-field-error$=-parameters]').innerText()).toMatch(/^Not valid JSON/)
    await dialog.getByRole('button', { name: 'Create assistant' }).click()
    expect(await dialog.locator('[data-field-error=asst-temperature]').innerText()).toBe('At most 2.')
    expect(await dialog.locator('[data-field-error=asst-max_tokens]').innerText()).toBe('A whole number.')
    expect(await dialog.locator('[data-field-error=asst-max-context]').innerText()).toBe('Must be at least 256.')
    expect(await dialog.locator('[data-field-error$=-name]').last().innerText()).toMatch(/Letters, digits, _ and -/)
    expect(await dialog.getByLabel('Temperature').getAttribute('aria-invalid')).toBe('true')
    await screenshot(page, '40-assistant-editor-refused')
    expect(await savedAssistants()).toHaveLength(0)

    await dialog.getByLabel('Temperature').fill('0.3')
    await dialog.getByLabel('Max tokens').fill('200')
    expect(await dialog.getByRole('combobox', { name: 'When a chat outgrows the window' }).innerText()).toBe('Drop the oldest turns')
    await pick(page, 'When a chat outgrows the window', 'Summarise the oldest turns')
    await dialog.getByLabel('Context window').fill('4000')
    await dialog.getByLabel('Tool 1 name').fill('get_order')
    await dialog.getByLabel('Tool 1 description').fill('Looks an order up by its number.')
    await dialog.getByLabel('Tool 1 parameters').fill('{"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}')
    await dialog.getByRole('checkbox', { name: 'handbook' }).click()
    await pick(page, 'Department', 'support')
    // Each refusal went with the edit that fixed it.
    expect(await dialog.locator('[data-field-error]').count()).toBe(0)
    await screenshot(page, '41-assistant-editor-filled')
    await dialog.getByRole('button', { name: 'Create assistant' }).click()
    await page.locator('[data-assistant=order-helper]').waitFor()

    const [saved] = await savedAssistants()
    expect(saved).toMatchObject({
      name: 'order-helper', route: 'mock', dept_scope: 'support', params: { temperature: 0.3, max_tokens: 200 },
      context_policy: { strategy: 'summarize', max_context_tokens: 4000 },
      rag_collections: [collections.handbook],
      tools: [{ type: 'function', function: { name: 'get_order', description: 'Looks an order up by its number.', parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } } }],
    })

    // Editing shows what was saved; a change is saved as made.
    await page.getByRole('button', { name: 'Actions for order-helper' }).click()
    await page.getByRole('menuitem', { name: 'Edit' }).click()
    expect(await dialog.getByLabel('Tool 1 name').inputValue()).toBe('get_order')
    expect(await dialog.getByRole('checkbox', { name: 'handbook' }).getAttribute('data-state')).toBe('checked')
    expect(await dialog.getByRole('combobox', { name: 'Department' }).innerText()).toBe('support')
    expect(await dialog.getByRole('combobox', { name: 'When a chat outgrows the window' }).innerText()).toBe('Summarise the oldest turns')
    expect(await dialog.getByLabel('Context window').inputValue()).toBe('4000')
    // Back to the default policy: the oldest turns dropped, the model's own window.
    await pick(page, 'When a chat outgrows the window', 'Drop the oldest turns')
    await dialog.getByLabel('Context window').fill('')
    await dialog.getByRole('checkbox', { name: 'handbook' }).click()
    await dialog.getByRole('checkbox', { name: 'price-list' }).click()
    await dialog.getByRole('button', { name: 'Remove tool 1' }).click()
    await dialog.getByRole('button', { name: 'Save' }).click()
    await dialog.waitFor({ state: 'detached' })
    const [edited] = await savedAssistants()
    expect(edited).toMatchObject({ rag_collections: [collections['price-list']], tools: [], params: { temperature: 0.3, max_tokens: 200 } })
    expect(edited.context_policy).toEqual({ strategy: 'truncate' })
    await context.close()
  }, 90_000)

  it('puts the focus on the first refused field, out of sight above the button as it may be', async () => {
    const { context, page } = await openPage(browser, PHONE)
    await signInWithKey(page, setup.gw.url, ADMIN_KEY)
    await page.goto(`${setup.gw.url}/assistants`)
    await page.getByRole('button', { name: 'New assistant' }).first().click()
    const dialog = page.getByRole('dialog')
    await dialog.locator('[data-collection-option=handbook]').waitFor()
    const focusedId = () => page.evaluate(() => document.activeElement?.id)
    /** Whether the focused control is on screen, not scrolled out of the dialog. */
    const focusedInSight = () => page.evaluate(() => {
      const box = document.activeElement!.getBoundingClientRect()
      return box.top >= 0 && box.bottom <= window.innerHeight
    })

    await dialog.getByRole('button', { name: 'Create assistant' }).click()
    await expect.poll(focusedId).toBe('asst-name')
    expect(await focusedInSight()).toBe(true)

    await page.keyboard.type('focus-test')
    await dialog.getByRole('button', { name: 'Create assistant' }).click()
    await expect.poll(focusedId).toBe('asst-route')
    expect(await focusedInSight()).toBe(true)

    // A tool's field, below the fold: the focus goes there, and a name typed at once fixes it.
    await pick(page, 'Model', 'mock')
    await dialog.getByRole('button', { name: 'Add tool' }).click()
    await dialog.getByLabel('Name', { exact: true }).focus()
    await dialog.getByRole('button', { name: 'Create assistant' }).click()
    await expect.poll(focusedId).toMatch(/^tool-.*-name$/)
    expect(await focusedInSight()).toBe(true)
    await screenshot(page, '44-phone-assistant-refused-focus')
    await page.keyboard.type('lookup_order')
    await dialog.getByRole('button', { name: 'Create assistant' }).click()
    await dialog.waitFor({ state: 'detached' })
    expect((await savedAssistants()).find((a) => a.name === 'focus-test')).toMatchObject({ route: 'mock', tools: [{ type: 'function', function: { name: 'lookup_order' } }] })
    await context.close()
  }, 60_000)

  it('fits a phone', async () => {
    const { context, page } = await openPage(browser, PHONE)
    await signInWithKey(page, setup.gw.url, ADMIN_KEY)
    await page.goto(`${setup.gw.url}/assistants`)
    await page.locator('[data-assistant=order-helper]').waitFor()
    await screenshot(page, '42-phone-assistants')
    await page.getByRole('button', { name: 'Actions for order-helper' }).click()
    await page.getByRole('menuitem', { name: 'Edit' }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Add tool' }).click()
    await page.getByRole('dialog').getByLabel('Tool 1 parameters').fill('[1, 2]')
    await page.getByRole('dialog').locator('[data-field-error$=-parameters]').waitFor()
    const box = await page.getByRole('dialog').boundingBox()
    expect(box!.width).toBeLessThanOrEqual(PHONE.width)
    await screenshot(page, '43-phone-assistant-editor')
    await context.close()
  }, 60_000)
})
