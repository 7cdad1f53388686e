import { describe, expect, it } from 'vitest'
import { describeOpenAIWireProvider, TEST_API_KEY } from './wire-suite.ts'
import { openaiDialect } from './wire-fixtures.ts'
import { startTestGateway } from '../../helpers/gateway.ts'

describeOpenAIWireProvider({
  plugin: 'openai',
  dialect: openaiDialect,
  block: (url, extra) => ({ api_key: TEST_API_KEY, base_url: `${url}/v1`, ...extra }),
  chatModel: 'gpt-4o-mini',
  embeddingModel: 'text-embedding-3-small',
  path: (endpoint) => `/v1/${endpoint}`,
  expectAuth: (req) => expect(req.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`),
  forwardsStreamOptions: true,
})

describe('provider.openai configuration', () => {
  it('refuses a provider block without api_key, naming the key', async () => {
    const yaml = 'version: 1\nproviders:\n  oa: { plugin: openai }\nroutes:\n  - { model: x, targets: [ { provider: oa } ] }\n'
    await expect(startTestGateway(yaml)).rejects.toThrow(/api_key/)
  })
})
