/**
 * Deleting knowledge in the console. A document's trash button deleted it at once, with no
 * question (every other delete in the console asks first), and the collection's Delete asked in the
 * browser's own confirm box and then said nothing when the gateway refused: a colleague's collection
 * shared with the department can be searched but not deleted (403), and the click did nothing
 * visible. Both now ask in the console's dialog, Cancel keeps what was there, and a refusal is
 * said in the dialog. Screenshots in test-output/console/.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { keyAdminConfig } from './helpers.ts'

const ADMIN_KEY = 'console-knowledge-admin-key-0123456789'
const SELLER_KEY = 'console-knowledge-seller-key-0123456789'
const CONFIG = keyAdminConfig(ADMIN_KEY, {
  services: ['rag: { embedding_route: mock }'],
  vector: true,
  otherKeys: [`{ key: "${SELLER_KEY}", user: sam, role: user, department: sales }`],
})

let gw: RunningGateway
let browser: Browser

async function rag(method: string, path: string, key = ADMIN_KEY, body?: unknown): Promise<{ status: number; data: any }> {
  const res = await fetch(`${gw.url}/api/v1/rag${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body instanceof FormData || body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body instanceof FormData ? body : body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, data: ((await res.json()) as { data: unknown }).data }
}

/** A collection made by the admin with one text document in it, ingested. */
async function collectionWith(name: string, filename: string, deptScope?: string): Promise<string> {
  const made = await rag('POST', '/collections', ADMIN_KEY, { name, ...(deptScope ? { dept_scope: deptScope } : {}) })
  expect(made.status).toBe(201)
  const form = new FormData()
  form.append('file', new Blob(['The cafeteria opens at 8 am.\n'], { type: 'text/plain' }), filename)
  expect((await rag('POST', `/collections/${made.data.id}/documents`, ADMIN_KEY, form)).status).toBeLessThan(300)
  await expect.poll(async () => (await rag('GET', `/collections/${made.data.id}/documents`)).data.map((d: { status: string }) => d.status), { timeout: 20_000 }).toEqual(['completed'])
  return made.data.id as string
}

async function openKnowledge(key: string, viewport = LAPTOP): Promise<{ page: Page; close: () => Promise<void> }> {
  const { context, page } = await openPage(browser, viewport)
  // The browser's own confirm box is not the console's question: dismissed here, it would delete nothing.
  page.on('dialog', (d) => void d.dismiss())
  await signInWithKey(page, gw.url, key)
  await page.goto(`${gw.url}/knowledge`)
  return { page, close: () => context.close() }
}

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  ;[gw, browser] = await Promise.all([startTestGateway(CONFIG), launchBrowser()])
}, 90_000)
afterAll(async () => { await browser?.close(); await gw?.close() })

describe.skipIf(skipWithoutChromium)('deleting knowledge in the console', () => {

  it('asks before deleting a document: Cancel keeps it, Delete document takes it out', async () => {
    const id = await collectionWith('Handbook', 'notes.txt')
    for (const [viewport, shot] of [[PHONE, 'knowledge-delete-document-phone'], [LAPTOP, 'knowledge-delete-document']] as const) {
      const { page, close } = await openKnowledge(ADMIN_KEY, viewport)
      const row = page.locator('[data-document="notes.txt"][data-status=completed]')
      await row.waitFor()
      await page.getByRole('button', { name: 'Delete notes.txt' }).click()
      const dialog = page.getByRole('dialog', { name: 'Delete notes.txt?' })
      await dialog.getByText('searches and assistants no longer find them').waitFor()
      await screenshot(page, shot)
      if (viewport === PHONE) {
        await dialog.getByRole('button', { name: 'Cancel' }).click()
        await dialog.waitFor({ state: 'detached' })
        expect(await row.count()).toBe(1)
        expect((await rag('GET', `/collections/${id}/documents`)).data).toHaveLength(1)
      } else {
        await dialog.getByRole('button', { name: 'Delete document' }).click()
        await dialog.waitFor({ state: 'detached' })
        await page.getByText('No documents yet').waitFor()
        expect((await rag('GET', `/collections/${id}/documents`)).data).toHaveLength(0)
      }
      await close()
    }
  }, 90_000)

  it('says why when the gateway refuses: a colleague\'s collection shared with the department stays, and the dialog says so', async () => {
    const id = await collectionWith('Sales playbook', 'pricing.txt', 'sales')
    const { page, close } = await openKnowledge(SELLER_KEY)
    await page.locator('[data-collection="Sales playbook"]').click()
    await page.locator('[data-document="pricing.txt"]').waitFor()

    await page.getByRole('button', { name: 'Delete collection' }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete Sales playbook?' })
    await dialog.getByText('Its document goes with it').waitFor()
    await dialog.getByRole('button', { name: 'Delete collection' }).click()
    // Refused (403): said in the dialog, which stays open; nothing was deleted.
    const refusal = dialog.getByRole('alert')
    await refusal.waitFor()
    expect(await refusal.innerText()).toMatch(/\S/)
    await screenshot(page, 'knowledge-delete-refused')
    expect((await rag('GET', `/collections/${id}`)).status).toBe(200)
    await dialog.getByRole('button', { name: 'Cancel' }).click()
    await dialog.waitFor({ state: 'detached' })

    // A document of it, the same.
    await page.getByRole('button', { name: 'Delete pricing.txt' }).click()
    const docDialog = page.getByRole('dialog', { name: 'Delete pricing.txt?' })
    await docDialog.getByRole('button', { name: 'Delete document' }).click()
    await docDialog.getByRole('alert').waitFor()
    expect((await rag('GET', `/collections/${id}/documents`)).data).toHaveLength(1)
    await close()
  }, 90_000)
})
