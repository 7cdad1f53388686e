/**
 * provider.anthropic: Claude through Anthropic's Messages API and the official SDK. One SDK client
 * per instance (its connections are reused; the kernel rebuilds the instance only when its config
 * changes); SDK retries are off because the gateway owns retries and fallbacks.
 */
import type Anthropic from '@anthropic-ai/sdk'
import type { MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages'
import { definePlugin, type Provider, type ProviderCall } from '../../../plugin-api/index.ts'
import type { ChatRequest, ChatResult, ModelInfo } from '../../../plugin-api/index.ts'
import { configSchema, type AnthropicConfig } from './schema.ts'
import { fromSdkError, type SdkErrors } from './errors.ts'
import { toAnthropicRequest, type RequestOptions } from './request.ts'
import { toChatCompletion } from './response.ts'
import { toChatChunks } from './stream.ts'
import { ANTHROPIC_COUNT_TOKENS, ANTHROPIC_MESSAGES } from '../../contracts/wires.ts'
import { passthroughCountTokens, passthroughMessages, type NativeContext } from './native.ts'

/** The API version before 2026-10-21 removed `temperature` and `top_p`. */
const SAMPLING_VERSIONS = new Set(['2023-01-01', '2023-06-01'])

export function createAnthropicProvider(client: Anthropic, sdk: SdkErrors, config: AnthropicConfig, name: string): Provider {
  const requestOptions: RequestOptions = {
    samplingParams: config.anthropic_version !== undefined && SAMPLING_VERSIONS.has(config.anthropic_version),
    defaultMaxTokens: config.default_max_tokens,
  }
  const mapError = (err: unknown, stage: 'call' | 'answer' = 'answer'): unknown => fromSdkError(err, sdk, name, stage)
  const native: NativeContext = { client, provider: name, mapError, betas: config.betas ?? [] }

  return {
    // /v1/messages and /v1/messages/count_tokens to an Anthropic target: the client's request as it came (native.ts).
    native: {
      [ANTHROPIC_MESSAGES]: (body, call) => passthroughMessages(native, body, call),
      [ANTHROPIC_COUNT_TOKENS]: (body, call) => passthroughCountTokens(native, body, call),
    },

    async chat(req: ChatRequest, call: ProviderCall): Promise<ChatResult> {
      const body = toAnthropicRequest(req, call, requestOptions)
      const options = { signal: call.signal, ...(call.headers ? { headers: call.headers } : {}) }
      try {
        if (!req.stream) return toChatCompletion(await client.messages.create(body as MessageCreateParamsNonStreaming, options))
        const events = await client.messages.create({ ...body, stream: true }, options)
        return toChatChunks(events, { includeUsage: req.stream_options?.include_usage === true, signal: call.signal, provider: name, mapError })
      } catch (err) {
        throw fromSdkError(err, sdk, name, 'call')
      }
    },

    async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
      const models: ModelInfo[] = []
      try {
        for await (const model of client.models.list({ limit: 1000 }, { signal })) {
          models.push({ id: model.id, object: 'model', created: Math.floor(Date.parse(model.created_at) / 1000), owned_by: 'anthropic' })
        }
      } catch (err) {
        throw mapError(err)
      }
      return models
    },
  }
}

function defaultHeaders(config: AnthropicConfig): Record<string, string> {
  return {
    ...config.headers,
    ...(config.anthropic_version ? { 'anthropic-version': config.anthropic_version } : {}),
    ...(config.betas?.length ? { 'anthropic-beta': config.betas.join(',') } : {}),
  }
}

export default definePlugin<AnthropicConfig, Provider>({
  id: 'provider.anthropic',
  kind: 'provider',
  description: 'Claude through Anthropic\'s Messages API (@anthropic-ai/sdk).',
  configSchema,
  async setup(ctx, config) {
    // Imported here so a gateway without an anthropic provider never loads the SDK.
    const sdk = await import('@anthropic-ai/sdk')
    const client = new sdk.Anthropic({
      apiKey: config.api_key,
      // Explicit, so neither ANTHROPIC_BASE_URL nor a credentials profile can redirect the gateway's traffic.
      baseURL: config.base_url,
      timeout: config.timeout_ms,
      maxRetries: 0,
      defaultHeaders: defaultHeaders(config),
    })
    return createAnthropicProvider(client, sdk, config, ctx.name)
  },
})
