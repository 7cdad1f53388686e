/**
 * provider.openrouter: OpenRouter's OpenAI-compatible API (chat and embeddings through the kit's pooled
 * client, model lists through the official openai SDK), with
 * OpenRouter's app-attribution headers. Model names are OpenRouter's (`openai/gpt-4o-mini`).
 * OpenRouter's quirks are handled by plugins/providers/kit/openai-wire.ts: keep-alive comments (the SDK's SSE
 * parser skips them), the usage chunk it always sends (forwarded only when asked for), errors sent
 * as a 200 body or mid-stream with the status in `error.code`, and model entries without `owned_by`.
 *
 * Thinking: OpenRouter takes OpenAI's `reasoning_effort` as it is (its shorthand for `reasoning.effort`)
 * for every model that reasons, so an Anthropic client's thinking becomes its `reasoning` (a budget as
 * `max_tokens`) for any model rather than only OpenAI's. Its answer's `reasoning` becomes
 * `reasoning_content` in the kit; `reasoning_details` (signed or encrypted blocks) stay on the message
 * for the client to send back, which OpenRouter reads on the next turn.
 */
import { Pricing, definePlugin, type ChatRequest, type Provider } from '../../../plugin-api/index.ts'
import { thinkingAskOf } from '../../contracts/thinking.ts'
import { outputCapOf } from '../kit/output-cap.ts'
import { CONNECTION_PROPERTIES, createOpenAIWireProvider, openAIWireSetup, type ConnectionConfig } from '../kit/openai-wire.ts'

export interface OpenRouterConfig extends ConnectionConfig {
  api_key: string
  site_url?: string
  app_name?: string
}

export const OPENROUTER_BASE_URL = 'https://openrouter.ai/api/v1'

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['api_key'],
  properties: {
    ...CONNECTION_PROPERTIES,
    base_url: { ...CONNECTION_PROPERTIES.base_url, default: OPENROUTER_BASE_URL },
    site_url: { type: 'string', format: 'uri', description: 'Your app\'s URL, sent as HTTP-Referer (OpenRouter app attribution).' },
    app_name: { type: 'string', minLength: 1, description: 'Your app\'s name, sent as X-Title and X-OpenRouter-Title (OpenRouter app attribution).' },
  },
}

/** OpenRouter's attribution headers: X-OpenRouter-Title is the current name, X-Title the one older deployments read. */
function attributionHeaders(config: OpenRouterConfig): Record<string, string> {
  const headers: Record<string, string> = {}
  if (config.site_url) headers['HTTP-Referer'] = config.site_url
  if (config.app_name) {
    headers['X-Title'] = config.app_name
    headers['X-OpenRouter-Title'] = config.app_name
  }
  return headers
}

/**
 * An Anthropic client's thinking as OpenRouter's `reasoning`: its budget as `max_tokens`, adaptive
 * thinking as its effort. OpenRouter maps either to the routed model's own form. The client's own
 * `reasoning_effort` or `reasoning` wins. A copy only when it adds one.
 */
export function openRouterThinking(req: ChatRequest): ChatRequest {
  const ask = thinkingAskOf(req)
  if (!ask || req.reasoning_effort != null || 'reasoning' in req) return req
  const reasoning = ask.budget !== undefined ? { max_tokens: ask.budget } : { effort: ask.effort }
  return Object.assign({ ...req }, { reasoning })
}

export default definePlugin<OpenRouterConfig, Provider>({
  id: 'provider.openrouter',
  kind: 'provider',
  description: 'OpenRouter (hundreds of models behind one OpenAI-compatible API) through the official openai SDK.',
  configSchema,
  uses: [Pricing],
  async setup(ctx, config) {
    const { default: OpenAI } = await import('openai')
    const wire = openAIWireSetup(ctx, config, { baseURL: OPENROUTER_BASE_URL, headers: attributionHeaders(config) })
    const client = new OpenAI({ ...wire.sdk, organization: null, project: null })
    return createOpenAIWireProvider(
      { ...wire.calls, passthrough: wire.completionsOnly, models: async (options) => (await client.models.list(options)).data },
      { provider: ctx.name, errors: OpenAI, secrets: [config.api_key], modelOwner: 'openrouter', thinking: openRouterThinking, outputCap: outputCapOf(ctx), dispose: wire.close, readsPdf: true },
    )
  },
})
