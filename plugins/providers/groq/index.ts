/**
 * provider.groq: Groq's OpenAI-compatible API through the official groq-sdk. Requests pass through
 * but for what Groq cannot take (params.ts, reported through call.unsupported); stream usage,
 * which Groq reports in the final chunk's `x_groq.usage`, is turned into OpenAI's usage chunk when
 * the client asked for `stream_options.include_usage`. Reasoning per model: reasoning.ts.
 */
import { Pricing, definePlugin, type Provider, type ProviderCall } from '../../../plugin-api/index.ts'
import { outputCapOf } from '../kit/output-cap.ts'
import { CONNECTION_PROPERTIES, createOpenAIWireProvider, openAIWireSetup, type ConnectionConfig } from '../kit/openai-wire.ts'
import type { ChatChunk, ChatMessage, ChatRequest, Usage } from '../../../plugin-api/index.ts'
import { groqThinking } from './reasoning.ts'
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
  uses: [Pricing],
  async setup(ctx, config) {
    const { default: Groq } = await import('groq-sdk')
    // groq-sdk's paths, below the API root.
    const wire = openAIWireSetup(ctx, config, { baseURL: GROQ_BASE_URL, paths: { chat: '/openai/v1/chat/completions', embeddings: '/openai/v1/embeddings' } })
    const client = new Groq(wire.sdk)
    return createOpenAIWireProvider(
      {
        ...wire.calls,
        models: async (options) => (await client.models.list(options)).data,
      },
      {
        provider: ctx.name,
        errors: Groq,
        secrets: [config.api_key],
        unsupported: GROQ_UNSUPPORTED,
        unsupportedInEmbeddings: GROQ_UNSUPPORTED_IN_EMBEDDINGS,
        thinking: groqThinking,
        prepare: toGroqRequest,
        usageOf: groqUsage,
        modelOwner: 'groq',
        outputCap: outputCapOf(ctx),
        dispose: wire.close,
      },
    )
  },
})
