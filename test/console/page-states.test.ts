/**
 * Every page's loading, error and empty states, and its fit at phone width, in a real browser: the
 * page's main call is held (the loading state shows), then answered 500 (the error state, with the
 * API's message and a retry), then let through to a gateway with nothing in it (the empty state
 * after Try again). Nothing on any page is wider than a 390 px phone. A screenshot of each state.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { ADMIN_KEY, startSignIn, type SignInSetup } from './helpers.ts'

interface PageCase {
  readonly path: string
  /** The call whose answer the page's main state depends on. */
  readonly call: RegExp
  /** What the page says when the gateway has nothing to show; null: it always has something. */
  readonly empty: string | null
  readonly viewport?: typeof PHONE
}

const PAGES: readonly PageCase[] = [
  // The thread list sits beside the chat on a laptop (behind a button on a phone).
  { path: '/chat', call: /\/api\/v1\/chat\/threads(\?|$)/, empty: 'No chats yet', viewport: LAPTOP },
  { path: '/assistants', call: /\/api\/v1\/assistants(\?|$)/, empty: 'No assistants yet' },
  { path: '/knowledge', call: /\/api\/v1\/rag\/collections(\?|$)/, empty: 'No collections yet' },
  { path: '/training', call: /\/api\/v1\/training\/datasets(\?|$)/, empty: 'No datasets yet' },
  { path: '/analytics', call: /\/api\/v1\/analytics\/usage(\?|$)/, empty: 'No requests in this range' },
  { path: '/keys', call: /\/api\/v1\/keys(\?|$)/, empty: 'No keys yet' },
  { path: '/users', call: /\/api\/v1\/users(\?|$)/, empty: null },
  { path: '/gateway', call: /\/api\/v1\/admin\/routes(\?|$)/, empty: null },
]

let setup: SignInSetup
let browser: Browser
const contexts = new Map<string, BrowserContext>()

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  setup = await startSignIn({
    // Left out for want of its key, as the shipped config's providers are on a first start.
    providers: '  paid: { plugin: openai, api_key: "${PAGE_STATES_PAID_KEY}", optional: true }',
    services: '  console: {}\n  conversations: {}\n  chat: {}\n  assistants: {}\n  rag: { embedding_route: mock }\n  files: {}\n  training: {}',
    store: 'store: { plugin: embedded, memory: true }\nqueue: { plugin: memory }',
  })
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  for (const context of contexts.values()) await context.close()
  await browser?.close()
  await setup?.close()
})

/** A signed-in page at `viewport` (one session per width, shared by the cases). */
async function signedInPage(viewport: typeof PHONE): Promise<Page> {
  const key = `${viewport.width}`
  let context = contexts.get(key)
  if (!context) {
    const opened = await openPage(browser, viewport)
    await signInWithKey(opened.page, setup.gw.url, ADMIN_KEY)
    context = opened.context
    contexts.set(key, context)
    return opened.page
  }
  const page = await context.newPage()
  page.on('pageerror', (err) => console.error('page error:', err.message))
  return page
}

const name = (path: string) => path.slice(1)

describe.skipIf(skipWithoutChromium)('every page\'s states', () => {
  it.each(PAGES)('$path shows loading, then the error with a retry, then its empty state, and fits its width', async ({ path, call, empty, viewport = PHONE }) => {
    const page = await signedInPage(viewport)
    const width = viewport === PHONE ? 'phone' : 'laptop'
    let release!: () => void
    let asked!: () => void
    const held = new Promise<void>((resolve) => { release = resolve })
    // The page itself asked (its chunk loaded, it is mounted): the skeleton is its own, not the router's.
    const requested = new Promise<void>((resolve) => { asked = resolve })
    await page.route(call, async (route) => {
      if (route.request().method() !== 'GET') return route.continue()
      asked()
      await held
      await route.fulfill({ status: 500, json: { success: false, error: 'store_unavailable', message: 'The store did not answer (test).' } })
    })
    await page.goto(`${setup.gw.url}${path}`)
    await requested
    await page.locator('main [aria-busy=true], main .animate-pulse').first().waitFor()
    await screenshot(page, `60-${name(path)}-${width}-loading`)

    release()
    const alert = page.locator('main [role=alert]').filter({ hasText: 'Could not load this' }).first()
    await alert.waitFor()
    expect(await alert.innerText()).toContain('The store did not answer (test).')
    await screenshot(page, `61-${name(path)}-${width}-error`)

    await page.unroute(call)
    await alert.getByRole('button', { name: 'Try again' }).click()
    await alert.waitFor({ state: 'detached' })
    if (empty) await page.getByText(empty).first().waitFor()
    await page.waitForLoadState('networkidle')
    await screenshot(page, `62-${name(path)}-${width}-${empty ? 'empty' : 'loaded'}`)
    // Nothing wider than the screen: the page scrolls down, never sideways.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await page.close()
  }, 60_000)

  it('the gateway page says in words why a provider is left out (a hover title is not there on a phone)', async () => {
    const page = await signedInPage(PHONE)
    await page.goto(`${setup.gw.url}/gateway`)
    const reason = page.getByText('PAGE_STATES_PAID_KEY is not set')
    await reason.waitFor()
    expect(await reason.isVisible()).toBe(true)
    await screenshot(page, '62-gateway-phone-provider-left-out')
    await page.close()
  })

  it('the chat fits a phone too', async () => {
    const page = await signedInPage(PHONE)
    await page.goto(`${setup.gw.url}/chat`)
    await page.getByLabel('Message').waitFor()
    // A new chat says what to do rather than showing an empty pane.
    await page.getByText('Ask anything.').waitFor()
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0)
    await screenshot(page, '62-chat-phone-empty')
    await page.close()
  })
})
