/**
 * The batch worker. A batch moves in steps, each one queued message `{ batchId }`: a step checks the
 * input file (validating → in_progress, or failed with every fault), then runs lines through the
 * gateway's pipeline as the batch's creator (routing, limits, budgets, cache, usage: each line is an
 * ordinary, accounted request), a few at a time, for at most `step_ms`, keeping each answer; then it
 * queues the next step. A rate limit (429) pauses the batch until it lifts instead of failing lines.
 * When no line is left, or the batch is cancelled or its window ends, the answers are written to its
 * output and error files (OpenAI's JSONL) and the batch ends. One step at a time holds a batch (a
 * lease on its row, renewed while it runs); a step lost with a process is found by the sweep.
 */
import { randomBytes } from 'node:crypto'
import { GatewayError, retryAfterMs, toGatewayError, type Call, type ChatRequest, type ChatResponse, type EmbeddingResponse, type GatewayCalls, type Logger, type Principal } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import type { Files } from '../../contracts/files.ts'
import { embeddingRequest } from '../../contracts/openai-requests.ts'
import { withdrawal } from '../../contracts/principals.ts'
import type { Queue } from '../../contracts/queue.ts'
import { anthropicErrorBody } from '../../contracts/anthropic.ts'
import type { MessagesCodec } from '../../contracts/message-batches.ts'
import type { StoredCompletions } from '../../contracts/stored-completions.ts'
import { commonModel, MESSAGES_MAX_LINES, parseBatchInput, routedChatRequest, type BatchEndpoint, type BatchLine } from './input.ts'
import { MESSAGES_ENDPOINT, type BatchRecord, type BatchRepository, type BatchStatus } from './repository.ts'

export const TOPIC = 'batches.steps'
export interface StepMessage { readonly batchId: string }

export interface WorkerSettings {
  /** Lines of one batch in flight at once. */
  readonly concurrency: number
  /** How long a step takes new lines before it hands over to the next step. */
  readonly step_ms: number
  readonly lease_ms: number
  /** How long a batch waits after a 429 that names no retry-after. */
  readonly rate_limit_pause_ms: number
}

export interface WorkerDeps {
  /** Aborted when the gateway stops: steps stop taking lines, keep what they have, and leave the rest to the next process. */
  readonly stopping: AbortSignal
  readonly batches: BatchRepository
  readonly files: Files
  readonly queue: Queue
  readonly callsAs: (principal: Principal) => GatewayCalls
  /** The batch's creator as it stands now (contracts/principals.ts): undefined once its key is revoked or expired, or its user deleted. */
  readonly currentPrincipal: (principal: Principal) => Promise<Principal | undefined>
  readonly settings: WorkerSettings
  readonly logger: Logger
  /** How a message batch's line (a /v1/messages body) is read and answered: surface.anthropic's; without it such lines fail. */
  readonly messages?: MessagesCodec
  /** Where a chat line with `store: true` is kept, as a direct request's is (service.stored-completions); without it `store` goes on to the provider, as a direct request's does. */
  readonly stored?: StoredCompletions
}

/** Retries of a line that failed in a way worth trying again (5xx, a timeout), within its step. */
const LINE_RETRIES = 2
/** Steps of one batch that may crash in a row before it ends failed (a poison batch is not queued again for ever). */
export const MAX_FAILED_STEPS = 5
/** Lines a step reads per lane (it stops at `step_ms` even with some left). */
const LINES_PER_LANE = 50
/** How often a step looks whether its batch was cancelled. */
const CANCEL_CHECK_MS = 500

const hex = (): string => randomBytes(12).toString('hex')

/**
 * The waits a step is queued after, rounded up to one of a few: a queue may keep a delay queue per
 * distinct wait (RabbitMQ does), and a retry-after can be any number of milliseconds.
 */
const DELAYS_MS = [0, 250, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000]
export const stepDelay = (ms: number): number => DELAYS_MS.find((d) => d >= ms) ?? DELAYS_MS.at(-1)!

export const queueStep = (queue: Queue, batchId: string, delayMs = 0): Promise<void> => queue.publish<StepMessage>(TOPIC, { batchId }, { delayMs: stepDelay(delayMs) })

export function batchWorker(deps: WorkerDeps) {
  const { batches, files, settings, logger } = deps

  /** One step of `batchId`, if no other step holds it; queues the next when there is one. */
  async function step(batchId: string): Promise<void> {
    if (deps.stopping.aborted) return
    const batch = await batches.claim(batchId, settings.lease_ms)
    if (!batch) return
    const renew = setInterval(() => void batches.renew(batchId, settings.lease_ms).catch(() => undefined), Math.max(1000, settings.lease_ms / 3))
    renew.unref()
    let next: number | undefined
    let crash: string | undefined
    try {
      next = await advance(batch)
    } catch (err) {
      crash = (err as Error).message
      next = settings.rate_limit_pause_ms
    } finally {
      clearInterval(renew)
    }
    const crashes = await batches.release(batchId, crash !== undefined)
    if (crash !== undefined && crashes >= MAX_FAILED_STEPS) {
      // A poison batch: the same crash step after step. It ends, saying why, instead of being queued again for ever.
      logger.error({ batch: batchId, err: crash, crashes }, 'batch step failed too often in a row; the batch is failed')
      const message = `The batch's step failed ${crashes} times in a row; the last time: ${crash}`.replaceAll('\u0000', '\\u0000')
      await fail(batchId, message)
      return
    }
    if (crash !== undefined) logger.error({ batch: batchId, err: crash, crashes }, 'batch step failed; it is tried again')
    // A stopping gateway queues nothing: the next process's sweep takes the batch up at once.
    if (next !== undefined && !deps.stopping.aborted) await queueStep(deps.queue, batchId, next)
  }

  /**
   * End a poison batch `failed`: what its lines answered is written as for any end, and each line left unrun is in the
   * error file with the reason (Anthropic's `errored` result), so every request has its answer. When writing fails too
   * (the crash may be the store's), it ends failed without files, its lines dropped.
   */
  async function fail(batchId: string, message: string): Promise<void> {
    const errors = [{ code: 'batch_step_failed', message, param: null, line: null }]
    try {
      const batch = await batches.update(batchId, { errors })
      if (batch) return void await finish(batch, 'failed')
    } catch (err) {
      logger.error({ batch: batchId, err: (err as Error).message }, 'a failed batch\'s files could not be written')
    }
    await batches.update(batchId, { status: 'failed', failedAt: new Date(), errors })
    await batches.dropLines(batchId).catch(() => undefined)
  }

  /** What this step does for the batch as it stands; the delay of the next step, or undefined when it has ended. */
  async function advance(batch: BatchRecord): Promise<number | undefined> {
    switch (batch.status) {
      case 'validating': {
        const input = await readInput(batch)
        if (input.errors.length) {
          await batches.update(batch.id, { status: 'failed', errors: input.errors, failedAt: new Date() })
          return undefined
        }
        // The file is read once: steps read their lines from the store, a step's worth at a time.
        await batches.saveLines(batch.id, input.lines)
        await batches.update(batch.id, { status: 'in_progress', inProgressAt: new Date(), model: commonModel(input.lines), requestCounts: { total: input.lines.length, completed: 0, failed: 0 } })
        return 0
      }
      case 'cancelling': return finish(batch, 'cancelled')
      case 'finalizing': return finish(batch, batch.expiresAt.getTime() <= Date.now() ? 'expired' : 'completed')
      case 'in_progress': {
        if (batch.expiresAt.getTime() <= Date.now()) return finish(batch, 'expired')
        const todo = await batches.pendingLines(batch.id, settings.concurrency * LINES_PER_LANE)
        if (todo.length === 0) return finish(batch, 'completed')
        // Each step runs as its creator is now: a revoked or expired key, or a deleted user, stops
        // its batches (the answers so far kept), and a new role or department applies to the next lines.
        const principal = await deps.currentPrincipal(batch.principal)
        if (!principal) {
          const { code, reason } = withdrawal(batch.principal)
          await batches.update(batch.id, { errors: [{ code, message: `This batch was cancelled: ${reason}; the lines not yet run were not run.`, param: null, line: null }] })
          return finish(batch, 'cancelled')
        }
        const pause = await runLines(batch, todo, principal)
        const counts = await batches.counts(batch.id)
        await batches.update(batch.id, { requestCounts: { total: batch.requestCounts.total, ...counts } })
        return pause ?? 0
      }
      default: return undefined
    }
  }

  async function readInput(batch: BatchRecord): Promise<ReturnType<typeof parseBatchInput>> {
    const content = await files.content(batch.inputFileId)
    if (!content) return { lines: [], errors: [{ code: 'file_not_found', message: `The input file ${batch.inputFileId} no longer exists.`, param: 'input_file_id', line: null }] }
    return parseBatchInput(content.toString('utf8'), batch.endpoint as BatchEndpoint)
  }

  /**
   * Run `todo` a few at a time until they are done, the step's time is up, the batch is cancelled
   * or its window ends (lines in flight are stopped and run again by no one), the gateway stops (they run again in
   * the next process), or a 429 pauses it: then the pause.
   */
  async function runLines(batch: BatchRecord, todo: readonly BatchLine[], principal: Principal): Promise<number | undefined> {
    const calls = deps.callsAs(principal)
    const stopAt = Date.now() + settings.step_ms
    const controller = new AbortController()
    const signal = AbortSignal.any([controller.signal, deps.stopping])
    let pause: number | undefined
    const watch = setInterval(() => {
      void batches.get(batch.id).then((b) => { if (!b || b.status === 'cancelling' || b.expiresAt.getTime() <= Date.now()) controller.abort() }, () => undefined)
    }, CANCEL_CHECK_MS)
    watch.unref()
    let next = 0
    const lane = async (): Promise<void> => {
      while (next < todo.length && !signal.aborted && pause === undefined && Date.now() < stopAt) {
        const line = todo[next++]!
        const wait = await runLine(batch, line, calls, signal)
        if (wait !== undefined) pause = Math.max(pause ?? 0, wait)
      }
    }
    try {
      await Promise.all(Array.from({ length: Math.min(settings.concurrency, todo.length) }, lane))
    } finally {
      clearInterval(watch)
    }
    return pause
  }

  /**
   * One line, kept as its output (2xx) or error (any other answer); a 429 is not kept: the wait before trying it again.
   * Either way its `response` has the status, the request id of the call that answered (the one its usage event and
   * logs name) and the headers a direct request would have had of the gateway.
   */
  async function runLine(batch: BatchRecord, line: BatchLine, calls: GatewayCalls, signal: AbortSignal): Promise<number | undefined> {
    for (let attempt = 0; ; attempt++) {
      const requestId = `req_${hex()}`
      try {
        // The line passes what the same body sent to the endpoint passes: refused, it is its line's 400 and is never sent.
        // Routed as the request would be sent directly: by its body's metadata and the creating request's headers.
        const options = { signal, headers: batch.headers, requestId, batch: true, wireHeaders: betasOf(batch) }
        const dropped: string[] = []
        const chat = batch.endpoint === MESSAGES_ENDPOINT ? messageRequest(line.body, dropped)
          : batch.endpoint === '/v1/chat/completions' ? routedChatRequest(line.body, calls, batch.headers, (text) => dropped.push(text)) : undefined
        // `store: true` with the gateway keeping completions: kept by it, as a direct request's is; `store` and `metadata`
        // are then not sent on (routes still read the metadata), the provider keeping no second copy.
        const keeping = chat && batch.endpoint !== MESSAGES_ENDPOINT && deps.stored && chat.store === true ? deps.stored : undefined
        const call = !chat
          ? await calls.embed(embeddingRequest(line.body), options)
          : await calls.chat(keeping ? withoutStore(chat) : chat, keeping ? { ...options, metadata: chat.metadata } : options)
        const outcome = await call.done
        if (keeping && chat) {
          keeping.keep({ owner: { userId: batch.userId, department: batch.department }, requestedModel: chat.model, messages: chat.messages, metadata: (chat.metadata as Record<string, string> | null | undefined) ?? {}, completion: call.result as ChatResponse })
        }
        const body = batch.endpoint === MESSAGES_ENDPOINT ? deps.messages!.encode(call.result as ChatResponse, line.body) : call.result as ChatResponse | EmbeddingResponse
        const usage = { input_tokens: outcome.promptTokens, output_tokens: outcome.completionTokens, cached_tokens: outcome.cachedTokens, reasoning_tokens: outcome.reasoningTokens ?? 0 }
        const response = { status_code: 200, request_id: requestId, headers: gatewayHeaders(call, [...dropped, ...call.warnings]), body: body as unknown as JsonObject }
        await batches.saveResult(batch.id, line.line, true, outputLine(line, response), usage)
        return undefined
      } catch (err) {
        if (signal.aborted) return undefined
        const error = toGatewayError(err)
        if (error.status === 429) return retryAfterMs(error) ?? settings.rate_limit_pause_ms
        if (error.retryable && attempt < LINE_RETRIES) {
          await new Promise((r) => setTimeout(r, 500 * 2 ** attempt))
          continue
        }
        // The error's own headers (retry-after, a limit's x-ratelimit-*), as a direct request's error answer has them.
        const body = batch.endpoint === MESSAGES_ENDPOINT ? anthropicErrorBody(error, requestId) as unknown as JsonObject : { error: errorBody(error) }
        await batches.saveResult(batch.id, line.line, false, outputLine(line, { status_code: error.status, request_id: requestId, headers: { ...error.headers }, body }), null)
        return undefined
      }
    }
  }

  /** A message batch's line as the unified request, as /v1/messages reads the same body (its dropped fields told to `dropped`). */
  function messageRequest(body: JsonObject, dropped: string[]): ChatRequest {
    if (!deps.messages) throw new GatewayError('This gateway no longer serves /v1/messages (surface.anthropic), which this batch\'s requests are.', { status: 404, code: 'unknown_url' })
    const { request, warnings, untranslatable } = deps.messages.decode(body)
    // Content only Anthropic's API takes: a direct request would go to an Anthropic target as it came; a batch's line is translated, so it is refused.
    if (untranslatable) throw untranslatable
    dropped.push(...warnings)
    return request
  }

  /** Write what the lines answered to the output and error files, and end the batch as `status`. */
  async function finish(batch: BatchRecord, status: Extract<BatchStatus, 'completed' | 'cancelled' | 'expired' | 'failed'>): Promise<undefined> {
    if (batch.status !== 'finalizing' && batch.status !== 'cancelling') await batches.update(batch.id, { status: 'finalizing', finalizingAt: new Date() })
    const rows = await batches.results(batch.id)
    const outputs = rows.filter((r) => r.ok).map((r) => r.result)
    const errors = rows.filter((r) => !r.ok).map((r) => r.result)
    const answered = errors.length
    // What the window left undone is in the error file, as OpenAI writes it; a message batch's lines its cancel left unrun too (Anthropic's `canceled` results).
    // A failed batch's too, each with why (the batch's error): counted `failed` (Anthropic's `errored`).
    const unrun = status === 'expired' ? UNRUN.expired : status === 'cancelled' && batch.endpoint === MESSAGES_ENDPOINT ? UNRUN.canceled
      : status === 'failed' ? { code: 'batch_step_failed', message: `This request was not executed: its batch failed. ${batch.errors?.[0]?.message ?? ''}`.trim() } : undefined
    if (unrun) {
      for (const line of await batches.pendingLines(batch.id, MESSAGES_MAX_LINES)) {
        errors.push({ id: `batch_req_${hex()}`, custom_id: line.customId, response: null, error: unrun })
      }
    }
    const left = errors.length - answered
    const expiresAt = batch.outputExpiresAfter ? new Date(batch.createdAt.getTime() + batch.outputExpiresAfter.seconds * 1000) : undefined
    const write = async (kind: 'output' | 'error', lines: readonly JsonObject[]): Promise<string | null> => {
      if (lines.length === 0) return null
      const stored = await files.put({
        filename: `${batch.id}_${kind}.jsonl`, purpose: 'batch_output', contentType: 'application/jsonl', data: Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n') + '\n'),
        owner: { userId: batch.userId, department: batch.department }, ...(expiresAt ? { expiresAt } : {}),
      })
      return stored.id
    }
    const usage = totalUsage(rows.map((r) => r.usage))
    const stamp = new Date()
    await batches.update(batch.id, {
      status,
      outputFileId: batch.outputFileId ?? await write('output', outputs),
      errorFileId: batch.errorFileId ?? await write('error', errors),
      requestCounts: {
        total: batch.requestCounts.total, completed: outputs.length, failed: errors.length,
        ...(batch.endpoint === MESSAGES_ENDPOINT && (unrun === UNRUN.expired || unrun === UNRUN.canceled) ? { [unrun === UNRUN.expired ? 'expired' : 'canceled']: left } : {}),
      },
      usage,
      ...(status === 'completed' ? { completedAt: stamp } : status === 'cancelled' ? { cancelledAt: stamp } : status === 'failed' ? { failedAt: stamp } : { expiredAt: stamp }),
    })
    await batches.dropLines(batch.id)
    return undefined
  }

  return { step }
}

/** The error-file entry of a line its batch's end left unrun. */
const UNRUN = {
  expired: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' },
  canceled: { code: 'batch_cancelled', message: 'This request was not executed: its batch was cancelled first.' },
} as const

/**
 * A message batch's beta flags (the creating request's `anthropic-beta`, kept with its headers): Anthropic applies them to
 * each request of the batch, so each line passes them to an Anthropic target as a direct /v1/messages request does.
 */
function betasOf(batch: BatchRecord): Readonly<Record<string, string>> | undefined {
  const betas = batch.endpoint === MESSAGES_ENDPOINT ? batch.headers['anthropic-beta'] : undefined
  const text = Array.isArray(betas) ? betas.join(',') : betas
  return text ? { 'anthropic-beta': text } : undefined
}

/** A chat line's request as sent when the gateway keeps its completion: without `store` and `metadata`, as a direct request's. */
function withoutStore(request: ChatRequest): ChatRequest {
  const { store: _store, metadata: _metadata, ...sent } = request
  return sent as ChatRequest
}

/** What a direct request's `x-gateway-*` headers say (route, provider, model, warnings), for its line's `response.headers`. */
function gatewayHeaders(call: Call<unknown>, warnings: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = { 'x-gateway-route': call.route }
  if (call.provider) headers['x-gateway-provider'] = call.provider
  if (call.model) headers['x-gateway-model'] = call.model
  if (warnings.length) headers['x-gateway-warning'] = warnings.join('; ')
  return headers
}

function outputLine(line: BatchLine, response: { status_code: number; request_id: string; headers?: Record<string, string>; body: JsonObject }): JsonObject {
  return { id: `batch_req_${hex()}`, custom_id: line.customId, response, error: null }
}

function errorBody(error: GatewayError): JsonObject {
  return { message: error.message, type: error.type, param: error.param ?? null, code: error.code ?? null }
}

function totalUsage(usages: readonly (JsonObject | null)[]): JsonObject {
  let input = 0
  let output = 0
  let cached = 0
  let reasoning = 0
  for (const u of usages) {
    if (!u) continue
    input += Number(u.input_tokens ?? 0)
    output += Number(u.output_tokens ?? 0)
    cached += Number(u.cached_tokens ?? 0)
    reasoning += Number(u.reasoning_tokens ?? 0)
  }
  return { input_tokens: input, input_tokens_details: { cached_tokens: cached }, output_tokens: output, output_tokens_details: { reasoning_tokens: reasoning }, total_tokens: input + output }
}
