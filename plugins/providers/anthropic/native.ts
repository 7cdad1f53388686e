/**
 * Same-wire passthrough: a request that came in on Anthropic's own Messages API (surface.anthropic)
 * goes to Anthropic as it came, only `model` set to the target's, so everything the unified API
 * cannot carry survives (`cache_control` breakpoints, `thinking`, server tools, citations). The
 * answer goes back as Anthropic sent it; its usage is read on the way for accounting.
 */
import type Anthropic from '@anthropic-ai/sdk'
import type { MessageCountTokensParams, MessageCreateParamsNonStreaming, MessageCreateParamsStreaming, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages'
import { upstreamError, type NativeResult, type ProviderCall, type SseFrame, type Usage } from '../../../plugin-api/index.ts'
import { toUsage, type UsageCounts } from './response.ts'

/** What a native call needs besides its body: the SDK client, the error mapping, and the betas the config always sends. */
export interface NativeContext {
  readonly client: Anthropic
  readonly provider: string
  readonly mapError: (err: unknown, stage?: 'call' | 'answer') => unknown
  /** `betas` from the provider's block: sent with the client's own, not replaced by them. */
  readonly betas: readonly string[]
}

/**
 * The SDK's request options for a request passed through: the client's `anthropic-version` (its
 * body is written to that version) and its `anthropic-beta` flags with the config's, then the
 * route's header overrides, which win.
 */
export function passthroughOptions(call: ProviderCall, betas: readonly string[]): { signal: AbortSignal; headers?: Record<string, string> } {
  const headers: Record<string, string> = {}
  const version = call.wireHeaders?.['anthropic-version']
  if (version) headers['anthropic-version'] = version
  const clientBetas = call.wireHeaders?.['anthropic-beta']?.split(',').map((b) => b.trim()).filter(Boolean) ?? []
  if (clientBetas.length) headers['anthropic-beta'] = [...new Set([...betas, ...clientBetas])].join(',')
  Object.assign(headers, call.headers)
  return Object.keys(headers).length ? { signal: call.signal, headers } : { signal: call.signal }
}

/** `POST /v1/messages/count_tokens` as the client sent it; the answer (`{ input_tokens }`) as Anthropic sent it. No usage: a count costs nothing. */
export async function passthroughCountTokens(ctx: NativeContext, body: Record<string, unknown>, call: ProviderCall): Promise<NativeResult> {
  try {
    const count = await ctx.client.messages.countTokens(body as unknown as MessageCountTokensParams, passthroughOptions(call, ctx.betas))
    return { body: count, usage: () => undefined, model: () => undefined }
  } catch (err) {
    throw ctx.mapError(err, 'call')
  }
}

export async function passthroughMessages(ctx: NativeContext, body: Record<string, unknown>, call: ProviderCall): Promise<NativeResult> {
  const { client, mapError, provider } = ctx
  const options = passthroughOptions(call, ctx.betas)
  try {
    if (body.stream !== true) {
      const message = await client.messages.create(body as unknown as MessageCreateParamsNonStreaming, options)
      return { body: message, usage: () => toUsage(message.usage), model: () => message.model }
    }
    const events = await client.messages.create(body as unknown as MessageCreateParamsStreaming, options)
    return new EventRelay(events, call.signal, (err) => mapError(err), provider)
  } catch (err) {
    throw mapError(err, 'call')
  }
}

/** Anthropic's stream events relayed as they arrive, noting the usage they carry. */
class EventRelay implements NativeResult {
  #usage: UsageCounts | undefined
  #model: string | undefined
  readonly events: AsyncIterable<SseFrame>

  constructor(source: AsyncIterable<RawMessageStreamEvent>, signal: AbortSignal, mapError: (err: unknown) => unknown, provider: string) {
    const relay = this
    this.events = {
      async *[Symbol.asyncIterator]() {
        let stopped = false
        try {
          for await (const event of source) {
            relay.#note(event)
            if (event.type === 'message_stop') stopped = true
            yield { event: event.type, data: JSON.stringify(event) }
          }
        } catch (err) {
          throw mapError(err)
        }
        // The SDK ends a stream quietly when it is aborted: a cut-short stream must not look complete.
        if (!stopped && !signal.aborted) throw upstreamError(undefined, 'the stream ended before message_stop', { kind: 'connection', provider })
      },
    }
  }

  usage(): Usage | undefined {
    return this.#usage && toUsage(this.#usage)
  }

  model(): string | undefined {
    return this.#model
  }

  #note(event: RawMessageStreamEvent): void {
    if (event.type === 'message_start') {
      this.#model = event.message.model
      this.#usage = event.message.usage
    } else if (event.type === 'message_delta' && this.#usage) {
      // Deltas carry cumulative totals; a counter that does not apply is left out (null).
      const u = event.usage
      this.#usage = {
        input_tokens: u.input_tokens ?? this.#usage.input_tokens,
        output_tokens: u.output_tokens,
        cache_read_input_tokens: u.cache_read_input_tokens ?? this.#usage.cache_read_input_tokens,
        cache_creation_input_tokens: u.cache_creation_input_tokens ?? this.#usage.cache_creation_input_tokens,
        output_tokens_details: u.output_tokens_details ?? this.#usage.output_tokens_details,
      }
    }
  }
}

