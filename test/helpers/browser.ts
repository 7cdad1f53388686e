/**
 * A real browser for console tests: Debian's chromium (`apt-get install chromium`; .ci/run installs
 * it when missing) driven by playwright-core, headless, with the flags this machine needs (no
 * background networking: the machine has no network beyond loopback). Each context is a fresh
 * profile. Without chromium the browser suites fail under CI=true and are skipped otherwise.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
/** Skip browser suites where chromium is not installed, except in CI, where they must fail. */
export const skipWithoutChromium = !hasChromium && process.env.CI !== 'true'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Screenshots go here (gitignored), one per flow, for a reviewer to look at. */
export const SCREENSHOTS = path.join(ROOT, 'test-output', 'console')

const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
]

export async function launchBrowser(): Promise<Browser> {
  if (!hasChromium) throw new Error(`no chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does)`)
  await mkdir(SCREENSHOTS, { recursive: true })
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS })
}

/** The console is built by `npm ci` (the root's prepare script); build it here if a checkout has not. */
export function ensureConsoleBuilt(): void {
  if (existsSync(path.join(ROOT, 'console', 'dist', 'index.html'))) return
  execFileSync(process.execPath, [path.join(ROOT, 'console', 'scripts', 'build.mjs')], { stdio: 'inherit' })
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(SCREENSHOTS, `${name}.png`)
  await page.screenshot({ path: file, fullPage: false })
  return file
}

export const LAPTOP = { width: 1280, height: 800 }
export const PHONE = { width: 390, height: 844 }

/**
 * A fresh browser profile at `viewport` (light, or dark as asked; in the machine's time zone, or
 * `timezoneId`) with one page; page errors are printed (a crash shows in the log).
 */
export async function openPage(
  browser: Browser,
  viewport: { width: number; height: number } = LAPTOP,
  options: { colorScheme?: 'light' | 'dark'; permissions?: string[]; timezoneId?: string } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, colorScheme: options.colorScheme ?? 'light', permissions: options.permissions, timezoneId: options.timezoneId })
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  page.on('pageerror', (err) => console.error('page error:', err.message, err.stack))
  return { context, page }
}

/** Sign in to the console at `gatewayUrl` with an API key, as a person does on the sign-in page. */
export async function signInWithKey(page: Page, gatewayUrl: string, key: string): Promise<void> {
  await page.goto(gatewayUrl)
  await page.getByLabel('API key').fill(key)
  await page.getByRole('button', { name: /Sign in with key/ }).click()
  // The account button is there at every width (the sidebar's navigation is not, on a phone).
  await page.getByRole('button', { name: 'Account' }).waitFor()
}

/** A fresh page signed in with `key` and opened at `pathName` of the console (`close` ends its profile). */
export async function openSignedIn(browser: Browser, gatewayUrl: string, key: string, pathName: string, viewport = LAPTOP): Promise<{ page: Page; close: () => Promise<void> }> {
  const { context, page } = await openPage(browser, viewport)
  await signInWithKey(page, gatewayUrl, key)
  await page.goto(`${gatewayUrl}${pathName}`)
  return { page, close: () => context.close() }
}
