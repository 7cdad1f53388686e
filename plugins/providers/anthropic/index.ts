/**
 * provider.anthropic: Claude through Anthropic's Messages API. Messages (translated from OpenAI's
 * chat completions, or passed through from Anthropic's own surface) and token counts go over the
 * kit's pooled keep-alive client (wire-client.ts), as bytes: the SDK's fetch path cost about four
 * times the CPU per request (bench/providers.ts). The official SDK stays the source of the wire
 * types, and lists models (imported on the first list). Retries are the gateway's, not a client's.
 */
import type Anthropic from '@anthropic-ai/sdk'
import type { Message, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages'
import { Pricing, definePlugin, type AbortSource, type Provider, type ProviderCall } from '../../../plugin-api/index.ts'
import type { ChatRequest, ChatResult, ModelInfo } from '../../../plugin-api/index.ts'
import { providerWireClient, type WireClient } from '../kit/wire-client.ts'
import { loadOnce } from '../kit/provider-kit.ts'
import { ANTHROPIC_BOUNDS, outputCapOf, withinOutputCap, type OutputCap } from '../kit/output-cap.ts'
import { ANTHROPIC_VERSION, configSchema, type AnthropicConfig } from './schema.ts'
import { fromSdkError, fromWireError, type SdkErrors } from './errors.ts'
import { toAnthropicRequest, type RequestOptions } from './request.ts'
import { toChatCompletion } from './response.ts'
import { toChatChunks } from './stream.ts'
import { ANTHROPIC_COUNT_TOKENS, ANTHROPIC_MESSAGES } from '../../contracts/wires.ts'
import { MESSAGES_PATH, passthroughCountTokens, passthroughHeaders, passthroughMessages, type NativeContext } from './native.ts'
import { boundedUpstreamFetch } from '../kit/answer-limit.ts'
import { ANTHROPIC_SAMPLING_VERSIONS } from '../../contracts/anthropic.ts'

/** The SDK's client and error classes, for the model list. */
export interface AnthropicSdk {
  readonly client: Anthropic
  readonly errors: SdkErrors
}

export function createAnthropicProvider(client: WireClient, sdk: () => Promise<AnthropicSdk>, config: AnthropicConfig, name: string, outputCap?: OutputCap): Provider {
  const requestOptions: RequestOptions = {
    samplingParams: config.anthropic_version !== undefined && ANTHROPIC_SAMPLING_VERSIONS.has(config.anthropic_version),
    defaultMaxTokens: config.default_max_tokens,
    outputCap,
  }
  const mapError = (err: unknown, signal: AbortSource, stage: 'call' | 'answer' = 'answer'): unknown => fromWireError(err, signal, name, stage)
  const native: NativeContext = { client, provider: name, mapError: (err, signal, stage) => fromWireError(err, signal, name, stage, true), betas: config.betas ?? [] }
  // A configured default_max_tokens above the model's cap is lowered to it, without a warning: the
  // client asked for no bound (so a strict route has nothing of the client's to refuse).
  const optionsFor = (req: ChatRequest): RequestOptions => {
    const configured = config.default_max_tokens
    if (configured === undefined || req.max_tokens != null || req.max_completion_tokens != null) return requestOptions
    const most = outputCap?.(req.model)
    return most !== undefined && most < configured ? { ...requestOptions, defaultMaxTokens: most } : requestOptions
  }

  return {
    dispose: () => client.close(),
    // /v1/messages and /v1/messages/count_tokens to an Anthropic target: the client's request as it came (native.ts),
    // but for a `max_tokens` above the model's cap, lowered to it (output-cap.ts) as Anthropic refuses more with a 400.
    native: {
      [ANTHROPIC_MESSAGES]: (body, call) => passthroughMessages(native, withinOutputCap(body, outputCap, call, ANTHROPIC_BOUNDS), call),
      [ANTHROPIC_COUNT_TOKENS]: (body, call) => passthroughCountTokens(native, body, call),
    },

    async chat(req: ChatRequest, call: ProviderCall): Promise<ChatResult> {
      // An answer bound above the model's cap is lowered to it (output-cap.ts), as Anthropic refuses more with a 400.
      const body = toAnthropicRequest(withinOutputCap(req, outputCap, call), call, optionsFor(req))
      // Beta flags its caller passed for the translated body (a message batch's `anthropic-beta`), with the config's, as a direct request's go.
      const headers = call.wireHeaders ? passthroughHeaders(call, native.betas) : call.headers
      let answer: unknown
      try {
        answer = req.stream
          ? await client.post(MESSAGES_PATH, { ...body, stream: true }, { signal: call, headers, stream: true })
          : await client.postForObject(MESSAGES_PATH, body, { signal: call, headers })
      } catch (err) {
        throw mapError(err, call, 'call')
      }
      if (!req.stream) return toChatCompletion(answer as Message)
      const events = answer as AsyncIterable<RawMessageStreamEvent>
      return toChatChunks(events, { includeUsage: req.stream_options?.include_usage === true, signal: call, provider: name, mapError: (err) => mapError(err, call) })
    },

    async listModels(signal?: AbortSignal): Promise<ModelInfo[]> {
      const models: ModelInfo[] = []
      const { client: sdkClient, errors } = await sdk()
      try {
        for await (const model of sdkClient.models.list({ limit: 1000 }, { signal })) {
          models.push({ id: model.id, object: 'model', created: Math.floor(Date.parse(model.created_at) / 1000), owned_by: 'anthropic' })
        }
      } catch (err) {
        throw fromSdkError(err, errors, name)
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
  description: 'Claude through Anthropic\'s Messages API (the kit\'s pooled client; @anthropic-ai/sdk for model lists).',
  configSchema,
  uses: [Pricing],
  async setup(ctx, config) {
    const client = providerWireClient(ctx, {
      baseURL: config.base_url,
      headers: { authorization: `Bearer ${config.api_key}`, 'anthropic-version': ANTHROPIC_VERSION, ...defaultHeaders(config) },
      timeoutMs: config.timeout_ms,
      maxAnswerMb: config.max_answer_mb,
    })
    // Imported on the first model list, so a gateway that only relays messages never loads the SDK.
    const loadSdk = loadOnce((): Promise<AnthropicSdk> => import('@anthropic-ai/sdk').then((errors) => ({
      errors,
      client: new errors.Anthropic({
        apiKey: config.api_key,
        // Explicit, so neither ANTHROPIC_BASE_URL nor a credentials profile can redirect the gateway's traffic.
        baseURL: config.base_url,
        timeout: config.timeout_ms,
        maxRetries: 0,
        // Through the environment's proxy, redirects not followed (egress.ts), answers within max_answer_mb.
        fetch: boundedUpstreamFetch(config.max_answer_mb),
        defaultHeaders: defaultHeaders(config),
      }),
    })))
    return createAnthropicProvider(client, loadSdk, config, ctx.name, outputCapOf(ctx))
  },
})
