/**
 * Same-wire passthrough for OpenAI-wire upstreams: a request that came in on OpenAI's own chat
 * completions or embeddings surface goes upstream as the client sent it (only `model`, and the
 * route's default parameters, set by the kernel), and the answer comes back as the upstream sent
 * it. Nothing is parsed into the unified shape and nothing serialised again:
 *
 *  - a whole answer is relayed as its bytes; only its `usage` object is cut out and parsed,
 *  - a stream is relayed event by event, each event's data as it came; only an event that
 *    carries a usage object or an error is parsed. The gateway always asks for usage upstream; the
 *    usage-only last chunk goes to the client only if it asked for it, and if the upstream ignored
 *    the ask, the gateway's own count goes in its place (`countedUsageChunk`, marked `x_gateway`).
 *
 * The kernel chooses this path only when no stage needs the unified answer (a cache does) and no
 * stage replaced the request; otherwise the provider's `chat`/`embed` run as before.
 */
import { abortReason, completionStream, countedUsageChunk, estimateTextTokens, isAborted, type ChatChunk, type ChatResponse, type EmbeddingResponse, type NativeResult, type ProviderCall, type SseFrame, type Usage } from '../../../plugin-api/index.ts'
import { OPENAI_COMPLETIONS, OPENAI_IMAGE_EDITS, OPENAI_IMAGE_VARIATIONS, OPENAI_IMAGES, OPENAI_MODERATIONS, OPENAI_SPEECH, OPENAI_TRANSCRIPTIONS, OPENAI_TRANSLATIONS, type MultipartBody } from '../../contracts/wires.ts'
import { conformEmbeddingEncoding } from './provider-kit.ts'
import { withoutReplayedThinking } from '../../contracts/thinking.ts'
import { DONE, failure, isJson, UpstreamNotStreamedError, UpstreamStatusError, type EventData, type WholeAnswer, type WireClient } from './wire-client.ts'

/** The wire names surface.openai declares for its chat completions and embeddings endpoints. */
export const OPENAI_CHAT_WIRE = 'openai-chat'
export const OPENAI_EMBEDDINGS_WIRE = 'openai-embeddings'


/** Where an upstream takes chat and embeddings calls, below its base URL. */
export interface WirePaths {
  readonly chat: string
  readonly embeddings: string
  /** OpenAI's moderations endpoint, where the upstream has one (then `native['openai-moderations']`). */
  readonly moderations?: string
  /** The legacy text completions endpoint, where the upstream serves one (then `native['openai-completions']`). */
  readonly completions?: string
  /** Image generation, edits and variations, where the upstream has them (then `native['openai-images']`, `native['openai-image-edits']`, `native['openai-image-variations']`). */
  readonly images?: string
  readonly imageEdits?: string
  readonly imageVariations?: string
  /** Speech to text, where the upstream has it (then `native['openai-transcriptions']`, `native['openai-translations']`). */
  readonly transcriptions?: string
  readonly translations?: string
  /** Text to speech, where the upstream has it (then `native['openai-speech']`). */
  readonly speech?: string
}

/** Turns what the passthrough threw into the provider's GatewayError (openai-wire.ts's mapping). */
export type PassthroughErrors = (err: unknown, signal: AbortSignal, stage: 'call' | 'answer') => unknown

type Native = (body: Record<string, unknown>, call: ProviderCall) => Promise<NativeResult>

/** `Provider.native` for an OpenAI-wire upstream reached through `client`. */
export function openAIPassthrough(client: WireClient, paths: WirePaths, mapError: PassthroughErrors): Record<string, Native> {
  /** A stream's events; from an upstream that ignored `stream: true`, its whole answer's as a stream would have carried them. */
  const call = async (path: string, body: Record<string, unknown>, providerCall: ProviderCall): Promise<EventData> => {
    try {
      return await client.send(path, JSON.stringify(body), { signal: providerCall, headers: providerCall.headers })
    } catch (err) {
      const whole = wholeCompletionIn(err)
      if (whole) return eventsOfWhole(whole)
      throw mapError(err, providerCall.signal, 'call')
    }
  }
  /** A 2xx answer read whole; `headers` beside the call's (an upload's content type). A socket failure while the body was read is the kit's connection error, whatever the stage. */
  const answerOf = async (path: string, payload: string | Buffer, providerCall: ProviderCall, headers?: Record<string, string>): Promise<WholeAnswer> => {
    try {
      return await client.sendWhole(path, payload, { signal: providerCall, headers: headers ? { ...providerCall.headers, ...headers } : providerCall.headers })
    } catch (err) {
      throw mapError(err, providerCall.signal, 'call')
    }
  }
  /** A whole JSON answer, relayed as its bytes; its usage read from them. */
  const whole = async (path: string, body: Record<string, unknown>, providerCall: ProviderCall): Promise<NativeResult> =>
    wholeResult(await answerOf(path, JSON.stringify(body), providerCall), providerCall, mapError)
  /** A multipart upload (image edits, audio), the form as the client sent it with the target's model; a JSON answer's usage read, a text answer (a transcript as text or subtitles) relayed with its type. */
  const form = async (path: string, body: Record<string, unknown>, providerCall: ProviderCall): Promise<NativeResult> => {
    const { bytes: payload, contentType } = await multipart(body as MultipartBody)
    const answer = await answerOf(path, payload, providerCall, { 'content-type': contentType })
    if (isJson(answer.contentType)) return wholeResult(answer, providerCall, mapError)
    return { bytes: answer.bytes, contentType: answer.contentType ?? 'text/plain', usage: () => undefined, model: () => undefined }
  }
  /** An upload whose answer may report tokens (image edits and variations, transcripts), where the upstream has its `path`. */
  const reportedUpload = (wire: string, path: string | undefined): Record<string, Native> =>
    path ? { [wire]: async (body, providerCall) => reportedTokens(await form(path, body, providerCall)) } : {}
  /** Audio for a text: the answer's bytes relayed with their type. */
  const speech = async (path: string, body: Record<string, unknown>, providerCall: ProviderCall): Promise<NativeResult> => {
    const answer = await answerOf(path, JSON.stringify(body), providerCall, { accept: '*/*' })
    return { bytes: answer.bytes, contentType: answer.contentType ?? 'audio/mpeg', usage: () => speechUsage(body), model: () => undefined }
  }
  /** A chat or text completion: a whole answer relayed as its bytes, a stream event by event, usage always asked for. */
  const completion = async (path: string, asked: Record<string, unknown>, providerCall: ProviderCall): Promise<NativeResult> => {
    // An earlier answer's thinking sent back (Claude's, Gemini's) is refused by OpenAI-wire upstreams.
    const body = withoutReplayedThinking(asked)
    if (body.stream !== true) return whole(path, body, providerCall)
    const options = body.stream_options as { include_usage?: unknown } | null | undefined
    const clientWantsUsage = options?.include_usage === true
    // Usage is always asked for, so every stream is accounted for.
    const sent = clientWantsUsage ? body : { ...body, stream_options: { ...options, include_usage: true } }
    return new EventRelay(await call(path, sent, providerCall), clientWantsUsage, providerCall, mapError)
  }
  return {
    [OPENAI_CHAT_WIRE]: (body, providerCall) => completion(paths.chat, body, providerCall),
    // Floats named when the client named no encoding, as the translated path asks (openai-wire.ts).
    [OPENAI_EMBEDDINGS_WIRE]: async (body, providerCall) => {
      const result = await whole(paths.embeddings, body.encoding_format ? body : { ...body, encoding_format: 'float' }, providerCall)
      return body.encoding_format === 'base64' ? asBase64(result) : result
    },
    ...(paths.moderations ? { [OPENAI_MODERATIONS]: (body: Record<string, unknown>, providerCall: ProviderCall) => whole(paths.moderations!, body, providerCall) } : {}),
    ...(paths.completions ? { [OPENAI_COMPLETIONS]: (body: Record<string, unknown>, providerCall: ProviderCall) => completion(paths.completions!, body, providerCall) } : {}),
    ...(paths.images ? { [OPENAI_IMAGES]: async (body: Record<string, unknown>, providerCall: ProviderCall) => reportedTokens(await whole(paths.images!, body, providerCall)) } : {}),
    ...reportedUpload(OPENAI_IMAGE_EDITS, paths.imageEdits),
    // DALL·E answers (variations are dall-e-2's alone) report no usage: a request with no tokens.
    ...reportedUpload(OPENAI_IMAGE_VARIATIONS, paths.imageVariations),
    // A transcript's usage is tokens (gpt-4o-transcribe: the same input/output shape as images') or, for whisper-1, seconds of audio (no tokens).
    ...reportedUpload(OPENAI_TRANSCRIPTIONS, paths.transcriptions),
    ...reportedUpload(OPENAI_TRANSLATIONS, paths.translations),
    ...(paths.speech ? { [OPENAI_SPEECH]: (body: Record<string, unknown>, providerCall: ProviderCall) => speech(paths.speech!, body, providerCall) } : {}),
  }
}

/** The whole completion an upstream answered a stream request with (UpstreamNotStreamedError), if that is what `err` is. */
export function wholeCompletionIn(err: unknown): (Record<string, unknown> & { choices: unknown[] }) | undefined {
  if (!(err instanceof UpstreamNotStreamedError)) return undefined
  const body = err.body as { choices?: unknown } | null
  return typeof body === 'object' && body !== null && Array.isArray(body.choices) ? (body as Record<string, unknown> & { choices: unknown[] }) : undefined
}

/**
 * A whole answer as the events of the stream it stands for: a chat completion as its chunks; a
 * text completion (whose chunks have the answer's own shape) as one chunk; its usage, if any, in a
 * usage-only chunk last, which the relay passes on only to a client that asked for usage.
 */
async function* eventsOfWhole(body: Record<string, unknown> & { choices: unknown[] }): EventData {
  if (body.object === 'text_completion') {
    const { usage, ...chunk } = body
    yield JSON.stringify(chunk)
    if (usage) yield JSON.stringify({ id: body.id, object: 'text_completion', created: body.created, model: body.model, choices: [], usage })
  } else {
    for await (const chunk of completionStream(body as unknown as ChatResponse)) yield JSON.stringify(chunk)
  }
  yield DONE
}

/** Speech answers carry no usage: what the input text is estimated to hold (prices per character, as tts-1's, are per 4 characters in the catalog). */
export function speechUsage(body: Record<string, unknown>): Usage {
  const prompt = estimateTextTokens(typeof body.input === 'string' ? body.input : '')
  return { prompt_tokens: prompt, completion_tokens: 0, total_tokens: prompt }
}

/** A MultipartBody as multipart/form-data bytes and their content type (boundary included), as fetch's FormData encodes it. */
async function multipart(body: MultipartBody): Promise<{ bytes: Buffer; contentType: string }> {
  const data = new FormData()
  for (const [name, value] of Object.entries(body)) {
    if (name === 'files' || value === undefined || value === null) continue
    for (const one of Array.isArray(value) ? value : [value]) data.append(name, String(one))
  }
  for (const file of body.files ?? []) data.append(file.field, new Blob([new Uint8Array(file.data)], { type: file.contentType }), file.filename)
  const encoded = new Response(data)
  return { bytes: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type')! }
}

/** The usage an images or transcription answer reports (input and output tokens: GPT image models, gpt-4o-transcribe; none for DALL-E, seconds for whisper-1), as the kernel counts tokens: prompt and completion. */
export function reportedTokens(result: NativeResult): NativeResult {
  return { ...result, usage: () => tokensOf(result.usage() as unknown as ReportedUsage | undefined) }
}

interface ReportedUsage {
  readonly input_tokens?: number
  readonly output_tokens?: number
  readonly total_tokens?: number
}

function tokensOf(usage: ReportedUsage | undefined): Usage | undefined {
  if (!usage || typeof usage.input_tokens !== 'number') return undefined
  const completion = usage.output_tokens ?? 0
  return { prompt_tokens: usage.input_tokens, completion_tokens: completion, total_tokens: usage.total_tokens ?? usage.input_tokens + completion }
}

const EMBEDDING_KEY = Buffer.from('"embedding"')

/**
 * An embeddings answer to a base64 request, base64 whatever the upstream sent. OpenAI answers base64
 * as asked; a server behind `provider.openai`'s base_url that ignores the encoding (a proxy to
 * Ollama) answers floats, which the openai Node SDK, asking base64 by default, would decode to
 * nothing. Only the first vector's opening is looked at; such an answer alone is parsed and encoded.
 */
function asBase64(result: NativeResult): NativeResult {
  const bytes = result.bytes
  if (!bytes) return result
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  // `"embedding"` is also the value of each item's `object`: the key is the one a colon follows.
  let i = -1
  for (let at = buffer.indexOf(EMBEDDING_KEY); at >= 0 && i < 0; at = buffer.indexOf(EMBEDDING_KEY, at + 1)) {
    const next = skipSpace(buffer, at + EMBEDDING_KEY.length)
    if (buffer[next] === 0x3a /* : */) i = skipSpace(buffer, next + 1)
  }
  if (i < 0 || buffer[i] !== 0x5b /* [ */) return result
  let answer: EmbeddingResponse
  try {
    answer = JSON.parse(buffer.toString('utf8')) as EmbeddingResponse
  } catch {
    return result // not JSON after all: relayed as it came, as any answer
  }
  return { ...result, bytes: Buffer.from(JSON.stringify(conformEmbeddingEncoding(answer, 'base64'))) }
}

/** What a whole JSON answer relays: its bytes, its usage read from them when asked. */
function wholeResult(answer: WholeAnswer, call: ProviderCall, mapError: PassthroughErrors): NativeResult {
  const { bytes } = answer
  if (!isJson(answer.contentType)) {
    const text = bytes.toString('utf8')
    throw mapError(new UpstreamStatusError(undefined, text, null, text || 'the upstream answered without a JSON body'), call.signal, 'answer')
  }
  let usage: Usage | undefined | null
  return {
    bytes,
    usage: () => (usage === undefined ? (usage = usageIn(bytes) ?? null) : usage) ?? undefined,
    // The model stays the route target's, as on the translated path (prices are looked up by it).
    model: () => undefined,
  }
}

const USAGE_KEY = Buffer.from('"usage"')

/**
 * The top-level `usage` object of a JSON answer, cut out of its bytes and parsed alone. A `"usage"`
 * followed by a colon can only be a key: inside a string its quotes would be escaped. OpenAI puts
 * usage last; anything unexpected (no usage, a shape the scan does not follow) parses the whole body.
 */
export function usageIn(bytes: Buffer): Usage | undefined {
  const at = bytes.lastIndexOf(USAGE_KEY)
  if (at >= 0) {
    let i = skipSpace(bytes, at + USAGE_KEY.length)
    if (bytes[i] === 0x3a /* : */) {
      i = skipSpace(bytes, i + 1)
      const end = objectEnd(bytes, i)
      if (end > 0) {
        try {
          return JSON.parse(bytes.toString('utf8', i, end)) as Usage
        } catch { /* fall through to the whole body */ }
      } else if (bytes[i] === 0x6e /* null */) return undefined
    }
  }
  try {
    const body = JSON.parse(bytes.toString('utf8')) as { usage?: Usage | null }
    return body.usage ?? undefined
  } catch {
    return undefined
  }
}

function skipSpace(bytes: Buffer, i: number): number {
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++
  return i
}

/** The index after the object that starts at `start` (strings and nesting followed), or -1. */
function objectEnd(bytes: Buffer, start: number): number {
  if (bytes[start] !== 0x7b /* { */) return -1
  let depth = 0
  for (let i = start; i < bytes.length; i++) {
    const c = bytes[i]
    if (c === 0x22 /* " */) {
      for (i++; i < bytes.length && bytes[i] !== 0x22; i++) if (bytes[i] === 0x5c /* \ */) i++
    } else if (c === 0x7b || c === 0x5b) depth++
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return i + 1
  }
  return -1
}

/**
 * A stream relayed event by event. An event's data is parsed only when it may carry usage or an
 * error; content chunks are kept as they came (their text is read only if the stream ends without
 * usage, for the tokenizer).
 */
class EventRelay implements NativeResult {
  readonly events: AsyncIterable<SseFrame>
  #usage: Usage | undefined
  readonly #content: string[] = []

  constructor(stream: EventData, clientWantsUsage: boolean, call: ProviderCall, mapError: PassthroughErrors) {
    const relay = this
    // The client asked for usage and the upstream ignored it: the gateway's own count goes before [DONE].
    const owed = async (): Promise<SseFrame | undefined> => (clientWantsUsage && !relay.#usage ? relay.#counted(call) : undefined)
    this.events = {
      async *[Symbol.asyncIterator]() {
        let done = false
        try {
          for await (const data of stream) {
            if (data === DONE) {
              const counted = done ? undefined : await owed()
              if (counted) yield counted
              done = true
              yield { data: DONE }
              continue
            }
            if (!relay.#note(data) && !clientWantsUsage) continue
            yield { data }
          }
          // The reader may stop early: the for-await above then aborts the upstream request, and this never runs.
          if (isAborted(call)) throw abortReason(call)
          // An upstream that ends without [DONE] still ends the client's stream as OpenAI's does.
          if (!done) {
            const counted = await owed()
            if (counted) yield counted
            yield { data: DONE }
          }
        } catch (err) {
          throw mapError(failure(err, call), call.signal, 'answer')
        }
      },
    }
  }

  /**
   * Note what an event's data says; false for the usage-only last chunk (no choices), which only a
   * client that asked for usage gets. Throws the error an event carries.
   */
  #note(data: string): boolean {
    // Content chunks carry `"usage":null` (when usage is asked for) or no usage: kept unparsed.
    if (!data.includes('"usage":{') && !data.includes('"usage": {') && !data.includes('"error"')) {
      this.#content.push(data)
      return true
    }
    const chunk = JSON.parse(data) as { error?: unknown; usage?: Usage | null; choices?: unknown[] } | null
    if (chunk?.error) throw new UpstreamStatusError(undefined, chunk, null, 'upstream sent an error mid-stream')
    if (chunk?.usage) this.#usage = chunk.usage
    if (Array.isArray(chunk?.choices) && chunk.choices.length > 0) {
      this.#content.push(data)
      return true
    }
    return false
  }

  /** The usage chunk in the last content chunk's envelope, from the gateway's count (which accounting then reads as this stream's usage). */
  async #counted(call: ProviderCall): Promise<SseFrame | undefined> {
    const last = this.#content.at(-1)
    if (!last || !call.countUsage) return undefined
    let envelope: ChatChunk
    try {
      envelope = JSON.parse(last) as ChatChunk
    } catch {
      return undefined // not JSON: no envelope to put the usage in
    }
    this.#usage = await call.countUsage(this.text())
    return { data: JSON.stringify(countedUsageChunk(envelope, this.#usage)) }
  }

  usage(): Usage | undefined {
    return this.#usage
  }

  model(): string | undefined {
    return undefined
  }

  /** The text and tool-call arguments the relayed chunks carried (a text completion's chunks carry `text`). */
  text(): string {
    let text = ''
    for (const data of this.#content) {
      try {
        const choice = (JSON.parse(data) as { choices?: { text?: string; delta?: { content?: string | null; tool_calls?: { function?: { arguments?: string } }[] } }[] }).choices?.[0]
        if (choice?.text) text += choice.text
        const delta = choice?.delta
        if (delta?.content) text += delta.content
        for (const call of delta?.tool_calls ?? []) if (call.function?.arguments) text += call.function.arguments
      } catch { /* not JSON: carries no text */ }
    }
    return text
  }
}
