/**
 * Calling an upstream that speaks OpenAI's wire format (OpenAI, Azure OpenAI, OpenRouter, Groq,
 * vLLM, Ollama, LM Studio) through an OpenAI-shaped SDK. The unified API *is* this wire format, so
 * a request passes through almost untouched; what is shared here is everything around it:
 *
 *  - dropping parameters the upstream cannot honour, through `call.unsupported` (never silently),
 *  - relaying a stream chunk by chunk as it arrives, honouring `stream_options.include_usage`,
 *  - conforming responses to OpenAI's published schema where compatible servers stray from it,
 *  - mapping the SDK's errors (APIError, APIConnectionError, APIConnectionTimeoutError,
 *    APIUserAbortError) to GatewayErrors: upstream message kept, `retry-after` kept on 429,
 *    dead upstream 502, timeout 504, retryable classified by the published errors; a request that failed
 *    before it was sent (not serialisable, refused by the SDK) is the caller's 400 `request_not_sent`.
 *
 * It knows no SDK by name: a plugin hands over a small transport (three functions) and the SDK's
 * error classes, so the openai SDK and groq-sdk share one code path. Chat and embeddings, the hot
 * path, go through the kit's own pooled undici client (wire-client.ts, set up by
 * `openAIWireSetup`); the SDK client serves the rest (model lists, Azure) and sends over node:http
 * with a keep-alive pool per provider (keepAliveFetch).
 */
import http from 'node:http'
import https from 'node:https'
import { Readable } from 'node:stream'
import type { Logger } from 'pino'
import {
  GatewayError, clientClosed, completionStream, isChatStream, redactSecrets, requestNotSent, upstreamError,
  type ChatChunk, type ChatRequest, type ChatResponse, type ChatStream, type EmbeddingRequest, type EmbeddingResponse, type JsonSchema, type ModelInfo,
  type PluginContext, type Provider, type ProviderCall, type Usage,
} from '../../../plugin-api/index.ts'
import { UpstreamConnectionError, UpstreamStatusError, UpstreamTimeoutError, providerWireClient, transportError } from './wire-client.ts'
import { OPENAI_COMPLETIONS } from '../../contracts/wires.ts'
import { openAIPassthrough, wholeCompletionIn, type PassthroughErrors, type WirePaths } from './passthrough.ts'
export type { WirePaths } from './passthrough.ts'
import { conformEmbeddingEncoding } from './provider-kit.ts'
import { boundedUpstreamFetch, DEFAULT_MAX_ANSWER_MB, guardAnswer, MAX_ANSWER_PROPERTY, MB, tooLargeIn } from './answer-limit.ts'
import { proxyNamed, upstreamFetch } from './egress.ts'
import { withinOutputCap, type OutputCap } from './output-cap.ts'
import { thinkingAsReasoningEffort, withoutReplayedThinking } from '../../contracts/thinking.ts'
import { carriesFileTexts, withFileTextsAsText } from '../../contracts/file-text.ts'

// ---------------------------------------------------------------------------------------------
// configuration every OpenAI-wire plugin shares

/** The connection keys of every OpenAI-wire provider block; each plugin adds its own. */
export const CONNECTION_PROPERTIES: Readonly<Record<string, JsonSchema>> = {
  api_key: { type: 'string', minLength: 1, description: 'The upstream API key. Write ${ENV_VAR}: secrets live in the environment, not in the file.' },
  base_url: { type: 'string', format: 'uri', description: 'The upstream API base URL (tests point it at a mock upstream).' },
  timeout_ms: {
    type: 'integer', minimum: 1, default: 600_000,
    description: 'How long to wait for the upstream to answer (response headers; for a stream, its start). A route\'s timeout_ms bounds the whole attempt.',
  },
  max_answer_mb: MAX_ANSWER_PROPERTY,
  headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra headers sent with every upstream request.' },
}

export interface ConnectionConfig {
  api_key?: string
  base_url?: string
  timeout_ms: number
  max_answer_mb?: number
  headers?: Record<string, string>
}

/** Options both Stainless-generated SDKs (openai, groq-sdk) take, set the gateway's way. */
export interface SdkClientOptions {
  apiKey: string
  baseURL: string
  timeout: number
  /** The gateway owns retries (routes, fallbacks); an SDK retrying inside an attempt would hide failures and double latency. */
  maxRetries: 0
  defaultHeaders: Record<string, string | null>
  logger: SdkLogger
  logLevel: 'warn'
  fetch: typeof fetch
}

/** An SDK client's options, and what releases the connections they hold (the provider's dispose). */
export interface SdkClientSetup {
  readonly options: SdkClientOptions
  readonly close: () => void
}

type SdkLogFn = (message: string, ...rest: unknown[]) => void
export interface SdkLogger { error: SdkLogFn; warn: SdkLogFn; info: SdkLogFn; debug: SdkLogFn }

/** The SDKs' own log lines (warnings only), routed into the plugin's logger instead of the console. */
export function sdkLogger(logger: Logger): SdkLogger {
  const at = (level: 'error' | 'warn' | 'info' | 'debug'): SdkLogFn => (message, ...rest) => logger[level]({ sdk: rest.length ? rest : undefined }, message)
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }
}

export function sdkClientOptions(
  config: ConnectionConfig,
  defaults: { baseURL: string; headers?: Record<string, string | null> },
  logger: Logger,
): SdkClientSetup {
  const transport = keepAliveFetch(config.max_answer_mb)
  const options: SdkClientOptions = {
    // The SDKs refuse to start without a key; servers that need none (Ollama, vLLM) get a placeholder,
    // and the caller removes the Authorization header it would produce.
    apiKey: config.api_key ?? 'none',
    baseURL: config.base_url ?? defaults.baseURL,
    timeout: config.timeout_ms,
    maxRetries: 0,
    defaultHeaders: { ...defaults.headers, ...config.headers },
    logger: sdkLogger(logger),
    logLevel: 'warn',
    fetch: transport.fetch,
  }
  return { options, close: transport.close }
}

/**
 * A `fetch` for the SDKs over node:http(s) with this provider's own keep-alive pool. Node's
 * built-in fetch (undici) costs about 1.1 ms of CPU per call here, against 0.4 ms for node:http
 * behind this adapter (measured with the bench upstream; the SDK adds 0.3 ms either way), and the
 * gateway makes one call per request. The SDKs send these endpoints' bodies as strings; anything
 * else (a multipart upload) goes to the built-in fetch. Answers stop at max_answer_mb either way.
 */
export function keepAliveFetch(maxAnswerMb: number | undefined): { fetch: typeof fetch; close: () => void } {
  const bounded = boundedUpstreamFetch(maxAnswerMb)
  const maxAnswerBytes = (maxAnswerMb ?? DEFAULT_MAX_ANSWER_MB) * MB
  // Through the company's proxy: fetch goes there (egress.ts); node:http would not.
  if (proxyNamed()) return { fetch: bounded, close: () => {} }
  const agents: Record<string, http.Agent> = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) }
  const send = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = init?.body
    const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : undefined
    const agent = url && agents[url.protocol]
    if (!url || !agent || (body != null && typeof body !== 'string')) return bounded(input, init)
    const headers: Record<string, string> = {}
    new Headers(init?.headers).forEach((value, name) => { headers[name] = value })
    // Built-in fetch decompresses; this adapter does not, so it never asks for compression.
    delete headers['accept-encoding']
    return new Promise<Response>((resolve, reject) => {
      const transport = url.protocol === 'https:' ? https : http
      const req = transport.request(url, { method: init?.method ?? 'GET', headers, agent, signal: init?.signal ?? undefined }, (res) => {
        const responseHeaders = new Headers()
        for (let i = 0; i < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i], res.rawHeaders[i + 1])
        const status = res.statusCode ?? 502
        const empty = status === 204 || status === 304 || req.method === 'HEAD'
        const respond = (body: BodyInit | null): void => {
          try {
            resolve(new Response(body, { status, statusText: res.statusMessage, headers: responseHeaders }))
          } catch (err) {
            // A status a Response cannot carry (1xx): a broken upstream, reported as a connection failure.
            res.destroy()
            reject(err)
          }
        }
        if (empty) {
          res.resume()
          respond(null)
          return
        }
        guardAnswer(res, maxAnswerBytes)
        if (res.headers['content-type']?.startsWith('text/event-stream')) {
          // A stream is relayed chunk by chunk as it arrives.
          respond(Readable.toWeb(res) as ReadableStream<Uint8Array>)
        } else {
          // A whole JSON answer is read first: a buffer body is far cheaper than a web stream.
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => {
            const whole = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
            respond(new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength) as Uint8Array<ArrayBuffer>)
          })
          res.on('error', reject)
        }
      })
      req.on('error', reject)
      req.end(body ?? undefined)
    })
  }
  return {
    fetch: send as typeof fetch,
    close: () => { for (const agent of Object.values(agents)) agent.destroy() },
  }
}

/** OpenAI's paths, as OpenAI-compatible servers (vLLM, Ollama, LM Studio) and OpenRouter serve them too. */
export const OPENAI_PATHS: WirePaths = { chat: '/chat/completions', embeddings: '/embeddings', completions: '/completions' }

/**
 * Where the pooled client sends an upstream's calls, when not as OpenAI does: its own base URL and
 * each call's path from the endpoint's and the body's model (Azure's deployments and api-version).
 */
export interface WireAddressing {
  readonly baseURL?: string
  readonly path?: (path: string, model: string) => string
}

/** What an OpenAI-wire plugin builds its provider from: SDK options, the hot-path calls, and what releases both. */
export interface OpenAIWireSetup {
  /** For the plugin's SDK client (model lists, and anything else off the hot path). */
  readonly sdk: SdkClientOptions
  /** Chat and embeddings over the kit's pooled client, in the transport's shape. */
  readonly calls: Required<Pick<OpenAIWireTransport, 'chat' | 'embed'>>
  /** The same-wire passthrough over that client (passthrough.ts), for upstreams that need no conforming. */
  readonly passthrough: NonNullable<OpenAIWireTransport['passthrough']>
  /** Only its text completions: for upstreams whose chat and embeddings answers are conformed (translated), but whose /completions is relayed as it is. */
  readonly completionsOnly: NonNullable<OpenAIWireTransport['passthrough']>
  readonly close: () => void
}

/**
 * The SDK's options and the hot-path client for one provider instance, configured alike: the same
 * base URL, key, default headers (a null removes one, as with the SDKs) and timeout. Retries of a
 * reset keep-alive connection are counted in gateway_upstream_retries_total{provider,reason}.
 */
export function openAIWireSetup(
  ctx: Pick<PluginContext, 'name' | 'logger' | 'metrics'>,
  config: ConnectionConfig,
  defaults: { baseURL: string; headers?: Record<string, string | null>; paths?: WirePaths; wire?: WireAddressing },
): OpenAIWireSetup {
  const sdk = sdkClientOptions(config, defaults, ctx.logger)
  const client = providerWireClient(ctx, {
    baseURL: defaults.wire?.baseURL ?? sdk.options.baseURL,
    headers: { authorization: `Bearer ${sdk.options.apiKey}`, ...sdk.options.defaultHeaders },
    timeoutMs: config.timeout_ms,
    maxAnswerMb: config.max_answer_mb,
  })
  const paths = defaults.paths ?? OPENAI_PATHS
  const pathOf = defaults.wire?.path ?? ((path: string) => path)
  return {
    sdk: sdk.options,
    calls: {
      chat: (body, options) => streamOrWhole(client.post(pathOf(paths.chat, body.model), body, { ...options, stream: body.stream === true }) as Promise<ChatResponse | ChatStream>),
      embed: (body, options) => client.post(pathOf(paths.embeddings, body.model), body, options) as Promise<EmbeddingResponse>,
    },
    passthrough: (mapError) => openAIPassthrough(client, paths, mapError),
    completionsOnly: (mapError) => {
      const completions = openAIPassthrough(client, paths, mapError)[OPENAI_COMPLETIONS]
      return completions ? { [OPENAI_COMPLETIONS]: completions } : ({} as Record<string, never>)
    },
    close: () => {
      sdk.close()
      void client.close()
    },
  }
}

/** A chat answer; for a stream request, an upstream that ignored `stream: true` gives its whole answer (replayed as a stream by the provider). */
async function streamOrWhole(answer: Promise<ChatResponse | ChatStream>): Promise<ChatResponse | ChatStream> {
  try {
    return await answer
  } catch (err) {
    const whole = wholeCompletionIn(err)
    if (whole) return whole as unknown as ChatResponse
    throw err
  }
}

// ---------------------------------------------------------------------------------------------
// the contract between this module and a plugin

/** Per-request options every Stainless SDK method takes. */
export interface UpstreamRequestOptions {
  readonly signal: AbortSignal
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * Three calls around a plugin's SDK client. The plugin casts at this boundary: what comes back is
 * the SDK's parse of an OpenAI-shaped body (a stream is the SDK's async-iterable Stream).
 */
export interface OpenAIWireTransport {
  chat(body: ChatRequest, options: UpstreamRequestOptions): Promise<ChatResponse | ChatStream>
  embed?(body: EmbeddingRequest, options: UpstreamRequestOptions): Promise<EmbeddingResponse>
  /** The raw model entries of the upstream's model list. */
  models?(options: { signal?: AbortSignal }): Promise<readonly unknown[]>
  /**
   * `Provider.native` for OpenAI's own surfaces: requests and answers relayed as they are, for an
   * upstream whose answers need no conforming and whose parameters need no dropping (OpenAI itself).
   */
  passthrough?(mapError: PassthroughErrors): NonNullable<Provider['native']>
}

type ErrorClass = abstract new (...args: never[]) => Error
/** Error classes nothing is an instance of: an SDK not loaded yet has thrown nothing. */
class NeverThrown extends Error {}
const NO_SDK: SdkErrorClasses = { APIError: NeverThrown, APIConnectionError: NeverThrown, APIConnectionTimeoutError: NeverThrown, APIUserAbortError: NeverThrown }
/** The error classes an SDK exports (both SDKs export these four, from separate class hierarchies). */
export interface SdkErrorClasses {
  readonly APIError: ErrorClass
  readonly APIConnectionError: ErrorClass
  readonly APIConnectionTimeoutError: ErrorClass
  readonly APIUserAbortError: ErrorClass
}

/** A request parameter an upstream cannot honour when `unsupported(value)` says so. */
export interface ParamRule {
  readonly unsupported: (value: unknown) => boolean
  readonly message: string
  /**
   * The upstream rejects the field itself, even at a value that asks for nothing (Groq answers 400
   * to `logprobs: false`): such a value is omitted quietly, as it means the same as its absence.
   */
  readonly rejectsField?: boolean
}
export type ParamRules = Readonly<Record<string, ParamRule>>

export interface OpenAIWireOptions {
  /** The provider instance name, prefixed to error messages. */
  readonly provider: string
  /** The SDK's error classes; or a function giving them once the SDK is loaded (undefined before: it has thrown nothing). */
  readonly errors: SdkErrorClasses | (() => SdkErrorClasses | undefined)
  /** Values never to echo back in an error message (the API key). */
  readonly secrets?: readonly string[]
  /** Parameters this upstream cannot honour: reported through `call.unsupported`, then dropped. */
  readonly unsupported?: ParamRules
  /** The same for embedding requests. */
  readonly unsupportedInEmbeddings?: ParamRules
  /** The target model's output cap (output-cap.ts): an answer bound above it is lowered to it, before `prepare`. */
  readonly outputCap?: OutputCap
  /** Provider-specific reshaping of the request, after the unsupported parameters are gone. */
  readonly prepare?: (req: ChatRequest, call: ProviderCall) => ChatRequest
  /**
   * In place of the default (an Anthropic client's thinking as `reasoning_effort`, for the models that
   * take it): how this upstream asks for thinking (OpenRouter's `reasoning`, Groq's per-model efforts).
   */
  readonly thinking?: (req: ChatRequest, call: ProviderCall) => ChatRequest
  /**
   * Keep `reasoning_content` on the assistant messages a client sends back (Kimi K2 thinking and
   * DeepSeek-V3.2 want their own reasoning back in a tool loop); by default it is left out.
   */
  readonly replaysReasoning?: boolean
  /**
   * The upstream reads a chat file part's PDF (OpenAI; OpenRouter, which parses PDFs for any model).
   * Off (an OpenAI-compatible server by default: vLLM, Groq, DeepSeek answer 400 or ignore it), a PDF
   * whose text the gateway has (an attachment of a chat, file-text.ts) is sent as that text.
   */
  readonly readsPdf?: boolean
  /** Usage an upstream reports outside `chunk.usage` (Groq: `x_groq.usage`), to honour include_usage. */
  readonly usageOf?: (chunk: ChatChunk) => Usage | null | undefined
  /** `owned_by` for model entries that carry none. */
  readonly modelOwner: string
  /** Release what the SDK client holds (its connection pool); becomes the provider's dispose. */
  readonly dispose?: () => void
}

// ---------------------------------------------------------------------------------------------
// the provider

export function createOpenAIWireProvider(transport: OpenAIWireTransport, options: OpenAIWireOptions): Provider {
  /** A failure of the call itself: the request was being sent and no answer had been read yet. */
  const failure = (err: unknown, signal: AbortSignal | undefined): GatewayError => toGatewayError(err, signal, options, 'call')
  const provider: Provider = {
    dispose: options.dispose,
    ...(transport.passthrough ? { native: transport.passthrough((err, signal, stage) => toGatewayError(err, signal, options, stage)) } : {}),
    async chat(req, call) {
      // One property read for every other request: only a chat's request with PDFs has anything to swap.
      const body = prepareChat(!options.readsPdf && carriesFileTexts(req) ? await withFileTextsAsText(req) : req, call, options)
      let result: ChatResponse | ChatStream
      try {
        result = await transport.chat(body, requestOptions(call))
      } catch (err) {
        throw failure(err, call.signal)
      }
      const includeUsage = req.stream_options?.include_usage === true
      if (isChatStream(result)) return relayStream(result, includeUsage, call.signal, options)
      const completion = conformCompletion(result, options)
      // An upstream that ignored `stream: true` answered whole: a client that streams gets it as chunks.
      return req.stream ? relayStream(completionStream(completion), includeUsage, call.signal, options) : completion
    },
  }
  const { embed, models } = transport
  if (embed) {
    provider.embed = async (req, call) => {
      // Always name the encoding: left unset, the openai SDK would ask for base64 on its own and decode
      // it, which upstreams without base64 support (some compatible servers) reject.
      const checked = options.unsupportedInEmbeddings ? dropUnsupported(req, options.unsupportedInEmbeddings, call) : req
      const body = checked.encoding_format ? checked : { ...checked, encoding_format: 'float' as const }
      try {
        // Servers that ignore `encoding_format` answer floats to a base64 request (the SDK's default).
        return conformEmbeddingEncoding(await embed(body, requestOptions(call)), req.encoding_format)
      } catch (err) {
        throw failure(err, call.signal)
      }
    }
  }
  if (models) {
    provider.listModels = async (signal) => {
      try {
        return (await models({ signal })).map((entry) => toModelInfo(entry, options.modelOwner))
      } catch (err) {
        throw toGatewayError(err, signal, options)
      }
    }
  }
  return provider
}

function requestOptions(call: ProviderCall): UpstreamRequestOptions {
  return call.headers ? { signal: call.signal, headers: call.headers } : { signal: call.signal }
}

function prepareChat(req: ChatRequest, call: ProviderCall, options: OpenAIWireOptions): ChatRequest {
  // A thinking budget (from Anthropic's wire) first: a rule may then refuse the reasoning_effort it became (Groq's).
  const replayed = withoutReplayedThinking(req, options.replaysReasoning)
  const thought = options.thinking ? options.thinking(replayed, call) : thinkingAsReasoningEffort(replayed, call)
  const body = withinOutputCap(options.unsupported ? dropUnsupported(thought, options.unsupported, call) : thought, options.outputCap, call)
  return options.prepare ? options.prepare(body, call) : body
}

/** Report and drop each parameter the rules say the upstream cannot honour; copies only when one is dropped. */
export function dropUnsupported<T extends object>(req: T, rules: ParamRules, call: ProviderCall): T {
  let copy: Loose | undefined
  for (const param in rules) {
    const value = (req as Loose)[param]
    if (value === undefined) continue
    const rule = rules[param]
    const unsupported = value !== null && rule.unsupported(value)
    if (!unsupported && !rule.rejectsField) continue
    if (unsupported) call.unsupported(param, rule.message)
    copy ??= { ...(req as Loose) }
    delete copy[param]
  }
  return (copy ?? req) as T
}

// ---------------------------------------------------------------------------------------------
// responses and streams

const OPENAI_SERVICE_TIERS: ReadonlySet<unknown> = new Set(['auto', 'default', 'flex', 'scale', 'priority'])

/** A response or chunk as a compatible server may send it: fields OpenAI's schema types strictly can be null or odd. */
type Loose = Record<string, unknown>

/** Fields compatible servers send in a shape OpenAI's schema (and so OpenAI clients) do not accept. */
function conformEnvelope(body: Loose): void {
  if (body.system_fingerprint === null) delete body.system_fingerprint
  // Groq reports its own tiers (on_demand, performance): not OpenAI's, so not claimed as one.
  if (body.service_tier != null && !OPENAI_SERVICE_TIERS.has(body.service_tier)) delete body.service_tier
}

/**
 * A completion as OpenAI clients expect it. In place: the SDK parsed it for us, no copy needed.
 * OpenRouter reports some failures as HTTP 200 with an `error` body; those become errors here.
 */
export function conformCompletion(response: ChatResponse, options: OpenAIWireOptions): ChatResponse {
  const body = response as unknown as Loose
  if (!Array.isArray(body.choices)) {
    const error = body.error
    throw errorFromBody(error ?? body, undefined, 'upstream sent a completion without choices', options)
  }
  conformEnvelope(body)
  for (const choice of body.choices as Loose[]) {
    choice.logprobs ??= null
    const message = choice.message as Loose | undefined
    if (message) {
      message.content ??= null
      message.refusal ??= null
      if (message.reasoning !== undefined) asReasoningContent(message)
    }
  }
  return response
}

/**
 * Forward each chunk as it arrives. `stream_options.include_usage` is honoured both ways: a usage-only
 * chunk (empty `choices`) is forwarded only when the client asked for it (OpenRouter always sends one),
 * and made from usage reported elsewhere (a chunk's `usage`, Groq's `x_groq.usage`) when the
 * upstream sent none. Chunks without choices or usage (Azure's prompt-filter annotations) carry
 * nothing an OpenAI client reads, and their empty id/object break OpenAI's schema: they are skipped.
 */
async function* relayStream(stream: ChatStream, includeUsage: boolean, signal: AbortSignal, options: OpenAIWireOptions): AsyncGenerator<ChatChunk> {
  let usage: Usage | null | undefined
  let usageSent = false
  let last: ChatChunk | undefined
  try {
    for await (const chunk of stream) {
      if (!Array.isArray(chunk.choices) || chunk.choices.length === 0) {
        if (chunk.usage && includeUsage) {
          conformEnvelope(chunk as unknown as Loose)
          usageSent = true
          yield chunk
        }
        continue
      }
      conformChunk(chunk)
      usage = chunk.usage ?? options.usageOf?.(chunk) ?? usage
      last = chunk
      yield chunk
    }
  } catch (err) {
    throw toGatewayError(err, signal, options)
  }
  // Both SDKs end a stream quietly when its signal aborts; a cut-short stream must not look complete.
  if (signal.aborted) throw abortedError(signal, options.provider, signal.reason)
  if (includeUsage && !usageSent && usage && last) {
    yield { id: last.id, object: 'chat.completion.chunk', created: last.created, model: last.model, choices: [], usage }
  }
}

function conformChunk(chunk: ChatChunk): void {
  conformEnvelope(chunk as unknown as Loose)
  for (const choice of chunk.choices as unknown as Loose[]) {
    const delta = (choice.delta ??= {}) as Loose
    choice.finish_reason ??= null
    if (delta.reasoning !== undefined) asReasoningContent(delta)
  }
}

/**
 * The model's thinking where every OpenAI-wire client of the gateway reads it, `reasoning_content`
 * (LiteLLM's field, DeepSeek's): OpenRouter, Groq (`reasoning_format: parsed`, gpt-oss) and vLLM
 * 0.10+ send it as `reasoning`. Moved, not copied (the text once); OpenRouter's `reasoning_details`
 * stay, for the client to send back. A null `reasoning` (OpenRouter's, on a model that did not think) goes.
 * Set undefined rather than deleted (JSON leaves it out either way): a delete would turn every
 * OpenRouter answer, which always carries the field, into a slower dictionary-mode object.
 */
function asReasoningContent(message: Loose): void {
  const text = message.reasoning
  message.reasoning = undefined
  if (typeof text === 'string' && message.reasoning_content == null) message.reasoning_content = text
}

/** A model entry in OpenAI's shape, from OpenAI's, Azure's (`created_at`) or OpenRouter's (no `owned_by`). */
export function toModelInfo(entry: unknown, fallbackOwner: string): ModelInfo {
  const e = (entry ?? {}) as Loose
  const id = String(e.id)
  const created = typeof e.created === 'number' ? e.created : typeof e.created_at === 'number' ? e.created_at : 0
  const owner = typeof e.owned_by === 'string' && e.owned_by ? e.owned_by : id.includes('/') ? id.slice(0, id.indexOf('/')) : fallbackOwner
  return { id, object: 'model', created, owned_by: owner }
}

// ---------------------------------------------------------------------------------------------
// errors

interface SdkApiError extends Error {
  readonly status?: number
  readonly headers?: Headers
  /** openai: the body's `error` object; groq-sdk: the whole body; in-stream errors: the event's `error`. */
  readonly error?: unknown
}

/**
 * Anything an SDK call threw, as a GatewayError in the gateway's terms. `stage` says where: `call`
 * while the request was being sent (before an answer was read), `answer` while reading one.
 */
export function toGatewayError(err: unknown, signal: AbortSignal | undefined, options: OpenAIWireOptions, stage: 'call' | 'answer' = 'answer'): GatewayError {
  if (err instanceof GatewayError) return err
  const { provider } = options
  // An SDK's export (a class, so a function too) carries the classes; a plain function gives them once loaded.
  const errors = ('APIError' in options.errors ? options.errors : options.errors()) ?? NO_SDK
  if (err instanceof errors.APIUserAbortError || (signal?.aborted && isAbort(err))) return abortedError(signal, provider, err)
  // Before the SDK's connection error, which may wrap it (its fetch's bound, answer-limit.ts).
  if (tooLargeIn(err)) return transportError(err, provider)!
  if (err instanceof errors.APIConnectionTimeoutError || err instanceof UpstreamTimeoutError) {
    return upstreamError(undefined, 'no response within timeout_ms', { kind: 'timeout', provider, cause: err })
  }
  if (err instanceof errors.APIConnectionError || err instanceof UpstreamConnectionError) {
    const message = err instanceof UpstreamConnectionError ? err.message : connectionMessage(err)
    return upstreamError(undefined, redact(message, options), { kind: 'connection', provider, cause: err })
  }
  if (err instanceof UpstreamStatusError) {
    return errorFromBody(err.body, { status: err.status, retryAfter: err.retryAfter, cause: err }, err.message, options)
  }
  if (err instanceof errors.APIError) {
    const e = err as SdkApiError
    return errorFromBody(e.error, { status: e.status, retryAfter: e.headers?.get?.('retry-after') ?? null, cause: e }, e.message, options)
  }
  if (signal?.aborted) return abortedError(signal, provider, err)
  // The SDK wraps every failure of the HTTP exchange in its own classes (above), and an answer that
  // is not JSON is a SyntaxError. Anything else thrown during the call came from building the
  // request (serialising it, the SDK refusing it): nothing reached the upstream.
  if (stage === 'call' && !(err instanceof SyntaxError)) return requestNotSent(provider, err)
  // A body cut off mid-read (socket reset), or a frame that is not JSON: the upstream failed us.
  return upstreamError(undefined, redact((err as Error)?.message ?? String(err), options), { kind: 'connection', provider, cause: err })
}

/**
 * An upstream error body, as a GatewayError with the upstream's status and message. Errors sent
 * inside a stream (or OpenRouter's 200-with-error) carry no HTTP status: OpenRouter puts it in
 * `error.code`; otherwise the upstream failed mid-answer, which is a bad gateway (502).
 */
function errorFromBody(body: unknown, answer: { status?: number; retryAfter: string | null; cause: unknown } | undefined, fallback: string, options: OpenAIWireOptions): GatewayError {
  // The openai SDK keeps the body's `error` object; groq-sdk keeps the whole `{ error: {...} }` body.
  const detail = isRecord(body) && isRecord(body.error) ? body.error : body
  const fields = isRecord(detail) ? detail : {}
  const message = typeof fields.message === 'string' && fields.message ? fields.message
    : typeof detail === 'string' && detail ? detail
    : fallback.replace(/^\d{3} /, '')
  const code = typeof fields.code === 'number' ? fields.code : Number(fields.code)
  const status = answer?.status ?? (code >= 400 && code <= 599 ? code : 502)
  const error = upstreamError(status, redact(truncate(message), options), {
    provider: options.provider,
    retryAfter: answer?.retryAfter ?? null,
    param: typeof fields.param === 'string' ? fields.param : null,
    cause: answer?.cause,
  })
  return withUpstreamCode(error, fields.code)
}

/** A code OpenAI's clients switch on (`context_length_exceeded`, `insufficient_quota`): a word, not OpenRouter's numeric status. */
const CLIENT_CODE = /^[a-z][a-z0-9_.-]{0,63}$/i

/**
 * A client error keeps the upstream's own code: OpenAI's API and clients tell failures of one status
 * apart by it (a 400 `context_length_exceeded` is handled unlike a 400 `invalid_value`, a 429
 * `insufficient_quota` unlike a 429 `rate_limit_exceeded`), and the gateway's `upstream_bad_request`
 * says only what the status says. Not for the gateway's own credentials (401/403, its 502
 * `upstream_auth_failed`: the upstream's `invalid_api_key` would blame the client's key) nor 5xx.
 */
function withUpstreamCode(error: GatewayError, upstreamCode: unknown): GatewayError {
  if (typeof upstreamCode !== 'string' || !CLIENT_CODE.test(upstreamCode)) return error
  if (error.status < 400 || error.status > 499 || error.upstreamStatus === undefined) return error
  return new GatewayError(error.message, {
    status: error.status, code: upstreamCode, type: error.type, param: error.param, headers: error.headers,
    retryable: error.retryable, upstreamStatus: error.upstreamStatus, cause: error.cause,
  })
}

function abortedError(signal: AbortSignal | undefined, provider: string, cause: unknown): GatewayError {
  const reason: unknown = signal?.reason
  // The kernel may abort an attempt with the error it wants reported.
  if (reason instanceof GatewayError) return reason
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return upstreamError(undefined, 'the route\'s timeout_ms elapsed', { kind: 'timeout', provider, cause })
  }
  return clientClosed(cause)
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')
}

/** "Connection error." plus what the socket said (ECONNREFUSED, ENOTFOUND), which is what an operator needs. */
function connectionMessage(err: Error): string {
  let cause: unknown = err.cause
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    const code = (cause as Error & { code?: unknown }).code
    if (typeof code === 'string') return `${err.message} (${code})`
    cause = cause.cause
  }
  return err.message
}

/** Upstream messages are kept, but an upstream that echoes our key back (whole or masked) must not leak it to clients. */
function redact(message: string, options: OpenAIWireOptions): string {
  return redactSecrets(message, options.secrets ?? [])
}

const MAX_MESSAGE = 1000
/** An HTML error page from a proxy in front of the upstream is not a message: keep its start only. */
function truncate(message: string): string {
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message
}

function isRecord(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
