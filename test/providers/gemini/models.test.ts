import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import gemini from '../../../plugins/providers/gemini/index.ts'
import type { Provider } from '../../../plugin-api/types.ts'
import { testPluginContext } from '../../helpers/plugin-context.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { API_KEY, startGeminiUpstream } from './gemini-upstream.ts'

const context = (name: string) => testPluginContext({ id: 'provider.gemini', name })

describe('gemini: the upstream model list', () => {
  let upstream: Awaited<ReturnType<typeof startGeminiUpstream>>
  let provider: Provider
  beforeAll(async () => {
    upstream = await startGeminiUpstream({
      '/v1beta/models': (_req, res) => sendJson(res, 200, {
        models: [
          { name: 'models/gemini-2.5-flash', displayName: 'Gemini 2.5 Flash', supportedGenerationMethods: ['generateContent', 'countTokens'] },
          { name: 'models/gemini-embedding-001', displayName: 'Gemini Embedding 001', supportedGenerationMethods: ['embedContent'] },
        ],
      }),
    })
    provider = await gemini.setup(context('gemini'), { api_key: API_KEY, base_url: upstream.url, api_version: 'v1beta', timeout_ms: 5000, headers: { 'x-team': 'research' } })
  })
  afterAll(() => upstream.close())

  it('lists the models by id, without the models/ prefix, sending the configured headers', async () => {
    const models = await provider.listModels!()
    expect(upstream.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1beta/models' })
    expect(upstream.requests.at(-1)!.headers).toMatchObject({ 'x-goog-api-key': API_KEY, 'x-team': 'research' })
    expect(models).toEqual([
      { id: 'gemini-2.5-flash', object: 'model', created: 0, owned_by: 'google' },
      { id: 'gemini-embedding-001', object: 'model', created: 0, owned_by: 'google' },
    ])
  })
})
