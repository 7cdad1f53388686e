/**
 * The chat page's fixtures, shared by its browser tests: a gateway with stored threads (the
 * conversations and chat services, the Conversations API) and one mock provider per model, and
 * the page opened signed in as the admin, with the model picker at hand.
 */
import type { Browser, Page } from 'playwright-core'
import { openPage, signInWithKey } from '../helpers/browser.ts'
import { ADMIN_KEY, startSignIn, type SignInSetup } from './helpers.ts'

/**
 * A gateway whose model `name` is answered by the mock provider configured `models[name]` (its
 * YAML flow mapping), each on its own route tried once (a failure is shown, not retried).
 * The Conversations API (surfaces.responses) deletes a thread's items: regenerate and edit rewind with it.
 */
export function startChatGateway(models: Record<string, string>): Promise<SignInSetup> {
  const names = Object.keys(models)
  return startSignIn({
    providers: names.map((m) => `  ${m}: ${models[m]}`).join('\n'),
    routes: names.map((m) => `  - { model: ${m}, targets: [ { provider: ${m} } ], retry: { attempts: 1 } }`).join('\n'),
    services: '  console: {}\n  conversations: {}\n  chat: {}\nsurfaces:\n  responses: {}',
  })
}

export const modelPicker = (page: Page) => page.getByRole('combobox', { name: 'Model or assistant' })

/** The chat page of `gatewayUrl`, signed in with the admin key, once its picker is there. */
export async function openChatPage(browser: Browser, gatewayUrl: string, viewport: { width: number; height: number }, options: Parameters<typeof openPage>[2] = {}): Promise<{ page: Page; close: () => Promise<void> }> {
  const { context, page } = await openPage(browser, viewport, options)
  await signInWithKey(page, gatewayUrl, ADMIN_KEY)
  await page.goto(`${gatewayUrl}/chat`)
  await modelPicker(page).waitFor()
  return { page, close: () => context.close() }
}

export async function pickModel(page: Page, model: string): Promise<void> {
  await modelPicker(page).click()
  await page.getByRole('option', { name: model, exact: true }).click()
}
