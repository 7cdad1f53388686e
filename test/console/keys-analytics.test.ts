/**
 * The keys, users and analytics pages for people who see others' records, in a real browser: a
 * key's owner and maker are on its row (two "notebook"s told apart before one is rotated), Rotate
 * asks first, the one-time secret survives Escape, analytics counts the viewer's own days (or
 * UTC's, at a click) across a DST change, and UTC's, saying so, where the gateway does not know the
 * viewer's zone, keys are named in analytics and its state survives a reload, and row actions are within reach at phone width. A screenshot of each in test-output/console/.
 */
import { randomUUID } from 'node:crypto'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UsageLog } from '../../plugins/contracts/capabilities.ts'
import type { UsageEventRepository } from '../../plugins/stages/usage/repository.ts'
import { LAPTOP, PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

const PEOPLE = {
  admin: { role: 'admin', department: null },
  lead: { role: 'department_admin', department: 'research' },
  rob: { role: 'user', department: 'research' },
  mia: { role: 'user', department: 'sales' },
} as const
type Person = keyof typeof PEOPLE
const keyOf = (who: Person) => `console-${who}-key-0123456789abcdef`
const as = (who: Person) => ({ authorization: `Bearer ${keyOf(who)}`, 'content-type': 'application/json' })

const CONFIG = `version: 1
store: { plugin: embedded, memory: true, vector: false }
providers:
  mock: { plugin: mock }
routes:
  - { model: mock, targets: [ { provider: mock } ] }
departments:
  research: {}
  sales: {}
auth:
  strategies:
    - plugin: session
    - plugin: api-key
      keys:
${Object.entries(PEOPLE).map(([who, p]) => `        - { key: "${keyOf(who as Person)}", user: ${who}, role: ${p.role}${p.department ? `, department: ${p.department}` : ''} }`).join('\n')}
services:
  keys: {}
  users: {}
  analytics: {}
  auth: {}
  console: {}
`

let gw: RunningGateway
let browser: Browser
const ids = {} as Record<Person, string>

async function api(who: Person, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gw.url}${path}`, { method: init.method ?? 'GET', headers: as(who), body: init.body === undefined ? undefined : JSON.stringify(init.body) })
  return { status: res.status, body: await res.json() }
}
const chatWith = async (key: string) =>
  (await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }) })).status

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  gw = await startTestGateway(CONFIG)
  for (const who of Object.keys(PEOPLE) as Person[]) ids[who] = (await api(who, '/api/v1/users/me')).body.data.user_id
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await gw?.close()
})

async function signedIn(who: Person, options: { viewport?: typeof LAPTOP; timezoneId?: string } = {}): Promise<{ page: Page; close: () => Promise<void> }> {
  const { context, page } = await openPage(browser, options.viewport ?? LAPTOP, { timezoneId: options.timezoneId })
  await signInWithKey(page, gw.url, keyOf(who))
  return { page, close: () => context.close() }
}

/**
 * The analytics page's clock and usage at known instants, the week New York goes back to standard
 * time (2026-11-01, 02:00 EDT → 01:00 EST, so its Sunday is 25 hours long).
 */
const NOW = '2026-11-03T12:00:00Z' // Tuesday: 07:00 in New York, 21:00 in Tokyo
const AT = {
  sundayNight: '2026-11-02T04:30:00Z', // New York: Sunday 1st 23:30 EST (after the change); Tokyo and UTC: Monday 2nd
  mondayNight: '2026-11-03T02:00:00Z', // New York: Monday 2nd 21:00 EST; Tokyo and UTC: Tuesday 3rd
}
/** The 7d range at NOW: today and the six days before it, in any of the zones here. */
const WEEK = ['2026-10-28', '2026-10-29', '2026-10-30', '2026-10-31', '2026-11-01', '2026-11-02', '2026-11-03']
/** The days the bars with requests are on, left to right, and their counts. */
const UTC_DAYS: [string, number][] = [['2026-11-02', 2], ['2026-11-03', 1]]
const LOCAL_DAYS: Record<'America/New_York' | 'Asia/Tokyo', [string, number][]> = {
  'America/New_York': [['2026-11-01', 2], ['2026-11-02', 1]],
  'Asia/Tokyo': UTC_DAYS,
}

/** `dates` (YYYY-MM-DD) as the page's browser writes them with `options`. */
const dayLabels = (page: Page, dates: readonly string[], options: Intl.DateTimeFormatOptions): Promise<string[]> =>
  page.evaluate(([ds, o]) => ds.map((d) => new Date(`${d}T00:00:00Z`).toLocaleString(undefined, { ...o, timeZone: 'UTC' })), [dates, options] as const)

/** The chart's x-axis labels. */
const ticks = (page: Page): Promise<string[]> => page.locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents()

/** The `timezone` of every analytics request the page makes from now on (pushed as they go). */
function analyticsZones(page: Page): (string | null)[] {
  const zones: (string | null)[] = []
  page.on('request', (req) => {
    const url = new URL(req.url())
    if (url.pathname.startsWith('/api/v1/analytics/')) zones.push(url.searchParams.get('timezone'))
  })
  return zones
}

/** The chart's bars with requests are on `days` (their tooltips say the day and the count). */
async function expectBars(page: Page, days: readonly [string, number][]): Promise<void> {
  const bars = page.locator('.recharts-bar-rectangle path')
  await expect.poll(() => bars.count(), { timeout: 5_000 }).toBe(days.length)
  const labels = await dayLabels(page, days.map(([d]) => d), { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' })
  for (const [i, [, count]] of days.entries()) {
    await bars.nth(i).hover()
    await expect.poll(async () => (await page.locator('.recharts-tooltip-wrapper').innerText()).replace(/\s+/g, ' '), { timeout: 5_000 })
      .toBe(`${labels[i]} tz-model : ${count}`)
  }
}

describe.skipIf(skipWithoutChromium)('keys, users and analytics for people who see others\' records', { timeout: 90_000 }, () => {
  it('shows each key\'s owner and, when someone else made it, its maker, so two "notebook"s are told apart', async () => {
    expect((await api('lead', '/api/v1/keys', { method: 'POST', body: { name: 'notebook', user_id: ids.rob } })).status).toBe(201)
    expect((await api('rob', '/api/v1/keys', { method: 'POST', body: { name: 'notebook' } })).status).toBe(201)
    expect((await api('admin', '/api/v1/keys', { method: 'POST', body: { name: 'ci', user_id: null, department: 'sales' } })).status).toBe(201)

    const { page, close } = await signedIn('admin')
    await page.goto(`${gw.url}/keys`)
    await page.locator('[data-key-id]').first().waitFor()
    expect(await page.locator('thead th').allTextContents()).toContain('Owner')
    const rows = (await page.locator('tbody tr').allInnerTexts()).map((r) => r.replace(/\s+/g, ' '))
    expect(rows.filter((r) => r.startsWith('notebook'))).toEqual([
      expect.stringMatching(/^notebook rob gw-/),
      expect.stringMatching(/^notebook rob made by lead gw-/),
    ])
    expect(rows.find((r) => r.startsWith('ci'))).toMatch(/^ci service key made by admin gw-/)
    // The actions say whose key they act on.
    await page.getByRole('button', { name: 'Actions for notebook of rob' }).first().waitFor()
    await screenshot(page, 'k01-keys-owner-admin')
    await close()

    // A member sees only their own keys: no owner column.
    const member = await signedIn('rob')
    await member.page.goto(`${gw.url}/keys`)
    await member.page.locator('[data-key-id]').first().waitFor()
    expect(await member.page.locator('thead th').allTextContents()).not.toContain('Owner')
    await member.close()
  })

  it('asks before rotating, saying when the old secret stops and that the key keeps its limits and usage; Escape never closes a secret', async () => {
    const made = await api('admin', '/api/v1/keys', { method: 'POST', body: { name: 'rotate-me' } })
    const old = made.body.data.key as string
    const { page, close } = await signedIn('admin')
    await page.goto(`${gw.url}/keys`)

    await page.getByRole('button', { name: 'Actions for rotate-me' }).click()
    await page.getByRole('menuitem', { name: 'Rotate' }).click()
    const confirm = page.getByRole('dialog')
    await confirm.getByRole('heading', { name: 'Rotate rotate-me?' }).waitFor()
    await confirm.getByText('The key keeps its id, limits, budget and usage.').waitFor()
    await confirm.getByText('Whatever uses the old secret is refused from now on').waitFor()
    await screenshot(page, 'k02-keys-rotate-confirm')
    await confirm.getByRole('button', { name: 'Cancel' }).click()
    await confirm.waitFor({ state: 'detached' })
    expect(await chatWith(old)).toBe(200)

    // Rotated with an hour's grace: the old secret still works, and the dialog says until when.
    await page.getByRole('button', { name: 'Actions for rotate-me' }).click()
    await page.getByRole('menuitem', { name: 'Rotate' }).click()
    await page.getByLabel('The old secret stops working').click()
    await page.getByRole('option', { name: 'after an hour' }).click()
    await page.getByText('Until then both secrets work').waitFor()
    await page.getByRole('button', { name: 'Rotate key' }).click()
    await page.getByRole('heading', { name: 'Key rotated' }).waitFor()
    await page.getByText(/The old secret works until .+, then stops; the key keeps its limits, budget and usage\./).waitFor()
    const rotated = await page.getByLabel('New key').inputValue()
    expect(await chatWith(old)).toBe(200)
    expect(await chatWith(rotated)).toBe(200)

    // Escape leaves the one-time secret on screen, and there is no corner X: only the button closes it.
    await page.keyboard.press('Escape')
    await page.waitForTimeout(300)
    expect(await page.getByLabel('New key').inputValue()).toBe(rotated)
    expect(await page.getByRole('dialog').getByRole('button', { name: 'Close' }).count()).toBe(0)
    await screenshot(page, 'k03-keys-secret-after-escape')
    await page.getByRole('button', { name: 'I have copied it' }).click()
    await page.getByLabel('New key').waitFor({ state: 'detached' })

    // A new key's secret too.
    await page.getByRole('button', { name: 'New key' }).first().click()
    await page.getByLabel('Name').fill('escape-test')
    await page.getByRole('button', { name: 'Create key' }).click()
    await page.getByRole('heading', { name: 'Key created' }).waitFor()
    await page.keyboard.press('Escape')
    await page.waitForTimeout(300)
    expect(await page.getByLabel('New key').inputValue()).toMatch(/^gw-/)
    await close()
  })

  it('counts the viewer\'s own days by default, and UTC\'s at a click, on every analytics request, across a DST change', async () => {
    // The browser's clock stands still at NOW; the usage events are at known instants that week.
    await (capability(gw, UsageLog) as UsageEventRepository).insertBatch([
      ...[1, 2].map(() => ({ eventId: randomUUID(), time: new Date(AT.sundayNight), requestId: 'tz-sunday', model: 'tz-model', status: 200, latencyMs: 5 })),
      { eventId: randomUUID(), time: new Date(AT.mondayNight), requestId: 'tz-monday', model: 'tz-model', status: 200, latencyMs: 5 },
    ])
    for (const timezoneId of ['America/New_York', 'Asia/Tokyo'] as const) {
      const { page, close } = await signedIn('admin', { timezoneId })
      await page.clock.setFixedTime(new Date(NOW))
      const asked = analyticsZones(page)
      await page.goto(`${gw.url}/analytics`)
      await page.locator('[data-zone-note]').getByText(`Days in ${timezoneId}`, { exact: true }).waitFor()
      // Seven whole days of the viewer's, today the last: in New York one of them 25 hours long, each day once.
      expect(await ticks(page), timezoneId).toEqual(await dayLabels(page, WEEK, { month: 'short', day: 'numeric' }))
      await expectBars(page, LOCAL_DAYS[timezoneId])
      expect(asked.length, timezoneId).toBeGreaterThanOrEqual(3) // totals, chart, table
      expect(new Set(asked), timezoneId).toEqual(new Set([timezoneId]))
      await screenshot(page, `k04-analytics-days-${timezoneId.replace('/', '-')}`)

      // UTC at a click: kept in the URL (a reload keeps it), asked of the API, its days on the bars.
      asked.length = 0
      await page.getByRole('button', { name: 'Use UTC' }).click()
      await page.locator('[data-zone-note]').getByText('Days in UTC', { exact: true }).waitFor()
      expect(new URL(page.url()).search).toBe('?tz=utc')
      await expectBars(page, UTC_DAYS)
      expect(new Set(asked), timezoneId).toEqual(new Set(['UTC']))
      await page.reload()
      await expectBars(page, UTC_DAYS)
      if (timezoneId === 'America/New_York') await screenshot(page, 'k04-analytics-days-UTC')
      // And back.
      await page.getByRole('button', { name: `Use ${timezoneId}` }).click()
      await page.locator('[data-zone-note]').getByText(`Days in ${timezoneId}`, { exact: true }).waitFor()
      expect(new URL(page.url()).search).toBe('')
      await expectBars(page, LOCAL_DAYS[timezoneId])

      // 24 hours, by the viewer's hours: Monday night's request at its local hour, with the zone's abbreviation.
      await page.getByRole('tab', { name: '24h' }).click()
      await page.locator('[data-zone-note]').getByText(`Hours in ${timezoneId}`, { exact: true }).waitFor()
      const hour = await page.evaluate(([iso, timeZone]) => new Date(iso!).toLocaleString(undefined, { hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone }), [AT.mondayNight, timezoneId])
      await page.locator('.recharts-bar-rectangle path').first().hover()
      await expect.poll(() => page.locator('.recharts-tooltip-wrapper').innerText(), { timeout: 5_000 }).toContain(hour)
      expect((await page.locator('.recharts-bar-rectangle path').count())).toBe(1)
      if (timezoneId === 'America/New_York') await screenshot(page, 'k04-analytics-hours-America-New_York')
      await close()
    }
  })

  it('shows UTC, saying so, for the rest of the session when the gateway does not know the viewer\'s time zone, instead of an error a retry cannot fix', async () => {
    // The usage is the test above's. A gateway whose time zone data lacks the viewer's zone is made
    // here by asking in a name no runtime knows whenever the page asks in that zone.
    const timezoneId = 'America/New_York'
    const { page, close } = await signedIn('admin', { timezoneId })
    await page.clock.setFixedTime(new Date(NOW))
    await page.route((url) => url.pathname.startsWith('/api/v1/analytics/') && url.searchParams.get('timezone') === timezoneId, async (route) => {
      const url = new URL(route.request().url())
      url.searchParams.set('timezone', 'Mars/Olympus_Mons')
      await route.continue({ url: url.toString() })
    })
    const asked = analyticsZones(page)
    await page.goto(`${gw.url}/analytics`)
    await page.locator('[data-zone-refused]').getByText(`Your time zone ${timezoneId} is not known to the gateway; showing UTC.`, { exact: true }).waitFor()
    await page.locator('[data-zone-note]').getByText('Days in UTC', { exact: true }).waitFor()
    await expectBars(page, UTC_DAYS)
    expect(await page.getByText('Could not load this').count()).toBe(0)
    // No switch to a zone the gateway cannot answer in; each question in it asked once, not retried.
    expect(await page.getByRole('button', { name: /^Use / }).count()).toBe(0)
    const refused = asked.filter((z) => z === timezoneId).length
    expect(refused).toBeGreaterThanOrEqual(1)
    expect(refused).toBeLessThanOrEqual(3)
    await screenshot(page, 'k07-analytics-zone-unknown')

    // For the rest of the session the page asks in UTC only, and still says why.
    asked.length = 0
    await page.reload()
    await page.locator('[data-zone-refused]').waitFor()
    await expectBars(page, UTC_DAYS)
    expect(new Set(asked)).toEqual(new Set(['UTC']))
    await close()
  })

  it('names virtual keys in the by-key table and legend, and keeps range, grouping and drill-down in the URL', async () => {
    const made = await api('rob', '/api/v1/keys', { method: 'POST', body: { name: 'rob-script' } })
    expect(await chatWith(made.body.data.key)).toBe(200)
    expect(await chatWith(keyOf('mia'))).toBe(200)
    await expect.poll(async () => (await api('admin', '/api/v1/analytics/usage?group_by=key')).body.data.map((r: { group: string }) => r.group), { timeout: 10_000 }).toContain(made.body.data.id)

    const { page, close } = await signedIn('admin')
    await page.goto(`${gw.url}/analytics`)
    await page.getByRole('tab', { name: '30d' }).click()
    await page.getByRole('combobox', { name: 'Group by' }).click()
    await page.getByRole('option', { name: 'Key', exact: true }).click()
    const row = page.locator(`[data-group="${made.body.data.id}"]`)
    await expect.poll(() => row.locator('td').first().innerText(), { timeout: 5_000 }).toBe('rob-script')
    await page.getByRole('img', { name: /Requests over time/ }).getByRole('listitem').filter({ hasText: /^rob-script$/ }).waitFor()
    expect(await page.getByText(made.body.data.id).count()).toBe(0)
    await screenshot(page, 'k05-analytics-by-key')

    // A reload keeps the range and the grouping.
    expect(new URL(page.url()).search).toBe('?range=30d&by=key')
    await page.reload()
    await expect.poll(() => row.locator('td').first().innerText()).toBe('rob-script')
    expect(await page.getByRole('tab', { name: '30d' }).getAttribute('data-state')).toBe('active')

    // A drill-down (research's users) is in the URL too, so a shared link opens on it.
    await page.getByRole('combobox', { name: 'Group by' }).click()
    await page.getByRole('option', { name: 'Department', exact: true }).click()
    await page.locator('[data-group=research]').getByRole('button', { name: 'research' }).click()
    await page.locator(`[data-group="${ids.rob}"]`).waitFor()
    const shared = page.url()
    expect(new URL(shared).searchParams.get('department')).toBe('research')
    await close()
    const other = await signedIn('admin')
    await other.page.goto(shared)
    await other.page.getByText('department: research').waitFor()
    await expect.poll(() => other.page.locator(`[data-group="${ids.rob}"] td`).first().innerText()).toBe('rob')
    expect(await other.page.locator(`[data-group="${ids.mia}"]`).count()).toBe(0)
    await screenshot(other.page, 'k06-analytics-shared-drill-down')
    await other.close()
  })

  it('names the requests refused before routing (an unknown model) "not routed", not a model called "none"', async () => {
    const unknown = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: as('admin'), body: JSON.stringify({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }) })
    expect(unknown.status).toBe(404)
    await expect.poll(async () => (await api('admin', '/api/v1/analytics/usage?group_by=model')).body.data.map((r: { group: string | null }) => r.group), { timeout: 10_000 }).toContain(null)
    const { page, close } = await signedIn('admin')
    await page.goto(`${gw.url}/analytics?range=30d&by=model`)
    await expect.poll(() => page.locator('[data-group=""] td').first().innerText(), { timeout: 5_000 }).toBe('not routed')
    await page.getByRole('img', { name: /Requests over time/ }).getByRole('listitem').filter({ hasText: /^not routed$/ }).waitFor()
    await screenshot(page, 'k07-analytics-not-routed')
    await close()
  })

  it('shows a key\'s status on screen at phone width, without scrolling the table sideways', async () => {
    const made = await api('admin', '/api/v1/keys', { method: 'POST', body: { name: 'phone-revoked' } })
    expect((await api('admin', `/api/v1/keys/${made.body.data.id}`, { method: 'DELETE' })).status).toBe(200)
    const { page, close } = await signedIn('admin', { viewport: PHONE })
    await page.goto(`${gw.url}/keys`)
    await page.getByRole('button', { name: 'Show revoked' }).click()
    const status = page.locator(`[data-key-id="${made.body.data.id}"]`).getByText('revoked', { exact: true }).filter({ visible: true })
    await status.waitFor()
    expect(await status.innerText()).toBe('revoked')
    expect(await page.locator('table').first().evaluate((t) => t.parentElement!.scrollLeft)).toBe(0)
    const box = (await status.boundingBox())!
    expect(box.x).toBeGreaterThanOrEqual(0)
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width)
    await screenshot(page, 'k08-phone-keys-status')
    await close()
  })

  it('keeps row actions on screen at phone width, on the keys and the users page', async () => {
    const { page, close } = await signedIn('admin', { viewport: PHONE })
    for (const [path, action] of [['keys', /^Actions for /], ['users', /^Edit /]] as const) {
      await page.goto(`${gw.url}/${path}`)
      const button = page.getByRole('button', { name: action }).first()
      await button.waitFor()
      // The table still scrolls sideways (there is more of the row), but the actions stay in view.
      const wide = await page.locator('table').first().evaluate((t) => t.parentElement!.scrollWidth > t.parentElement!.clientWidth)
      expect(wide, path).toBe(true)
      const box = (await button.boundingBox())!
      expect(box.x + box.width, path).toBeLessThanOrEqual(PHONE.width)
      await screenshot(page, `k07-phone-${path}-actions`)
      await button.click()
      await (path === 'keys' ? page.getByRole('menuitem', { name: 'Rotate' }) : page.getByRole('dialog')).waitFor()
      await page.keyboard.press('Escape')
    }
    await close()
  })
})
