/**
 * provider.mistral: Mistral AI's API through the official @mistralai/mistralai SDK.
 * Chat (streaming too), tools, images, JSON mode and embeddings, translated to and from the
 * unified OpenAI shape.
 */
import { definePlugin, type Provider } from '../../../plugin-api/index.ts'
import { mistralFineTuner } from './fine-tune.ts'
import { FineTuning } from '../../contracts/fine-tuning.ts'
import { createMistralProvider } from './provider.ts'
import { configSchema, DEFAULT_TIMEOUT_MS, type MistralConfig } from './schema.ts'

/**
 * The SDK appends `/v1/...` to the server URL; an OpenAI-style base URL ending in /v1 would
 * double it, so that suffix is taken off.
 */
const serverUrl = (baseUrl: string | undefined): string | undefined => baseUrl?.replace(/\/+$/, '').replace(/\/v1$/, '')

export default definePlugin<MistralConfig, Provider>({
  id: 'provider.mistral',
  kind: 'provider',
  description: 'Mistral AI through @mistralai/mistralai.',
  configSchema,
  async setup(ctx, config) {
    // Loaded here, not at the top: a gateway without a Mistral provider never pays for the SDK.
    const { Mistral } = await import('@mistralai/mistralai')
    const client = new Mistral({
      apiKey: config.api_key,
      serverURL: serverUrl(config.base_url),
      // The gateway owns retries and fallbacks.
      retryConfig: { strategy: 'none' },
      timeoutMs: config.timeout_ms ?? DEFAULT_TIMEOUT_MS,
    })
    const provider = createMistralProvider(client, {
      name: ctx.name,
      timeoutMs: config.timeout_ms ?? DEFAULT_TIMEOUT_MS,
      headers: config.headers,
      safePrompt: config.safe_prompt ?? false,
    })
    const fineTune = mistralFineTuner({ baseUrl: serverUrl(config.base_url) ?? 'https://api.mistral.ai', apiKey: config.api_key, headers: config.headers })
    return { ...provider, capabilities: { [FineTuning.key]: fineTune } }
  },
})
