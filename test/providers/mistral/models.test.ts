import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mistral from '../../../plugins/providers/mistral/index.ts'
import type { Provider } from '../../../plugin-api/types.ts'
import { testPluginContext } from '../../helpers/plugin-context.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { API_KEY, startMistralUpstream } from './mistral-upstream.ts'

const context = (name: string) => testPluginContext({ id: 'provider.mistral', name })

describe('mistral: the upstream model list', () => {
  let upstream: Awaited<ReturnType<typeof startMistralUpstream>>
  let provider: Provider
  beforeAll(async () => {
    upstream = await startMistralUpstream({
      '/v1/models': (_req, res) => sendJson(res, 200, {
        object: 'list',
        data: [
          { id: 'mistral-small-latest', object: 'model', created: 1_750_000_000, owned_by: 'mistralai', type: 'base', capabilities: { completion_chat: true, function_calling: true, vision: true } },
          { id: 'mistral-embed', object: 'model', created: 1_700_000_000, owned_by: 'mistralai', type: 'base', capabilities: {} },
        ],
      }),
    })
    provider = await mistral.setup(context('mistral'), { api_key: API_KEY, base_url: upstream.url, timeout_ms: 5000, safe_prompt: false, headers: { 'x-team': 'research' } })
  })
  afterAll(() => upstream.close())

  it('lists the models with their creation time and owner, sending the configured headers', async () => {
    const models = await provider.listModels!()
    expect(upstream.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/models' })
    expect(upstream.requests.at(-1)!.headers).toMatchObject({ authorization: `Bearer ${API_KEY}`, 'x-team': 'research' })
    expect(models).toEqual([
      { id: 'mistral-small-latest', object: 'model', created: 1_750_000_000, owned_by: 'mistralai' },
      { id: 'mistral-embed', object: 'model', created: 1_700_000_000, owned_by: 'mistralai' },
    ])
  })
})
