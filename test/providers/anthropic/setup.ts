/** A gateway with anthropic routes pointed at a mock Anthropic upstream, and an OpenAI client for it. */
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { startUpstream, type MockUpstream } from '../../helpers/upstream.ts'
import { MODEL } from './anthropic-upstream.ts'

export const API_KEY = 'sk-ant-test-0123456789'

export interface AnthropicFixture {
  upstream: MockUpstream
  gateway: RunningGateway
  client: OpenAI
  /** The last request the upstream received. */
  lastRequest(): MockUpstream['requests'][number]
  close(): Promise<void>
}

export function anthropicConfig(baseUrl: string): string {
  return `
version: 1
providers:
  claude: { plugin: anthropic, api_key: ${API_KEY}, base_url: '${baseUrl}' }
  claude-legacy: { plugin: anthropic, api_key: ${API_KEY}, base_url: '${baseUrl}', anthropic_version: '2023-06-01', default_max_tokens: 1000 }
routes:
  - model: claude
    targets: [ { provider: claude, model: ${MODEL} } ]
  - model: claude-strict
    strict: true
    targets: [ { provider: claude, model: ${MODEL} } ]
  - model: claude-legacy
    targets: [ { provider: claude-legacy, model: claude-3-5-haiku-latest } ]
  - model: claude-quick
    timeout_ms: 300
    targets: [ { provider: claude, model: ${MODEL} } ]
`
}

export async function startAnthropicFixture(): Promise<AnthropicFixture> {
  const upstream = await startUpstream()
  const gateway = await startTestGateway(anthropicConfig(upstream.url))
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  return {
    upstream,
    gateway,
    client,
    lastRequest() {
      const request = upstream.requests.at(-1)
      if (!request) throw new Error('the upstream received no request')
      return request
    },
    async close() {
      await gateway.close()
      await upstream.close()
    },
  }
}
