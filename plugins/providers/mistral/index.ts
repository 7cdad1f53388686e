/**
 * provider.mistral: Mistral AI's API. Chat (streaming too), tools, images, JSON mode and
 * embeddings, translated to and from the unified OpenAI shape and sent over the kit's pooled
 * client; the official @mistralai/mistralai SDK writes and reads the wire (its schemas) and lists models.
 */
import { Pricing, definePlugin, type Provider } from '../../../plugin-api/index.ts'
import { providerWireClient } from '../kit/wire-client.ts'
import { loadOnce } from '../kit/provider-kit.ts'
import { outputCapOf } from '../kit/output-cap.ts'
import { mistralFineTuner } from './fine-tune.ts'
import { FineTuning } from '../../contracts/fine-tuning.ts'
import { createMistralProvider } from './provider.ts'
import { configSchema, DEFAULT_TIMEOUT_MS, type MistralConfig } from './schema.ts'
import { boundedUpstreamFetch } from '../kit/answer-limit.ts'

/**
 * The API's paths start with `/v1/`; an OpenAI-style base URL ending in /v1 would double it, so
 * that suffix is taken off.
 */
const serverUrl = (baseUrl: string | undefined): string | undefined => baseUrl?.replace(/\/+$/, '').replace(/\/v1$/, '')

const DEFAULT_SERVER_URL = 'https://api.mistral.ai'

export default definePlugin<MistralConfig, Provider>({
  id: 'provider.mistral',
  kind: 'provider',
  description: 'Mistral AI over the kit\'s pooled client; @mistralai/mistralai for its wire schemas and model lists.',
  configSchema,
  uses: [Pricing],
  async setup(ctx, config) {
    const server = serverUrl(config.base_url) ?? DEFAULT_SERVER_URL
    const client = providerWireClient(ctx, {
      baseURL: `${server}/v1`,
      headers: { authorization: `Bearer ${config.api_key}`, ...config.headers },
      timeoutMs: config.timeout_ms ?? DEFAULT_TIMEOUT_MS,
      maxAnswerMb: config.max_answer_mb,
    })
    // The SDK's client only lists models: imported on the first list.
    const loadSdk = loadOnce(() => import('@mistralai/mistralai').then(({ HTTPClient, Mistral }) => new Mistral({
      apiKey: config.api_key,
      serverURL: server,
      // Through the environment's proxy, redirects not followed (egress.ts), answers within max_answer_mb.
      httpClient: new HTTPClient({ fetcher: boundedUpstreamFetch(config.max_answer_mb) }),
      // The gateway owns retries and fallbacks.
      retryConfig: { strategy: 'none' },
      timeoutMs: config.timeout_ms ?? DEFAULT_TIMEOUT_MS,
    })))
    const provider = createMistralProvider(client, loadSdk, {
      name: ctx.name,
      headers: config.headers,
      safePrompt: config.safe_prompt ?? false,
      outputCap: outputCapOf(ctx),
    })
    const fineTune = mistralFineTuner({ baseUrl: server, apiKey: config.api_key, headers: config.headers, maxAnswerMb: config.max_answer_mb })
    return { ...provider, capabilities: { [FineTuning.key]: fineTune } }
  },
})
