/**
 * The console and its sign-in behind a reverse proxy that serves the gateway under a path prefix
 * (https://host/gateway/ → the gateway's /), with `services.auth.public_url` saying so: the page,
 * its files, its API calls, its routes, the OIDC round trip and sign-out all stay under the
 * prefix. Over HTTP first, then in a real browser (Debian's chromium), with screenshots.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, screenshot, skipWithoutChromium } from '../helpers/browser.ts'
import { CookieClient, startPrefixProxy, startSignIn, type PrefixProxy, type SignInSetup } from './helpers.ts'

const PREFIX = '/gateway'
let proxy: PrefixProxy
let setup: SignInSetup
let site: string

beforeAll(async () => {
  ensureConsoleBuilt()
  proxy = await startPrefixProxy(PREFIX)
  site = `${proxy.url}${PREFIX}`
  setup = await startSignIn(
    { auth: `    public_url: ${site}`, services: '  console: {}' },
    { redirectUris: [`${site}/api/v1/auth/callback`], postLogoutRedirectUris: [`${site}/`] },
  )
  proxy.target = setup.gw.url
}, 60_000)

afterAll(async () => {
  await setup?.close()
  await proxy?.close()
})

describe('behind a reverse proxy at /gateway/', () => {
  it('serves the page with its <base href> at the prefix, and its files through it', async () => {
    const page = await fetch(`${site}/keys`)
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain(`<base href="${PREFIX}/" />`)
    expect(page.headers.get('content-security-policy')).toContain("base-uri 'self'")
    // Every file the page names is relative to that base, and answers through the proxy.
    const files = [...html.matchAll(/(?:src|href)="(\.\/assets\/[^"]+|favicon\.svg)"/g)].map((m) => m[1]!)
    expect(files.length).toBeGreaterThanOrEqual(2)
    for (const file of files) expect((await fetch(new URL(file, `${site}/`))).status, file).toBe(200)
    // The gateway's own address still has the page at / (base `/gateway/` there too: it is the proxy's page).
    expect((await fetch(`${setup.gw.url}/`)).status).toBe(200)
  })

  it('signs in through the issuer with the callback under the prefix, and lands on the page asked for', async () => {
    setup.issuer.account = { sub: 'prefix-ada', name: 'Ada', roles: ['Gateway.Admin'] }
    const client = new CookieClient()
    const { hops } = await client.follow(`${site}/api/v1/auth/login?return_to=${encodeURIComponent('/keys?x=1')}`)
    const authorize = new URL(hops.find((h) => h.startsWith(`${setup.issuer.url}/auth`))!)
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${site}/api/v1/auth/callback`)
    expect(hops.at(-1)).toBe(`${site}/keys?x=1`)
    const me = await client.request(`${site}/api/v1/auth/me`)
    expect(me.body.data).toMatchObject({ name: 'Ada', role: 'admin' })

    const out = await client.request(`${site}/api/v1/auth/logout`, { method: 'POST', headers: { 'x-csrf-token': me.body.data.session.csrf_token } })
    expect(out.body.data.redirect).toBe(`${PREFIX}/sign-in`)
    expect((await client.request(`${site}/api/v1/auth/me`)).status).toBe(401)
  })

  it('sends a refused sign-in back to the sign-in page under the prefix', async () => {
    setup.issuer.refuseNext = 'access_denied'
    const { hops } = await new CookieClient().follow(`${site}/api/v1/auth/login`)
    expect(hops.at(-1)).toBe(`${site}/sign-in?error=access_denied`)
  })
})

describe.skipIf(skipWithoutChromium)('behind a reverse proxy at /gateway/, in a browser', () => {
  let browser: Browser
  beforeAll(async () => { browser = await launchBrowser() }, 30_000)
  afterAll(async () => { await browser?.close() })

  it('opens a deep link, signs in, chats, moves between pages and signs out, all under the prefix', async () => {
    const context = await browser.newContext({ viewport: LAPTOP })
    context.setDefaultTimeout(10_000)
    const page = await context.newPage()
    const outside: string[] = []
    page.on('request', (req) => {
      const url = new URL(req.url())
      if (url.origin === proxy.url && !url.pathname.startsWith(`${PREFIX}/`)) outside.push(url.pathname)
    })
    setup.issuer.account = { sub: 'prefix-browser', name: 'Pia Prefix', roles: ['Gateway.Admin'] }
    await page.goto(`${site}/keys`)
    await page.getByRole('link', { name: /Sign in with Test IdP/ }).click()
    await page.getByRole('heading', { name: 'API keys' }).waitFor()
    expect(new URL(page.url()).pathname).toBe(`${PREFIX}/keys`)

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' }).click()
    expect(new URL(page.url()).pathname).toBe(`${PREFIX}/chat`)
    await page.getByLabel('Message').fill('hello through the proxy')
    await page.getByRole('button', { name: 'Send' }).click()
    await page.locator('[data-role=assistant]').getByText('hello through the proxy').waitFor()
    await screenshot(page, '30-prefix-chat')

    // A reload of a deep link is the page again, not a 404.
    await page.goto(`${site}/analytics`)
    await page.locator('[data-stat=Requests]').waitFor()

    await page.getByRole('button', { name: 'Account' }).click()
    await page.getByRole('menuitem', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in to AI Gateway' }).waitFor()
    expect(new URL(page.url()).pathname).toBe(`${PREFIX}/sign-in`)
    // Nothing was asked of the proxy outside the prefix (it would not reach the gateway).
    expect(outside).toEqual([])
    await context.close()
  })

  it('signs in with an API key at phone width and stays on the page it was opened at', async () => {
    const context = await browser.newContext({ viewport: PHONE })
    context.setDefaultTimeout(10_000)
    const page = await context.newPage()
    await page.goto(`${site}/gateway`)
    await page.getByLabel('API key').fill('console-test-admin-key-0123456789')
    await page.getByRole('button', { name: /Sign in with key/ }).click()
    await page.getByRole('heading', { name: 'Configuration' }).waitFor()
    expect(new URL(page.url()).pathname).toBe(`${PREFIX}/gateway`)
    await screenshot(page, '31-prefix-phone-gateway')
    await context.close()
  })
})
