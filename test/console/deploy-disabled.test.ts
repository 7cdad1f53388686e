/**
 * Deploy on a gateway that does not allow it (no `features: { custom_models: true }`): an admin
 * still sees Deploy on a succeeded job (the console cannot know the feature is off), and the
 * dialog shows the API's refusal, which says what to set, instead of a deployment; nothing is
 * deployed and the model's route name does not answer on /v1. Screenshots at laptop and phone width.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { mockOpenAITrainer, type MockTrainer } from '../training/upstreams.ts'
import { ADMIN_KEY, startSignIn, type SignInSetup } from './helpers.ts'

const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` }
const EXAMPLE = JSON.stringify({ messages: [{ role: 'user', content: 'Where is my order?' }, { role: 'assistant', content: 'It ships tomorrow.' }] })
const REFUSAL = 'Deploying fine-tuned models is off: set `features: { custom_models: true }` in gateway.yaml.'

let setup: SignInSetup
let trainer: MockTrainer
let browser: Browser
let jobId: string

async function api(path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${setup.gw.url}${path}`, { ...init, headers: { ...ADMIN, ...init.headers } })
  return { status: res.status, body: await res.json() }
}

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  trainer = await mockOpenAITrainer()
  setup = await startSignIn({
    providers: `  openai: { plugin: openai, api_key: sk-test, base_url: "${trainer.url}/v1" }`,
    routes: '  - { model: gpt-4o-mini, targets: [ { provider: openai } ] }',
    // No `features:`: custom models are off, as shipped.
    services: '  console: {}\n  files: {}\n  training: { poll_min_ms: 50, poll_max_ms: 200, lease_ms: 2000, sweep_ms: 500 }',
    store: 'store: { plugin: embedded, memory: true, vector: false }\nqueue: { plugin: memory }',
  })
  // A succeeded job, made through the API (the Training page's own flow is training-page.test.ts's).
  const form = new FormData()
  form.append('file', new Blob([`${EXAMPLE}\n${EXAMPLE}\n${EXAMPLE}\n`], { type: 'application/jsonl' }), 'orders.jsonl')
  const dataset = await api('/api/v1/training/datasets', { method: 'POST', body: form })
  expect(dataset.status, JSON.stringify(dataset.body)).toBe(201)
  const job = await api('/api/v1/training/jobs', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', training_file: dataset.body.data.file_id, suffix: 'orders' }),
  })
  expect(job.status, JSON.stringify(job.body)).toBe(201)
  jobId = job.body.data.id
  await vi.waitFor(async () => {
    const { status } = (await api(`/api/v1/training/jobs/${jobId}`)).body.data
    if (status !== 'succeeded') throw new Error(`the job is ${status}`)
  }, { timeout: 30_000, interval: 200 })
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await setup?.close()
  await trainer?.close()
})

describe.skipIf(skipWithoutChromium)('Deploy when custom models are off', () => {
  for (const [width, viewport] of [['laptop', undefined], ['phone', PHONE]] as const) {
    it(`shows the API's refusal in the dialog, and deploys nothing (${width})`, async () => {
      const { context, page } = await openPage(browser, viewport)
      await signInWithKey(page, setup.gw.url, ADMIN_KEY)
      await page.goto(`${setup.gw.url}/training`)
      const detail = page.locator(`[data-job-detail="${jobId}"][data-status=succeeded]`)
      await detail.waitFor()
      await detail.getByRole('button', { name: 'Deploy' }).click()
      const dialog = page.getByRole('dialog')
      await dialog.getByLabel('Route name').fill(`orders-bot-${width}`)
      await dialog.getByRole('button', { name: 'Deploy model' }).click()
      const alert = dialog.getByRole('alert')
      await alert.waitFor()
      expect(await alert.innerText()).toBe(REFUSAL)
      // The dialog stays on its form (no "Deployed as"), ready to cancel.
      expect(await dialog.getByText(/^Deployed as/).count()).toBe(0)
      expect(await dialog.getByRole('button', { name: 'Deploy model' }).isEnabled()).toBe(true)
      if (viewport) expect((await dialog.boundingBox())!.width).toBeLessThanOrEqual(PHONE.width)
      await screenshot(page, `33-training-deploy-disabled-${width}`)

      // What the dialog said is the API's answer, and nothing was deployed.
      const refused = await api(`/api/v1/training/jobs/${jobId}/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ route: 'script-bot' }) })
      expect(refused).toMatchObject({ status: 403, body: { error: 'feature_disabled', param: 'custom_models', message: REFUSAL } })
      expect((await api('/api/v1/training/deployments')).body.data).toEqual([])
      const routed = await api('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: `orders-bot-${width}`, messages: [{ role: 'user', content: 'hi' }] }) })
      expect(routed.status).toBe(404)
      await dialog.getByRole('button', { name: 'Cancel' }).click()
      await dialog.waitFor({ state: 'detached' })
      await context.close()
    }, 60_000)
  }
})
