/**
 * The Training page in a real browser, against a gateway whose OpenAI provider is a mock
 * fine-tuning upstream (validating → running with loss metrics → succeeded; suffix `slow` keeps
 * running): a job started from a checked dataset with hyperparameters (and refused, field by
 * field, when they are wrong), its loss chart and evaluation (scores, losses, results file), Deploy of a succeeded job (then routable through
 * /v1), and Pause, Resume and Cancel of a running one. Screenshots at laptop and phone width.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PHONE, ensureConsoleBuilt, launchBrowser, openPage, screenshot, signInWithKey, skipWithoutChromium } from '../helpers/browser.ts'
import { ADMIN_KEY } from './helpers.ts'
import { ADMIN, DATASET, startTrainingConsole, type TrainingConsole } from './training.ts'

let training: TrainingConsole
let browser: Browser

beforeAll(async () => {
  if (skipWithoutChromium) return
  ensureConsoleBuilt()
  training = await startTrainingConsole('features: { custom_models: true }\nroles:\n  trainer: { permissions: [chat, manage_training], scope: all_data }')
  browser = await launchBrowser()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await training?.close()
})

async function apiJobs(): Promise<{ id: string; status: string; suffix: string | null; hyperparameters: Record<string, number> }[]> {
  return (await training.api('/api/v1/training/jobs')).body.data
}

async function pick(page: Page, field: string, option: string): Promise<void> {
  await page.getByRole('combobox', { name: field }).click()
  await page.getByRole('option', { name: option }).click()
}

describe.skipIf(skipWithoutChromium)('the Training page', () => {
  it('starts a job from a dataset (wrong hyperparameters refused by field), charts its loss, and deploys the model', async () => {
    const { context, page } = await openPage(browser)
    await signInWithKey(page, training.url, ADMIN_KEY)
    await page.goto(`${training.url}/training`)
    await page.getByText('Upload a dataset above, then start a job from it.').waitFor()
    await page.getByLabel('Upload a dataset').setInputFiles({ name: 'orders.jsonl', mimeType: 'application/jsonl', buffer: DATASET })
    await page.locator('[data-dataset="orders.jsonl"]').waitFor()

    await page.getByRole('button', { name: 'New fine-tuning job' }).first().click()
    const form = page.getByRole('form', { name: 'New fine-tuning job' })
    await form.getByLabel('Epochs').fill('0')
    await form.getByLabel('Learning rate ×').fill('fast')
    await form.getByRole('button', { name: 'Start fine-tuning' }).click()
    await form.locator('[data-field-error=job-model]').waitFor()
    expect(await form.locator('[data-field-error=job-n_epochs]').innerText()).toBe('Must be at least 1.')
    expect(await form.locator('[data-field-error=job-learning_rate_multiplier]').innerText()).toBe('Not a number.')
    expect(await form.getByLabel('Epochs').getAttribute('aria-invalid')).toBe('true')
    await screenshot(page, '30-training-new-job-refused')
    expect(await apiJobs()).toHaveLength(0)

    await pick(page, 'Base model', 'gpt-4o-mini')
    await form.getByLabel('Epochs').fill('2')
    await form.getByLabel('Learning rate ×').fill('0.5')
    training.trainer.answers.set('Where is my order?', 'It ships tomorrow.') // the fine-tuned model learnt it
    await form.getByLabel('Name suffix').fill('orders')
    await form.getByRole('button', { name: 'Start fine-tuning' }).click()
    const detail = page.locator('[data-job-detail]')
    await detail.and(page.locator('[data-status=succeeded]')).waitFor({ timeout: 30_000 })
    const [job] = await apiJobs()
    expect(job).toMatchObject({ status: 'succeeded', suffix: 'orders', hyperparameters: { n_epochs: 2, learning_rate_multiplier: 0.5 } })
    // Both metric events are charted: two points on the training-loss line.
    await page.locator('[data-loss-points="2"]').waitFor()
    expect(await page.locator('[aria-label="Training loss by step"] .recharts-line-dots').first().locator('circle').count()).toBe(2)
    await detail.getByText('The job has successfully completed').waitFor()
    // The gateway's evaluation of the model: its answers (the mock's, set above: all right) on the 3 training examples, the losses, the results file.
    const evaluation = detail.getByRole('region', { name: 'Evaluation' })
    await evaluation.and(page.locator('[data-evaluation=completed]')).waitFor()
    const metric = async (key: string) => (await evaluation.locator(`[data-metric=${key}] dd`).innerText()).trim()
    expect(await metric('exact_match')).toBe('100%')
    expect(await metric('similarity')).toBe('100%')
    expect(await metric('examples')).toBe('3 training')
    expect(await metric('train_loss')).toBe((1 / 3).toFixed(4))
    expect(await metric('valid_loss')).toBe((1.1 / 3).toFixed(4))
    const [evaluated] = (await training.api('/api/v1/training/jobs')).body.data as { evaluation: { exact_match: number; examples: number }; result_files: string[] }[]
    expect(evaluated.evaluation).toMatchObject({ exact_match: 1, examples: 3 })
    const link = evaluation.getByRole('link', { name: 'Results (CSV)' })
    expect(await link.getAttribute('data-results-file')).toBe(evaluated.result_files[0])
    // The link downloads the CSV with the signed-in session.
    const csv = await page.request.get(new URL((await link.getAttribute('href'))!, page.url()).href)
    expect(csv.status()).toBe(200)
    expect((await csv.text()).split('\n')[0]).toBe('step,train_loss,valid_loss')
    await evaluation.scrollIntoViewIfNeeded()
    await screenshot(page, '31-training-job-succeeded')

    await detail.getByRole('button', { name: 'Deploy' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Route name').fill('bad name!')
    await dialog.getByRole('button', { name: 'Deploy model' }).click()
    await dialog.locator('[data-field-error=deploy-route]').waitFor()
    await dialog.getByLabel('Route name').fill('orders-bot')
    await dialog.getByRole('button', { name: 'Deploy model' }).click()
    await dialog.getByText('Deployed as orders-bot').waitFor()
    expect(await dialog.locator('[data-deployment-yaml]').innerText()).toContain('ft:gpt-4o-mini:org-x:orders:abc123')
    await screenshot(page, '32-training-deployed')
    await dialog.getByRole('button', { name: 'Done' }).click()
    await page.locator('[data-deployed-as="orders-bot"]').waitFor()
    // The deployed model answers through /v1 under its route name.
    await expect.poll(async () => {
      const res = await fetch(`${training.url}/v1/chat/completions`, { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'orders-bot', messages: [{ role: 'user', content: 'hi' }] }) })
      return res.ok ? ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content : `HTTP ${res.status}`
    }, { timeout: 10_000 }).toBe('answered by ft:gpt-4o-mini:org-x:orders:abc123')
    await context.close()
  }, 90_000)

  it('shows a trainer who is not an admin the jobs but no Deploy button, and the API refuses them the deploy', async () => {
    const created = await training.api('/api/v1/keys', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'trainer', role: 'trainer' }) })
    expect(created.status).toBe(201)
    const trainerKey: string = created.body.data.key
    const { context, page } = await openPage(browser)
    await signInWithKey(page, training.url, trainerKey)
    await page.goto(`${training.url}/training`)
    const detail = page.locator('[data-job-detail][data-status=succeeded]')
    await detail.waitFor()
    await detail.getByText('Trained tokens').waitFor()
    expect(await detail.getByRole('button', { name: 'Deploy' }).count()).toBe(0)
    const [job] = (await apiJobs()).filter((j) => j.status === 'succeeded')
    const refused = await fetch(`${training.url}/api/v1/training/jobs/${job!.id}/deploy`, { method: 'POST', headers: { authorization: `Bearer ${trainerKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ route: 'trainer-bot' }) })
    expect(refused.status).toBe(403)
    await context.close()
  }, 60_000)

  it('pauses, resumes and cancels a running job, at the provider too', async () => {
    const { context, page } = await openPage(browser, PHONE)
    await signInWithKey(page, training.url, ADMIN_KEY)
    await page.goto(`${training.url}/training`)
    await page.getByRole('button', { name: 'New fine-tuning job' }).first().click()
    await pick(page, 'Base model', 'gpt-4o-mini')
    await page.getByLabel('Name suffix').fill('slow')
    await page.getByRole('button', { name: 'Start fine-tuning' }).click()
    const detail = page.locator('[data-job-detail][data-status=running]')
    await detail.waitFor({ timeout: 30_000 })
    await screenshot(page, '33-phone-training-running')
    // Paused and resumed at the provider (the page follows the job's status).
    await detail.getByRole('button', { name: 'Pause' }).click()
    const paused = page.locator('[data-job-detail][data-status=paused]')
    await paused.waitFor()
    await screenshot(page, '33-phone-training-paused')
    const upstreamJob = [...training.trainer.jobs.values()].at(-1)!
    expect(upstreamJob.status).toBe('paused')
    await paused.getByRole('button', { name: 'Resume' }).click()
    await page.locator('[data-job-detail][data-status=running]').getByRole('button', { name: 'Cancel job' }).waitFor({ timeout: 30_000 })
    await page.locator('[data-job-detail][data-status=running]').getByRole('button', { name: 'Cancel job' }).click()
    await page.locator('[data-job-detail][data-status=cancelled]').waitFor()
    const slow = (await apiJobs()).find((j) => j.suffix === 'slow')!
    expect(slow.status).toBe('cancelled')
    expect(training.trainer.cancelled).toHaveLength(1)
    // A cancelled job offers neither Cancel nor Deploy.
    expect(await page.locator('[data-job-detail]').getByRole('button', { name: /Cancel job|Deploy/ }).count()).toBe(0)
    await page.evaluate(() => window.scrollTo(0, 0))
    await screenshot(page, '34-phone-training')
    await context.close()
  }, 90_000)
})
