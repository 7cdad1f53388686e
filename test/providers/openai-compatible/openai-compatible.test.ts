import { describe, expect, it } from 'vitest'
import { describeOpenAIWireProvider, TEST_API_KEY } from '../openai/wire-suite.ts'
import { azureDialect, openaiDialect } from '../openai/wire-fixtures.ts'
import { startTestGateway } from '../../helpers/gateway.ts'
import { sendJson, type RecordedRequest } from '../../helpers/upstream.ts'
import { mockUpstreamSuite } from '../../helpers/provider-suite.ts'

const API_VERSION = '2024-10-21'

// A vLLM / LM Studio style server: OpenAI's paths under the configured base URL.
describeOpenAIWireProvider({
  plugin: 'openai-compatible',
  dialect: openaiDialect,
  block: (url, extra) => ({ api_key: TEST_API_KEY, base_url: `${url}/v1`, ...extra }),
  chatModel: 'meta-llama/Llama-3.1-8B-Instruct',
  embeddingModel: 'BAAI/bge-small-en-v1.5',
  path: (endpoint) => `/v1/${endpoint}`,
  expectAuth: (req) => expect(req.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`),
  forwardsStreamOptions: true,
})

// Azure OpenAI's dated API: deployment in the path, api-version in the query, the key as api-key.
const expectAzureAuth = (req: RecordedRequest) => {
  expect(req.headers['api-key']).toBe(TEST_API_KEY)
  expect(req.headers.authorization).toBeUndefined()
  expect(req.query.get('api-version')).toBe(API_VERSION)
}
describeOpenAIWireProvider({
  plugin: 'openai-compatible',
  dialect: azureDialect,
  block: (url, extra) => ({ api_key: TEST_API_KEY, base_url: url, api_version: API_VERSION, ...extra }),
  chatModel: 'gpt-4o-mini-prod',
  embeddingModel: 'embeddings-small',
  path: (endpoint, model) => (endpoint === 'models' ? '/openai/models' : `/openai/deployments/${model}/${endpoint}`),
  expectAuth: expectAzureAuth,
  forwardsStreamOptions: true,
})

describe('provider.openai-compatible specifics', () => {
  const local = (url: string) => JSON.stringify({ plugin: 'openai-compatible', base_url: `${url}/v1` })
  const pinned = (url: string) => JSON.stringify({ plugin: 'openai-compatible', base_url: url, api_key: TEST_API_KEY, api_version: API_VERSION, deployment: 'gpt4o-eu' })
  const setup = mockUpstreamSuite((url) => `
version: 1
providers:
  ollama: ${local(url)}
  azure: ${pinned(url)}
routes:
  - { model: local, targets: [ { provider: ollama, model: 'llama3.2:3b' } ] }
  - { model: azure, targets: [ { provider: azure, model: gpt-4o } ] }
`, (req, res) => sendJson(res, 200, openaiDialect.completion(String(req.body.model), { content: 'local answer' })))

  it('sends no Authorization header to a server configured without api_key', async () => {
    const res = await setup.client.chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'hi' }] })
    expect(res.choices[0].message.content).toBe('local answer')
    expect(setup.upstream.requests[0].path).toBe('/v1/chat/completions')
    expect(setup.upstream.requests[0].headers.authorization).toBeUndefined()
    expect(setup.upstream.requests[0].body.model).toBe('llama3.2:3b')
  })

  it('sends every call to the pinned Azure deployment when `deployment` is set', async () => {
    await setup.client.chat.completions.create({ model: 'azure', messages: [{ role: 'user', content: 'hi' }] })
    expect(setup.upstream.requests[0].path).toBe('/openai/deployments/gpt4o-eu/chat/completions')
    expect(setup.upstream.requests[0].query.get('api-version')).toBe(API_VERSION)
    // Sent by the kit's pooled client, not the SDK's AzureOpenAI.
    expect(setup.upstream.requests[0].headers['user-agent']).toBe('ai-gateway')
  })

  it('refuses an Azure block without api_key, and a block without base_url', async () => {
    const yaml = (block: string) => `version: 1\nproviders:\n  p: ${block}\nroutes:\n  - { model: x, targets: [ { provider: p } ] }\n`
    await expect(startTestGateway(yaml('{ plugin: openai-compatible, base_url: "http://127.0.0.1:1", api_version: "2024-10-21" }'))).rejects.toThrow(/api_key/)
    await expect(startTestGateway(yaml('{ plugin: openai-compatible, api_key: k }'))).rejects.toThrow(/base_url/)
  })
})
