/**
 * Deploy on a gateway that does not allow it (no `features: { custom_models: true }`): an admin
 * still sees Deploy on a succeeded job (the console cannot know the feature is off), and the
 * dialog shows the API's refusal, which says what to set, instead of a deployment; nothing is
 * deployed and the model's route name does not answer on /v1. Screenshots at laptop and phone width.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { ADMIN_KEY } from './helpers.ts'
import { startTrainingConsole, type TrainingConsole } from './training.ts'

const REFUSAL = 'Deploying fine-tuned models is off: set `features: { custom_models: true }` in gateway.yaml.'

let training: TrainingConsole
let browser: Browser
let jobId: string

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  // No `features:`: custom models are off, as shipped.
  training = await startTrainingConsole()
  // A succeeded job, made through the API (the Training page's own flow is training-page.test.ts's).
  jobId = await training.succeededJob('orders')
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await training?.close()
})

describe.skipIf(skipWithoutChromium)('Deploy when custom models are off', () => {
  for (const [width, viewport] of [['laptop', undefined], ['phone', PHONE]] as const) {
    it(`shows the API's refusal in the dialog, and deploys nothing (${width})`, async () => {
      const { context, page } = await openPage(browser, viewport)
      await signInWithKey(page, training.url, ADMIN_KEY)
      await page.goto(`${training.url}/training`)
      const detail = page.locator(`[data-job-detail="${jobId}"][data-status=succeeded]`)
      await detail.waitFor()
      await detail.getByRole('button', { name: 'Deploy' }).click()
      const dialog = page.getByRole('dialog')
      await dialog.getByLabel('Route name').fill(`orders-bot-${width}`)
      await dialog.getByRole('button', { name: 'Deploy model' }).click()
      const alert = dialog.getByRole('alert')
      await alert.waitFor()
      // The API's message, its backtick-quoted setting shown as code.
      expect(await alert.innerText()).toBe(REFUSAL.replaceAll('`', ''))
      expect(await alert.locator('code').innerText()).toBe('features: { custom_models: true }')
      // The dialog stays on its form (no "Deployed as"), ready to cancel.
      expect(await dialog.getByText(/^Deployed as/).count()).toBe(0)
      expect(await dialog.getByRole('button', { name: 'Deploy model' }).isEnabled()).toBe(true)
      if (viewport) expect((await dialog.boundingBox())!.width).toBeLessThanOrEqual(PHONE.width)
      await screenshot(page, `33-training-deploy-disabled-${width}`)

      // What the dialog said is the API's answer, and nothing was deployed.
      const refused = await training.api(`/api/v1/training/jobs/${jobId}/deploy`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ route: 'script-bot' }) })
      expect(refused).toMatchObject({ status: 403, body: { error: 'feature_disabled', param: 'custom_models', message: REFUSAL } })
      expect((await training.api('/api/v1/training/deployments')).body.data).toEqual([])
      const routed = await training.api('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: `orders-bot-${width}`, messages: [{ role: 'user', content: 'hi' }] }) })
      expect(routed.status).toBe(404)
      await dialog.getByRole('button', { name: 'Cancel' }).click()
      await dialog.waitFor({ state: 'detached' })
      await context.close()
    }, 60_000)
  }
})
