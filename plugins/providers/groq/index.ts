/**
 * provider.groq: Groq's OpenAI-compatible API through the official groq-sdk. Requests pass through
 * but for what Groq cannot take (params.ts, reported through call.unsupported); stream usage,
 * which Groq reports in the final chunk's `x_groq.usage`, is turned into OpenAI's usage chunk when
 * the client asked for `stream_options.include_usage`.
 */
import { definePlugin, type Provider, type ProviderCall } from '../../../core/plugins/api.ts'
import { CONNECTION_PROPERTIES, createOpenAIWireProvider, sdkClientOptions, type ConnectionConfig } from '../kit/openai-wire.ts'
import type { ChatChunk, ChatMessage, ChatRequest, ChatResponse, ChatStream, EmbeddingResponse, Usage } from '../../../core/plugins/api.ts'
import { GROQ_SERVICE_TIERS, GROQ_UNSUPPORTED, GROQ_UNSUPPORTED_IN_EMBEDDINGS } from './params.ts'

export interface GroqConfig extends ConnectionConfig {
  api_key: string
}

/** The SDK appends `/openai/v1/...` to this. */
export const GROQ_BASE_URL = 'https://api.groq.com'

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['api_key'],
  properties: {
    ...CONNECTION_PROPERTIES,
    base_url: { ...CONNECTION_PROPERTIES.base_url, default: GROQ_BASE_URL, description: 'Groq\'s API root, without /openai/v1 (the SDK adds it).' },
  },
}

/** Groq's request: stream_options is not part of its API, names on messages are rejected, tiers are renamed. */
function toGroqRequest(req: ChatRequest, call: ProviderCall): ChatRequest {
  const named = req.messages.some((m) => 'name' in m && m.name !== undefined)
  if (req.stream_options === undefined && !named && req.service_tier == null) return req
  const { stream_options: _usageIsReadFromXGroq, ...body } = req
  if (named) {
    call.unsupported('messages[].name', 'Groq rejects participant names on messages')
    body.messages = body.messages.map(withoutName)
  }
  if (typeof body.service_tier === 'string') body.service_tier = GROQ_SERVICE_TIERS[body.service_tier] as ChatRequest['service_tier']
  return body as ChatRequest
}

function withoutName(message: ChatMessage): ChatMessage {
  if (!('name' in message)) return message
  const { name: _dropped, ...rest } = message
  return rest as ChatMessage
}

const groqUsage = (chunk: ChatChunk): Usage | undefined => (chunk as ChatChunk & { x_groq?: { usage?: Usage } }).x_groq?.usage

export default definePlugin<GroqConfig, Provider>({
  id: 'provider.groq',
  kind: 'provider',
  description: 'Groq (chat, streaming, tools, vision, JSON modes) through the official groq-sdk.',
  configSchema,
  async setup(ctx, config) {
    const { default: Groq } = await import('groq-sdk')
    const sdk = sdkClientOptions(config, { baseURL: GROQ_BASE_URL }, ctx.logger)
    const client = new Groq(sdk.options)
    type GroqChatParams = Parameters<typeof client.chat.completions.create>[0]
    type GroqEmbeddingParams = Parameters<typeof client.embeddings.create>[0]
    return createOpenAIWireProvider(
      {
        // The casts are the SDK boundary: groq-sdk declares the same wire shapes under its own names.
        chat: async (body, options) => (await client.chat.completions.create(body as unknown as GroqChatParams, options)) as unknown as ChatResponse | ChatStream,
        embed: async (body, options) => (await client.embeddings.create(body as unknown as GroqEmbeddingParams, options)) as unknown as EmbeddingResponse,
        models: async (options) => (await client.models.list(options)).data,
      },
      {
        provider: ctx.name,
        errors: Groq,
        secrets: [config.api_key],
        unsupported: GROQ_UNSUPPORTED,
        unsupportedInEmbeddings: GROQ_UNSUPPORTED_IN_EMBEDDINGS,
        prepare: toGroqRequest,
        usageOf: groqUsage,
        modelOwner: 'groq',
        dispose: sdk.close,
      },
    )
  },
})
