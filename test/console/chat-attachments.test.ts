/**
 * Files sent with a chat message, as ChatGPT and Open WebUI take them: the paperclip picks a PDF
 * and an image, each a chip with its name and size (removable) once uploaded, the message goes with
 * them (and a file dropped on the composer or pasted into the box), the mock model's echo names what it received ([file: report.pdf] [image]), and the thread
 * opened again shows the files on the question (the PDF by name, the image as a thumbnail). A file
 * that cannot be sent is said on its chip, in words, and holds the message back until removed.
 * Screenshots in test-output/console/ (chat-attachments-*), at 1280 and 390 px.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, openSignedIn, screenshot, skipWithoutChromium } from '../helpers/browser.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { pickModel } from './chat-page.ts'
import { keyAdminConfig } from './helpers.ts'

const ADMIN_KEY = 'console-chat-attachments-admin-key-0123456789'
// `broken` answers every question with a 500: a message that was not sent goes back on the box with its files.
const CONFIG = keyAdminConfig(ADMIN_KEY, { services: ['conversations', 'chat', 'files'], routes: '  - { model: broken, targets: [ { provider: broken } ], retry: { attempts: 1 } }\n' })
  .replace('  mock: { plugin: mock }', '  mock: { plugin: mock }\n  broken: { plugin: mock, fail_status: 500 }')
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201ffa65b7a0000000049454e44ae426082', 'hex')
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n')

let gw: RunningGateway
let browser: Browser

const box = (page: Page) => page.getByRole('combobox', { name: 'Message' }).or(page.getByRole('textbox', { name: 'Message' }))
const pending = (page: Page) => page.getByRole('list', { name: 'Attached files' })
const lastAnswer = (page: Page) => page.locator('[data-role=assistant]').last()
const question = (page: Page) => page.locator('[data-role=user]').last()

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  ;[gw, browser] = await Promise.all([startTestGateway(CONFIG), launchBrowser()])
}, 120_000)
afterAll(async () => { await browser?.close(); await gw?.close() })

describe.skipIf(skipWithoutChromium)('files attached to a chat message', () => {
  it('attaches a PDF and an image with the paperclip, sends them, the answer reflects them, and the reopened thread shows them on the question', async () => {
    const { page, close } = await openSignedIn(browser, gw.url, ADMIN_KEY, '/chat', LAPTOP)
    await page.getByRole('combobox', { name: 'Model or assistant' }).waitFor()
    // A file that cannot be sent is said on its chip and holds the message back until it is removed.
    const [refused] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Attach files' }).click()])
    await refused.setFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('PK') })
    await pending(page).getByText(/^Only images \(PNG, JPEG, GIF, WebP\) and documents \(PDF, Word/).waitFor()
    await box(page).fill('Summarise this')
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true)
    await page.getByRole('button', { name: 'Remove notes.zip' }).click()

    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Attach files' }).click()])
    await chooser.setFiles([
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: PDF },
      { name: 'dot.png', mimeType: 'image/png', buffer: PNG },
    ])
    await pending(page).getByText(`${PDF.length} B`).waitFor()
    await pending(page).getByText(`${PNG.length} B`).waitFor()
    expect(await pending(page).innerText()).toContain('report.pdf')
    await screenshot(page, 'chat-attachments-composer-1280')

    await box(page).press('Enter')
    await expect.poll(() => lastAnswer(page).innerText(), { timeout: 15_000 }).toContain('echo: Summarise this [file: report.pdf] [image]')
    await expect.poll(() => pending(page).count()).toBe(0)
    const threadUrl = page.url()
    expect(threadUrl).toMatch(/\/chat\/conv_/)

    // Opened again, the question shows its files: the PDF by name, the image as a thumbnail that loads.
    await page.reload()
    await question(page).locator('[data-attachment=file]').getByText('report.pdf').waitFor()
    const thumb = question(page).locator('[data-attachment=image] img')
    await thumb.waitFor()
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1)
    expect(await question(page).locator('[data-attachment=image]').innerText()).toContain('dot.png')
    await screenshot(page, 'chat-attachments-thread-1280')
    await close()

    const phone = await openSignedIn(browser, gw.url, ADMIN_KEY, new URL(threadUrl).pathname, PHONE)
    await question(phone.page).locator('[data-attachment=file]').getByText('report.pdf').waitFor()
    // A PDF dropped on the composer, and an image pasted into the box, are attached as the paperclip's are.
    await phone.page.evaluate(({ pdf, png }) => {
      const file = (b64: string, name: string, type: string) => new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type })
      const box = document.querySelector('textarea[aria-label=Message]')!
      const dropped = new DataTransfer()
      dropped.items.add(file(pdf, 'quarterly-report-with-a-long-name.pdf', 'application/pdf'))
      box.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dropped }))
      box.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dropped }))
      const pasted = new DataTransfer()
      pasted.items.add(file(png, 'pasted.png', 'image/png'))
      box.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: pasted }))
    }, { pdf: PDF.toString('base64'), png: PNG.toString('base64') })
    await pending(phone.page).getByText(`${PDF.length} B`).waitFor()
    await pending(phone.page).getByText(`${PNG.length} B`).waitFor()
    expect(await pending(phone.page).innerText()).toContain('pasted.png')
    await screenshot(phone.page, 'chat-attachments-390')
    await phone.close()
  })

  it('puts a message that was not sent back on the box with its files', async () => {
    const { page, close } = await openSignedIn(browser, gw.url, ADMIN_KEY, '/chat', LAPTOP)
    await page.getByRole('combobox', { name: 'Model or assistant' }).waitFor()
    await pickModel(page, 'broken')
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Attach files' }).click()])
    await chooser.setFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: PDF })
    await pending(page).getByText(`${PDF.length} B`).waitFor()
    await box(page).fill('Summarise this')
    await box(page).press('Enter')
    await expect.poll(() => box(page).inputValue(), { timeout: 15_000 }).toBe('Summarise this')
    await pending(page).getByText('report.pdf').waitFor()
    await pending(page).getByText('Attached').waitFor()
    expect(await page.getByRole('button', { name: 'Send' }).isDisabled()).toBe(false)
    await close()
  })
})
