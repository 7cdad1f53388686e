/**
 * provider.gemini: Google's Gemini Developer API. Chat (generateContent, streamGenerateContent over
 * SSE), tools, images, JSON mode and embeddings (batchEmbedContents), translated to and from the
 * unified OpenAI shape and sent over the kit's pooled client; the official @google/genai SDK is the
 * source of the wire types and lists models.
 */
import { Pricing, definePlugin, type Provider } from '../../../plugin-api/index.ts'
import { boundedUpstreamFetch } from '../kit/answer-limit.ts'
import { providerWireClient } from '../kit/wire-client.ts'
import { loadOnce } from '../kit/provider-kit.ts'
import { outputCapOf } from '../kit/output-cap.ts'
import { createGeminiProvider } from './provider.ts'
import { configSchema, DEFAULT_API_VERSION, DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, type GeminiConfig } from './schema.ts'

export default definePlugin<GeminiConfig, Provider>({
  id: 'provider.gemini',
  kind: 'provider',
  description: 'Google Gemini (Gemini Developer API) over the kit\'s pooled client; @google/genai for model lists.',
  configSchema,
  uses: [Pricing],
  async setup(ctx, config) {
    const apiVersion = config.api_version ?? DEFAULT_API_VERSION
    const client = providerWireClient(ctx, {
      baseURL: config.base_url ?? DEFAULT_BASE_URL,
      // The key as the SDK sends it; then the block's own headers.
      headers: { 'x-goog-api-key': config.api_key, ...config.headers },
      timeoutMs: config.timeout_ms ?? DEFAULT_TIMEOUT_MS,
      maxAnswerMb: config.max_answer_mb,
    })
    // Imported on the first model list, so a gateway that only chats never loads the SDK.
    const loadSdk = loadOnce(() => import('@google/genai').then(({ GoogleGenAI }) => new GoogleGenAI({
      apiKey: config.api_key,
      // Explicit, so GOOGLE_GENAI_USE_VERTEXAI in the environment cannot switch the backend.
      vertexai: false,
      apiVersion,
      // No retryOptions: the SDK then makes one attempt; the gateway owns retries and fallbacks.
      httpOptions: {
        // Through the environment's proxy, redirects not followed (egress.ts), answers within max_answer_mb.
        fetch: boundedUpstreamFetch(config.max_answer_mb),
        ...(config.base_url ? { baseUrl: config.base_url } : {}),
        ...(config.headers ? { headers: { ...config.headers } } : {}),
      },
    })))
    return createGeminiProvider(client, loadSdk, { name: ctx.name, apiVersion, outputCap: outputCapOf(ctx) })
  },
})
