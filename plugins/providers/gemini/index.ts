/**
 * provider.gemini: Google's Gemini Developer API through the official @google/genai SDK.
 * Chat (generateContent, streamGenerateContent over SSE), tools, images, JSON mode and
 * embeddings (batchEmbedContents), translated to and from the unified OpenAI shape.
 */
import { definePlugin, type Provider } from '../../../plugin-api/index.ts'
import { createGeminiProvider } from './provider.ts'
import { configSchema, DEFAULT_API_VERSION, DEFAULT_TIMEOUT_MS, type GeminiConfig } from './schema.ts'

export default definePlugin<GeminiConfig, Provider>({
  id: 'provider.gemini',
  kind: 'provider',
  description: 'Google Gemini (Gemini Developer API) through @google/genai.',
  configSchema,
  async setup(ctx, config) {
    // Loaded here, not at the top: a gateway without a Gemini provider never pays for the SDK.
    const { GoogleGenAI } = await import('@google/genai')
    const client = new GoogleGenAI({
      apiKey: config.api_key,
      // Explicit, so GOOGLE_GENAI_USE_VERTEXAI in the environment cannot switch the backend.
      vertexai: false,
      apiVersion: config.api_version ?? DEFAULT_API_VERSION,
      // No retryOptions: the SDK then makes one attempt; the gateway owns retries and fallbacks.
      httpOptions: {
        ...(config.base_url ? { baseUrl: config.base_url } : {}),
        ...(config.headers ? { headers: { ...config.headers } } : {}),
      },
    })
    return createGeminiProvider(client, { name: ctx.name, timeoutMs: config.timeout_ms ?? DEFAULT_TIMEOUT_MS })
  },
})
