/**
 * Same-wire passthrough: a request that came in on Anthropic's own Messages API (surface.anthropic)
 * goes to Anthropic as it came, only `model` set to the target's (and a `max_tokens` above its cap
 * lowered, in index.ts), so everything the unified API
 * cannot carry survives (`cache_control` breakpoints, `thinking`, server tools, citations). The
 * answer goes back as Anthropic sent it, byte for byte (a stream event by event); its usage is read
 * on the way for accounting. Sent over the kit's pooled client (wire-client.ts), not the SDK.
 */
import type { Message, RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages'
import { isAborted, upstreamError, type AbortSource, type NativeResult, type ProviderCall, type SseFrame, type Usage } from '../../../plugin-api/index.ts'
import { isJson, UpstreamStatusError, type EventData, type WholeAnswer, type WireClient } from '../kit/wire-client.ts'
import { toUsage, type UsageCounts } from './response.ts'

export const MESSAGES_PATH = '/v1/messages'
const COUNT_TOKENS_PATH = '/v1/messages/count_tokens'

/** What a native call needs besides its body: the pooled client, the error mapping, and the betas the config always sends. */
export interface NativeContext {
  readonly client: WireClient
  readonly provider: string
  readonly mapError: (err: unknown, signal: AbortSource, stage?: 'call' | 'answer') => unknown
  /** `betas` from the provider's block: sent with the client's own, not replaced by them. */
  readonly betas: readonly string[]
}

/**
 * The headers of a request passed through: the client's `anthropic-version` (its body is written
 * to that version) and its `anthropic-beta` flags with the config's, then the route's header
 * overrides, which win. Undefined when there are none (the client's defaults then).
 */
export function passthroughHeaders(call: ProviderCall, betas: readonly string[]): Record<string, string> | undefined {
  const version = call.wireHeaders?.['anthropic-version']
  const clientBetas = call.wireHeaders?.['anthropic-beta']
  if (!version && !clientBetas && !call.headers) return undefined
  const headers: Record<string, string> = {}
  if (version) headers['anthropic-version'] = version
  const flags = clientBetas?.split(',').map((b) => b.trim()).filter(Boolean) ?? []
  if (flags.length) headers['anthropic-beta'] = [...new Set([...betas, ...flags])].join(',')
  return Object.assign(headers, call.headers)
}

/**
 * `POST /v1/messages/count_tokens` as the client sent it; the answer (`{ input_tokens }`) parsed, so
 * a plugin's GatewayCalls.native reads it as `body` (it is a few bytes). No usage: a count costs nothing.
 */
export async function passthroughCountTokens(ctx: NativeContext, body: Record<string, unknown>, call: ProviderCall): Promise<NativeResult> {
  const answer = await sendWhole(ctx, COUNT_TOKENS_PATH, body, call)
  let count: unknown
  try {
    count = JSON.parse(answer.bytes.toString('utf8'))
  } catch (err) {
    throw ctx.mapError(err, call, 'answer')
  }
  return { body: count, usage: () => undefined, model: () => undefined }
}

export async function passthroughMessages(ctx: NativeContext, body: Record<string, unknown>, call: ProviderCall): Promise<NativeResult> {
  if (body.stream !== true) return messageResult(await sendWhole(ctx, MESSAGES_PATH, body, call))
  let data: EventData
  const { payload, headers } = outgoing(body, call, ctx.betas)
  try {
    data = await ctx.client.send(MESSAGES_PATH, payload, { signal: call, headers })
  } catch (err) {
    throw ctx.mapError(err, call, 'call')
  }
  return new EventRelay(data, call, ctx)
}

/** Parameters Anthropic's SDK takes in the body but sends as headers (its messages-request.ts): moved the same way. */
const HEADER_PARAMS: ReadonlyArray<readonly [param: string, header: string]> = [['workspace_id', 'anthropic-workspace-id'], ['user_profile_id', 'anthropic-user-profile-id']]

/** The body to send and its headers: the passthrough headers, and any header parameter moved out of the body. */
function outgoing(body: Record<string, unknown>, call: ProviderCall, betas: readonly string[]): { payload: string; headers: Record<string, string> | undefined } {
  let headers = passthroughHeaders(call, betas)
  let sent = body
  for (const [param, header] of HEADER_PARAMS) {
    if (sent[param] == null) continue
    if (sent === body) sent = { ...body }
    headers = { [header]: String(sent[param]), ...headers }
    delete sent[param]
  }
  return { payload: JSON.stringify(sent), headers }
}

/** A whole JSON answer to a passed-through request. */
async function sendWhole(ctx: NativeContext, path: string, body: Record<string, unknown>, call: ProviderCall): Promise<WholeAnswer> {
  let answer: WholeAnswer
  const { payload, headers } = outgoing(body, call, ctx.betas)
  try {
    answer = await ctx.client.sendWhole(path, payload, { signal: call, headers })
  } catch (err) {
    throw ctx.mapError(err, call, 'call')
  }
  if (isJson(answer.contentType)) return answer
  const text = answer.bytes.toString('utf8')
  throw ctx.mapError(new UpstreamStatusError(undefined, text, null, text || 'the upstream answered without a JSON body'), call, 'answer')
}

/** A Message relayed as its bytes; parsed once, when accounting asks for its usage and model. */
function messageResult(answer: WholeAnswer): NativeResult {
  let message: Partial<Message> | undefined
  const parsed = (): Partial<Message> => {
    if (message) return message
    try {
      message = JSON.parse(answer.bytes.toString('utf8')) as Partial<Message>
    } catch {
      message = {}
    }
    return message
  }
  return {
    bytes: answer.bytes,
    usage: () => { const usage = parsed().usage; return usage ? toUsage(usage) : undefined },
    model: () => parsed().model,
  }
}

/** An event's type, the first field of every event Anthropic sends (its `event:` name too). */
const EVENT_TYPE = /^\{\s*"type"\s*:\s*"([a-z_]+)"/

/** Anthropic's stream events relayed as their data came, noting the usage they carry. */
class EventRelay implements NativeResult {
  #usage: UsageCounts | undefined
  #model: string | undefined
  /** The content deltas' data as it came (a reference each, parsed only by text(): a stream the client left). */
  readonly #deltas: string[] = []
  readonly events: AsyncIterable<SseFrame>

  constructor(source: EventData, signal: AbortSource, ctx: NativeContext) {
    const relay = this
    this.events = {
      async *[Symbol.asyncIterator]() {
        let stopped = false
        try {
          for await (const data of source) {
            const type = EVENT_TYPE.exec(data)?.[1] ?? (JSON.parse(data) as { type?: string }).type ?? 'message'
            if (type === 'content_block_delta') relay.#deltas.push(data)
            else if (type === 'message_start' || type === 'message_delta') relay.#note(JSON.parse(data) as RawMessageStreamEvent)
            else if (type === 'error') throw new UpstreamStatusError(undefined, JSON.parse(data), null, 'upstream sent an error mid-stream')
            else if (type === 'message_stop') stopped = true
            yield { event: type, data }
          }
        } catch (err) {
          throw ctx.mapError(err, signal)
        }
        // A cut-short stream must not look complete.
        if (!stopped && !isAborted(signal)) throw upstreamError(undefined, 'the stream ended before message_stop', { kind: 'connection', provider: ctx.provider })
      },
    }
  }

  usage(): Usage | undefined {
    return this.#usage && toUsage(this.#usage)
  }

  model(): string | undefined {
    return this.#model
  }

  /**
   * The text, thinking and tool input the deltas carried: what a stream the client left had generated.
   * message_start reports `output_tokens: 1` and the true count comes with message_delta at the end,
   * so the gateway counts this to bill such a stream's output.
   */
  text(): string {
    let text = ''
    for (const data of this.#deltas) {
      try {
        const delta = (JSON.parse(data) as { delta?: { text?: string; thinking?: string; partial_json?: string } }).delta
        text += delta?.text ?? delta?.thinking ?? delta?.partial_json ?? ''
      } catch { /* not JSON: carries no text */ }
    }
    return text
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
        // message_delta has no split of the cache writes by lifetime: message_start's stands.
        cache_creation: this.#usage.cache_creation,
      }
    }
  }
}
