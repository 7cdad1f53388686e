/**
 * `GET /v1/models` to the Anthropic SDK, paged as Anthropic's API pages it: `limit` (default 20),
 * `after_id` and `before_id`, with `has_more` that the SDK's `hasNextPage()` and auto-pagination follow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Anthropic from '@anthropic-ai/sdk'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

/** 25 routes: more than one page at Anthropic's default limit of 20. */
const ROUTES = Array.from({ length: 25 }, (_, i) => `model-${String(i + 1).padStart(2, '0')}`)

describe('models.list() from the Anthropic SDK, a page at a time', () => {
  let gateway: RunningGateway
  let client: Anthropic
  beforeAll(async () => {
    gateway = await startTestGateway(`
version: 1
providers:
  mock: { plugin: mock }
routes:
${ROUTES.map((name) => `  - { model: ${name}, targets: [ { provider: mock } ] }`).join('\n')}
`)
    client = new Anthropic({ baseURL: gateway.url, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(() => gateway.close())

  it('answers 20 models by default, says there are more, and the SDK\'s auto-pagination reaches every one once', async () => {
    const first = await client.models.list()
    expect(first.data.map((m) => m.id)).toEqual(ROUTES.slice(0, 20))
    expect([first.has_more, first.first_id, first.last_id]).toEqual([true, 'model-01', 'model-20'])
    expect(first.hasNextPage()).toBe(true)
    const ids: string[] = []
    for await (const model of client.models.list()) ids.push(model.id)
    expect(ids).toEqual(ROUTES)
  })

  it('takes limit and after_id, and before_id backwards', async () => {
    const page = await client.models.list({ limit: 2, after_id: 'model-03' })
    expect(page.data.map((m) => m.id)).toEqual(['model-04', 'model-05'])
    expect(page.has_more).toBe(true)
    const last = await client.models.list({ limit: 5, after_id: 'model-22' })
    expect(last.data.map((m) => m.id)).toEqual(['model-23', 'model-24', 'model-25'])
    expect([last.has_more, last.hasNextPage()]).toEqual([false, false])
    const back = await client.models.list({ limit: 3, before_id: 'model-05' })
    expect(back.data.map((m) => m.id)).toEqual(['model-02', 'model-03', 'model-04'])
    expect(back.has_more).toBe(true)
    const ids: string[] = []
    for await (const model of client.models.list({ limit: 10, before_id: 'model-12' })) ids.push(model.id)
    expect(ids.sort()).toEqual(ROUTES.slice(0, 11))
  })

  it.each([
    ['a limit of 0', { limit: 0 }, 'limit: Input should be a whole number from 1 to 1000'],
    ['a limit above 1000', { limit: 1001 }, 'limit: Input should be a whole number from 1 to 1000'],
    ['a cursor that names no model', { after_id: 'model-99' }, "after_id: No model 'model-99' in the list"],
  ])('refuses %s with BadRequestError in Anthropic\'s shape', async (_name, query, message) => {
    const err = await client.models.list(query).catch((e) => e)
    expect(err).toBeInstanceOf(Anthropic.BadRequestError)
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
    expect(err.error.error.message).toContain(message)
    expect(err.requestID).toBeTruthy()
  })
})
