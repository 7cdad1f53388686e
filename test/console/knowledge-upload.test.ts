/**
 * Uploading to knowledge in the console. The upload picker offered only text, Markdown, HTML and
 * PDF, while the gateway reads Word, PowerPoint, CSV, JSON and source files too: a .docx (the most
 * common business document) was hidden in the file dialog. The picker now offers every kind the
 * gateway reads (the same list as the ingestion's), a Word file uploads and becomes ready, and an
 * upload of several files with a scan among them is refused naming the scan, none of them stored.
 * Chatting with the collection (an assistant grounded on it), a source under the answer opens its
 * document on the Knowledge page, its collection chosen and its row marked. A collection of more
 * than 100 documents listed its newest 100 and no way to the others: older ones load on asking.
 * Screenshots in test-output/console/.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BY_EXTENSION } from '../../plugins/services/rag/ingest/extract.ts'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, openSignedIn, screenshot, skipWithoutChromium } from '../helpers/browser.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { docxOf, pdfOf } from '../rag/helpers.ts'
import { keyAdminConfig } from './helpers.ts'

const ADMIN_KEY = 'console-knowledge-upload-admin-key-0123456789'
const CONFIG = keyAdminConfig(ADMIN_KEY, { services: ['rag: { embedding_route: mock }', 'conversations', 'chat', 'assistants'], vector: true })
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'

let gw: RunningGateway
let browser: Browser

async function rag(method: string, path: string, body?: unknown): Promise<{ status: number; data: any }> {
  return call(method, `/rag${path}`, body)
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; data: any }> {
  const res = await fetch(`${gw.url}/api/v1${path}`, {
    method, headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, data: ((await res.json()) as { data: unknown }).data }
}

const openKnowledge = (viewport = LAPTOP) => openSignedIn(browser, gw.url, ADMIN_KEY, '/knowledge', viewport)

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  ;[gw, browser] = await Promise.all([startTestGateway(CONFIG), launchBrowser()])
}, 90_000)
afterAll(async () => { await browser?.close(); await gw?.close() })

describe.skipIf(skipWithoutChromium)('uploading knowledge in the console', () => {
  it('offers every kind of file the gateway reads in the upload picker, and says which in the empty collection', async () => {
    const made = await rag('POST', '/collections', { name: 'Policies' })
    expect(made.status).toBe(201)
    for (const [viewport, shot] of [[PHONE, 'knowledge-upload-empty-phone'], [LAPTOP, 'knowledge-upload-empty']] as const) {
      const { page, close } = await openKnowledge(viewport)
      await page.locator('[data-collection="Policies"]').click()
      const empty = page.getByText('No documents yet')
      await empty.waitFor()
      const hint = await page.locator('main').innerText()
      expect(hint).toContain('Word (.docx)')
      expect(hint).toContain('PowerPoint (.pptx)')
      const accept = (await page.getByLabel('Upload documents').getAttribute('accept'))!.split(',')
      const missing = Object.keys(BY_EXTENSION).filter((ext) => !accept.includes(`.${ext}`))
      expect(missing).toEqual([])
      await screenshot(page, shot)
      await close()
    }
  }, 90_000)

  it('uploads a Word file to ready; several files with a scan among them are refused naming it, none stored', async () => {
    const made = await rag('POST', '/collections', { name: 'Expenses' })
    const { page, close } = await openKnowledge()
    await page.locator('[data-collection="Expenses"]').click()
    await page.getByText('No documents yet').waitFor()
    const picker = page.getByLabel('Upload documents')
    await picker.setInputFiles({ name: 'expenses.docx', mimeType: DOCX, buffer: docxOf(['Meals up to fifty euros are reimbursed with a receipt.']) })
    await page.locator('[data-document="expenses.docx"][data-status=completed]').waitFor({ timeout: 20_000 })

    await picker.setInputFiles([
      { name: 'travel.md', mimeType: 'text/markdown', buffer: Buffer.from('# Travel\n\nTrain tickets are refunded within a week.') },
      { name: 'scan.pdf', mimeType: 'application/pdf', buffer: await pdfOf([[]]) },
    ])
    const refusal = page.getByRole('alert').filter({ hasText: 'scan.pdf' })
    await refusal.waitFor()
    // Nothing of the upload was stored, and the alert says so.
    expect(await refusal.innerText()).toMatch(/^Nothing uploaded: .*no text layer/)
    await screenshot(page, 'knowledge-upload-refused')
    expect((await rag('GET', `/collections/${made.data.id}/documents`)).data.map((d: { filename: string }) => d.filename)).toEqual(['expenses.docx'])
    expect(await page.locator('[data-document="travel.md"]').count()).toBe(0)
    await close()
  }, 90_000)

  it('opens a chat answer\'s source document on the Knowledge page: its collection chosen, its row marked', async () => {
    const made = await rag('POST', '/collections', { name: 'Travel rules' })
    const form = new FormData()
    form.append('file', new Blob(['Train tickets are refunded within a week of the trip.\n'], { type: 'text/plain' }), 'travel.txt')
    const uploaded = await fetch(`${gw.url}/api/v1/rag/collections/${made.data.id}/documents`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` }, body: form })
    const documentId = ((await uploaded.json()) as { data: { id: string }[] }).data[0]!.id
    await expect.poll(async () => (await rag('GET', `/collections/${made.data.id}/documents`)).data.map((d: { status: string }) => d.status), { timeout: 20_000 }).toEqual(['completed'])
    // Another collection is listed first (newest): the link must choose the source's.
    await rag('POST', '/collections', { name: 'Newest' })
    const assistant = await call('POST', '/assistants', { name: 'travel-desk', route: 'mock', dept_scope: null, rag_collections: [made.data.id] })
    expect(assistant.status).toBe(201)
    const thread = await call('POST', '/chat/threads', { assistant_id: assistant.data.id })
    // The mock model echoes the question, its [1] included: the answer cites the passage found.
    expect((await call('POST', `/chat/threads/${thread.data.id}/messages`, { content: 'How fast are train tickets refunded [1]?' })).status).toBeLessThan(300)

    for (const [viewport, shot] of [[PHONE, 'knowledge-source-phone'], [LAPTOP, 'knowledge-source']] as const) {
      const { page, close } = await openKnowledge(viewport)
      await page.goto(`${gw.url}/chat/${thread.data.id}`)
      const link = page.locator('[data-role=assistant]').last().locator('[data-source="1"] a[data-source-document]')
      await link.waitFor()
      expect(await link.innerText()).toBe('travel.txt')
      await link.click()
      const row = page.locator('[data-document="travel.txt"][data-marked]')
      await row.waitFor()
      expect(new URL(page.url()).searchParams.get('document')).toBe(documentId)
      expect(await page.locator('[data-collection="Travel rules"]').getAttribute('class')).toContain('border-primary')
      expect(await row.isVisible()).toBe(true)
      await screenshot(page, shot)
      await close()
    }
  }, 90_000)

  it('lists a collection of more than a page of documents whole: the older ones on asking', async () => {
    const made = await rag('POST', '/collections', { name: 'Archive' })
    // In two uploads (an upload holds at most 100 files).
    for (const [from, to] of [[1, 60], [61, 103]]) {
      const form = new FormData()
      for (let i = from; i <= to; i++) form.append('file', new Blob([`Minutes of meeting ${i}: the budget line ${i * 7} was approved.\n`], { type: 'text/plain' }), `minutes-${String(i).padStart(3, '0')}.txt`)
      const uploaded = await fetch(`${gw.url}/api/v1/rag/collections/${made.data.id}/documents`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}` }, body: form })
      expect(uploaded.status).toBe(202)
    }
    await expect.poll(async () => (await rag('GET', `/collections/${made.data.id}`)).data.documents.completed, { timeout: 60_000 }).toBe(103)

    const { page, close } = await openKnowledge()
    await page.locator('[data-collection="Archive"]').click()
    const rows = page.locator('[data-document^="minutes-"]')
    await rows.nth(99).waitFor()
    expect(await rows.count()).toBe(100)
    const more = page.getByRole('button', { name: 'Show older documents (3 more)' })
    await more.click()
    await rows.nth(102).waitFor()
    expect(await rows.count()).toBe(103)
    // The oldest, minutes-001.txt, is among them now; the button is gone.
    expect(await page.locator('[data-document="minutes-001.txt"]').count()).toBe(1)
    await more.waitFor({ state: 'detached' })
    await close()
  }, 120_000)
})
