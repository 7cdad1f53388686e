/**
 * One turn of a conversation: read the history (newest first, bounded, never the whole thread),
 * fit it to the window, call the model through the caller's pipeline (routing, limits with the
 * thread as the `thread` scope, cache, usage), and keep the input and the answer, with tokens and
 * cost. A streamed answer is kept when it ends, or as far as it got, marked incomplete, when the
 * client or the provider breaks off. A turn refused before the model answers keeps nothing.
 */
import {
  GatewayError, badRequest, isChatStream, toGatewayError, withDeadline,
  type ChatChunk, type ChatMessage, type ChatRequest, type ChatResponse, type ChatTool, type ExchangeOutcome, type GatewayCalls, type Logger, type Principal, type RoutingFacts,
} from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import { withdrawal } from '../../contracts/principals.ts'
import { itemView, type ItemContent, type ItemRecord, type ItemStatus, type Grounding, type ServerTool, type Turn, type TokenLogprob, type TurnEvent, type TurnInput } from '../../contracts/conversations.ts'
import type { Files } from '../../contracts/files.ts'
import { EventLog, type BackgroundRuns } from './background.ts'
import type { ThreadClaim } from './data/claims.ts'
import { documentTokens, readFileParts, requireDocumentFits } from './file-parts.ts'
import type { DocumentTexts } from './document-texts.ts'
import { markFileTexts } from '../../contracts/file-text.ts'
import { readAhead } from './read-ahead.ts'
import { contextWindowTokens, fittedHistory, requireKnownCalls, type Window } from './context.ts'
import { fileCitations, gatherContext, withCitations } from './grounding.ts'
import { newId } from '../kit/ids.ts'
import { itemIdOf, itemText, type CountTokens } from './data/items.ts'
import type { ResponseStore } from './data/responses.ts'
import type { ThreadSummaries } from './data/summaries.ts'
import { summarizedHistory, summaryMessage } from './summary.ts'
import { answerItems, chatMessages, reasoningItem, tokenLogprobs } from './translate.ts'
import { isClaudeBlock, reasoningOf, type Reasoning, type ThinkingBlock } from '../../contracts/thinking.ts'

export interface TurnSettings {
  /** The window of a model the catalog gives none. */
  readonly contextWindowTokens: number
  readonly maxHistoryItems: number
  /** Tokens kept for the answer when the request sets no max_output_tokens. */
  readonly answerReserve: number
  /** A cheap route that names a thread after its first exchange; undefined: off. */
  readonly titleRoute?: string
  /** The model of a turn that names none and has no assistant. */
  readonly defaultRoute?: string
  /** The route that summarises dropped turns (`summarize` policy); undefined: the turn's own. */
  readonly summaryRoute?: string
  readonly summaryMaxTokens: number
  /** How long a background response may run. */
  readonly backgroundTimeoutMs: number
}

export interface TurnDeps {
  readonly store: ResponseStore
  readonly count: CountTokens
  readonly tools: ReadonlyMap<string, ServerTool>
  /** Passages for assistants with attached collections (the RAG service registers it). */
  readonly grounding: () => Grounding | undefined
  readonly settings: TurnSettings
  /** Name a thread that has no title yet (auto title). */
  readonly setTitle: (threadId: string, title: string) => Promise<void>
  /** An upstream model's context window, from the model catalog. */
  readonly catalogWindow: (model: string) => number | undefined
  readonly summaries: ThreadSummaries
  readonly logger: Logger
  /** The background responses this process runs. */
  readonly background: BackgroundRuns
  /** The pipeline as `principal`, outside any request (a background response's calls). */
  readonly detachedCalls: (principal: Principal) => GatewayCalls
  /** A background response's caller as they stand now (contracts/principals.ts): undefined once their key is revoked or expired, or their user deleted. */
  readonly currentPrincipal: (principal: Principal) => Promise<Principal | undefined>
  /** Uploaded files that messages name (images, documents), when the files service runs. */
  readonly files: Files | undefined
  /** The text of the documents messages carry, read by the registered DocumentReader and kept. */
  readonly documentTexts: DocumentTexts | undefined
  /** A streamed background response's events, from the first, live to its end. */
  readonly follow: (id: string) => AsyncIterable<TurnEvent>
  /** Claim a thread for a turn (data/claims.ts): undefined while another turn holds it. */
  readonly claim: (threadId: string, holder: string, signal: AbortSignal) => Promise<ThreadClaim | undefined>
  /** Whether a background response still runs in a thread (its exchange is kept when it ends). */
  readonly backgroundIn: (threadId: string) => Promise<boolean>
}

/** How long a streamed background response's events are kept to be followed again. */
const EVENTS_KEPT_HOURS = 24

/** How long a finished answer's accounting is waited for before it is kept without its cost. */
const ACCOUNTING_WAIT_MS = 5000

/** How long response.created waits for the upstream's first chunk to name its model (read-ahead.ts). */
const FIRST_CHUNK_WAIT_MS = 1000

/** A turn as far as it goes before the model is called: its id, model and history. */
interface Started {
  readonly id: string
  readonly createdAt: number
  readonly threadId: string | null
  readonly model: string
  readonly newestFirst: readonly ItemRecord[]
  /** The thread's claim, freed once the turn is kept (before its answer goes out: the client's next turn finds the thread free). */
  readonly claim?: ThreadClaim
}

interface OutputItem {
  readonly id: string
  content: ItemContent
  /** Set when the item was done before the answer ended (the next item had begun): it keeps this status whatever the answer's end. */
  status?: ItemStatus
}

export function turnRunner(deps: TurnDeps): (input: TurnInput, gateway: GatewayCalls) => Promise<Turn> {
  const { store, count, settings } = deps

  return async function turn(input, gateway) {
    const id = newId('resp')
    const createdAt = Math.floor(Date.now() / 1000)
    const threadId = input.threadId ?? null
    const model = input.model ?? input.assistant?.route ?? settings.defaultRoute
    if (!model) throw badRequest('`model` is required.', 'model', 'missing_model')
    requireChosenTool(input.toolChoice, [...(input.assistant?.tools ?? []), ...(input.tools ?? [])])

    // A thread answers one turn at a time: one begun meanwhile would answer without this one's
    // exchange, and their items would interleave. A background turn holds the claim until its row
    // is queued (the running row holds the thread from then on); another, until it is kept.
    const claim = threadId ? await lockThread(deps, threadId, id, input.signal) : undefined
    try {
      const newestFirst = input.threadId ? await store.threadHistory(input.threadId, settings.maxHistoryItems)
        : input.previousResponseId ? await store.chainHistory(input.previousResponseId, settings.maxHistoryItems) : []
      requireKnownCalls([...newestFirst].reverse().map((i) => i.content), input.input)
      const turn: Started = { id, createdAt, threadId, model, newestFirst, claim }
      if (input.background) {
        const queued = await background(input, turn, gateway)
        await claim?.release()
        return queued
      }
      const ran = await run(input, gateway, turn)
      // Freed when the turn is kept; a keep that failed frees it here.
      if (claim) void ran.response().catch(() => claim.release()).catch((err: unknown) => deps.logger.warn({ err: (err as Error)?.message }, 'conversation: claim not released (it expires)'))
      return ran
    } catch (err) {
      await claim?.release().catch(() => undefined)
      throw err
    }
  }

  /**
   * A background turn: stored as queued, answered here, run detached as the caller (outside the
   * request, so its end does not stop it), the row kept up to date until the run ends.
   */
  async function background(input: TurnInput, turn: Started, gateway: GatewayCalls): Promise<Turn> {
    if (!input.store) throw badRequest('A background response is kept to be polled: `store` cannot be false.', 'store', 'invalid_request')
    const { id, createdAt, threadId } = turn
    // Until its run ends (then the upstream's own name), it names the model its route would call, as a streamed response does before its first chunk:
    // routed as the run is (routing facts), so a route chosen by the request's metadata names its own target.
    const model = targetModel(gateway, turn.model, routingFacts(input))
    const at = (status: string, error: GatewayError | null = null): JsonObject =>
      responseObject({ id, createdAt, input, model, threadId, status, reason: null, error, outcome: undefined, output: [] })
    const record = { userId: input.owner.userId, department: input.owner.department, previousResponseId: input.previousResponseId ?? null }
    await store.queue(id, threadId, { ...record, body: at('queued') }, input.input.map((content) => ({ content, origin: 'input' as const })))
    // Streamed: its events are kept as they come, for this client and any that follows it later.
    const log = input.stream ? new EventLog(id, store, deps.background, deps.logger) : undefined
    if (log) {
      await log.open()
      void store.pruneEvents(EVENTS_KEPT_HOURS).catch(() => undefined)
    }
    /** The pipeline as the caller is now: their new role or department applies; withdrawn (a revoked key, a deleted user), the run ends `cancelled`. */
    const callsNow = async (): Promise<GatewayCalls> => {
      const principal = await deps.currentPrincipal(input.caller.principal)
      if (!principal) throw new Withdrawn(input.caller.principal)
      return deps.detachedCalls(principal)
    }
    let ran: Turn | undefined
    const done = deps.background.start(id, settings.backgroundTimeoutMs, deps.logger, async (signal) => {
      // Nothing runs for a caller withdrawn since they asked; the model step looks again (run).
      const calls = await callsNow()
      if (!(await store.update(id, at('in_progress')))) return
      ran = await run({ ...input, signal }, calls, turn, callsNow)
      if (ran.events) for await (const event of ran.events) log?.push(event)
      await ran.response()
    }, (error) => {
      if (!(error instanceof Withdrawn)) return store.update(id, at('failed', error))
      deps.logger.info({ response: id, code: error.code }, 'background response cancelled: its caller was withdrawn')
      return store.update(id, at('cancelled'))
    })
    // The end marker goes after the response's end is stored: a follower that sees it reads the end.
    const ended = log ? done.then(() => log.close()) : done
    return {
      id, threadId, createdAt, draft: () => at('queued'),
      ...(log ? { events: deps.follow(id) } : {}),
      response: async () => { await ended; return (await store.get(id))?.body ?? at('failed') },
      items: async () => { await ended; return ran ? ran.items() : [] },
    }
  }

  /**
   * Call the model and keep the turn. `callsNow`: a background turn, whose queued row its end
   * updates, and whose model call is made as the caller is once the context is gathered (tools and
   * summaries may take a while; a caller withdrawn meanwhile stops the run before the model is called).
   */
  async function run(input: TurnInput, gateway: GatewayCalls, started: Started, callsNow?: () => Promise<GatewayCalls>): Promise<Turn> {
    const { id, createdAt, threadId, model, newestFirst } = started
    const running = callsNow !== undefined
    const gathered = await gatherContext(input, gateway, deps.tools, deps.grounding())
    const preOutput = gathered.output
    const instructions = [input.assistant?.instructions, input.instructions, ...gathered.instructions].filter((s): s is string => !!s).join('\n\n')
    const maxOutput = input.maxOutputTokens ?? input.assistant?.params.max_tokens
    const messages = await buildContext({ input, model, instructions, maxOutput, newestFirst, gateway })

    const tools: ChatTool[] = [...(input.assistant?.tools ?? []), ...(input.tools ?? [])]
    const params = input.assistant?.params ?? {}
    const request = markFileTexts(withoutUndefined({
      model,
      messages,
      tools: tools.length ? tools : undefined,
      tool_choice: tools.length ? (input.toolChoice as ChatRequest['tool_choice']) : undefined,
      parallel_tool_calls: tools.length ? input.parallelToolCalls : undefined,
      temperature: input.temperature ?? params.temperature,
      top_p: input.topP ?? params.top_p,
      max_tokens: maxOutput,
      response_format: input.responseFormat,
      reasoning_effort: input.reasoningEffort,
      logprobs: input.logprobs ? true : undefined,
      top_logprobs: input.logprobs?.top,
      stream: input.stream || undefined,
      stream_options: input.stream ? { include_usage: true } : undefined,
      ...input.chatParams,
    }) as unknown as ChatRequest)

    const call = await (callsNow ? await callsNow() : gateway).chat(request, { signal: input.signal, thread: input.threadId, ...routingFacts(input) })
    let settle!: (body: JsonObject) => void
    let fail!: (err: unknown) => void
    const finished = new Promise<JsonObject>((resolve, reject) => { settle = resolve; fail = reject })
    // Who waits for the answer after a failed keep learns it from `response()`; nobody else must.
    finished.catch(() => undefined)
    let storedItems: ItemRecord[] = []
    // The model that answered, as the chat completions surface shows it: the upstream's own name
    // for it (OpenAI's dated snapshot), else the target's; the route's name until the call is made.
    const served = { model: call.model ?? model }

    /** Keep the turn: the Response object and the items, as far as the answer got. */
    const persist = (output: readonly OutputItem[], status: ItemStatus, reason: string | null, error: GatewayError | null): Promise<JsonObject> =>
      keep(output, status, reason, error).catch((err: unknown) => { fail(err); throw err })
    const keep = async (output: readonly OutputItem[], status: ItemStatus, reason: string | null, error: GatewayError | null): Promise<JsonObject> => {
      for (const o of output) o.content = withCitations(o.content, gathered.passages)
      const outcome = await withDeadline(call.done, ACCOUNTING_WAIT_MS).catch(() => undefined)
      const body = responseObject({ id, createdAt, input, model: served.model, threadId, status: error ? 'failed' : status, reason, error, outcome, output: [...preOutput, ...output.map((o) => itemView(o.id, o.content, o.status ?? status))] })
      const cost = outcome?.costUsd ?? null
      const usage = (body.usage ?? null) as JsonObject | null
      if (input.store || threadId) {
        storedItems = await store.saveTurn({
          responseId: id,
          threadId,
          running,
          response: input.store ? { userId: input.owner.userId, department: input.owner.department, previousResponseId: input.previousResponseId ?? null, body } : undefined,
          items: [
            // A background response's input items were kept as it was queued.
            ...(running ? [] : input.input.map((content) => ({ content, origin: 'input' as const }))),
            ...gathered.kept.map(({ id, ...content }) => ({ id, content: content as ItemContent, origin: 'output' as const })),
            ...output.map((o, i) => ({ id: o.id, content: o.content, origin: 'output' as const, status: o.status ?? status, ...(i === output.length - 1 ? { costUsd: cost, usage } : {}) })),
          ],
        })
        if (threadId && newestFirst.length === 0 && settings.titleRoute) void nameThread(gateway, threadId, input.input, output)
      }
      if (!running) await started.claim?.release()
      settle(body)
      return body
    }

    const draft = () => responseObject({ id, createdAt, input, model: served.model, threadId, status: 'in_progress', reason: null, error: null, outcome: undefined, output: [] })
    const base = { id, threadId, createdAt, draft, response: () => finished, items: async () => { await finished; return storedItems } }
    if (!isChatStream(call.result)) {
      const answer = call.result as ChatResponse
      if (answer.model) served.model = answer.model
      const output = answerItems(answer, input.reasoningSummary !== undefined).map((content) => ({ id: itemIdOf({ content, origin: 'output' }), content }))
      const reason = incompleteReason(answer.choices[0]?.finish_reason)
      await persist(output, reason ? 'incomplete' : 'completed', reason, null)
      return base
    }
    // OpenAI names the resolved model in every event, response.created included: the first chunk,
    // if it comes within FIRST_CHUNK_WAIT_MS, is read before the turn is handed back, so the draft
    // names the upstream's model as the end does (else the route's target, until the end).
    const { first, stream: chunks } = await readAhead(call.result, FIRST_CHUNK_WAIT_MS)
    if (first?.model) served.model = first.model
    const streamed = streamTurn(chunks, persist, preOutput, served, input.reasoningSummary !== undefined, {
      finish: (content) => withCitations(content, gathered.passages),
      citations: gathered.passages.length ? (text) => fileCitations(text, gathered.passages) : undefined,
    })
    // A client gone before its stream is read (before the first byte): a generator never begun
    // never reaches its end, so nothing would keep the turn or free the thread. The turn ends
    // there, keeping nothing (the client saw nothing); its failed end frees the thread (turn()).
    let begun = false
    const abandoned = (): void => { if (!begun) fail(toGatewayError(input.signal.reason ?? new Error('client closed the connection'))) }
    input.signal.addEventListener('abort', abandoned, { once: true })
    if (input.signal.aborted) abandoned()
    return {
      ...base,
      events: (async function* (): AsyncGenerator<TurnEvent> {
        begun = true
        input.signal.removeEventListener('abort', abandoned)
        if (input.signal.aborted) return
        yield* streamed
      })(),
    }
  }

  /**
   * The messages a turn sends: the instructions, the summary of dropped turns (`summarize`
   * policy), the history that fits the model's window, the new input.
   */
  async function buildContext(turn: {
    input: TurnInput; model: string; instructions: string; maxOutput: number | undefined; newestFirst: readonly ItemRecord[]; gateway: GatewayCalls
  }): Promise<ChatMessage[]> {
    const { input, instructions } = turn
    const policy = input.assistant?.contextPolicy
    const tokens = contextWindowTokens(turn.gateway.routes(turn.model, routingFacts(input)), turn.model, deps.catalogWindow, settings.contextWindowTokens, policy)
    const window: Window = { tokens, reserve: Math.min(turn.maxOutput ?? settings.answerReserve, Math.floor(tokens / 2)) }
    // The text of the documents messages carry counts as well (read once: the texts are kept); only a turn with files pays.
    const texts = deps.documentTexts
    const inputDocuments = await Promise.all(input.input.map((i) => documentTokens(i, deps.files, texts)))
    const instructionTokens = instructions ? await count(instructions) : 0
    const inputTokens = (await Promise.all(input.input.map((i) => count(itemText(i))))).reduce((a, b) => a + b, 0)
    const fixedTokens = instructionTokens + inputTokens + inputDocuments.reduce((n, d) => n + d.total, 0)
    const largest = inputDocuments.map((d) => d.largest).reduce((a, b) => (b && (!a || b.tokens > a.tokens) ? b : a), undefined)
    requireDocumentFits(largest, window, instructionTokens + inputTokens)
    const newestFirst = await Promise.all(turn.newestFirst.map(async (item) => {
      const { total } = await documentTokens(item.content, deps.files, texts)
      return total ? { ...item, tokens: item.tokens + total } : item
    }))
    const { summary, items } = policy?.strategy === 'summarize' && input.threadId
      ? await summarizedHistory({
        threadId: input.threadId, newestFirst, fixedTokens, window, route: settings.summaryRoute ?? turn.model, maxTokens: settings.summaryMaxTokens,
        gateway: turn.gateway, signal: input.signal, facts: routingFacts(input),
      }, { count, logger: deps.logger, read: deps.summaries.read, save: deps.summaries.save })
      : { summary: null, items: fittedHistory(newestFirst, fixedTokens, window, input.truncation) }
    return [
      ...(instructions ? [{ role: 'system' as const, content: instructions }] : []),
      ...(summary ? [summaryMessage(summary)] : []),
      ...chatMessages(await readFileParts([...items.map((i) => i.content), ...input.input], deps.files, texts)),
    ]
  }

  async function nameThread(gateway: GatewayCalls, threadId: string, input: readonly ItemContent[], output: readonly OutputItem[]): Promise<void> {
    try {
      const exchange = [...input, ...output.map((o) => o.content)].map(itemText).join('\n').slice(0, 4000)
      const call = await gateway.chat({
        model: settings.titleRoute!, max_tokens: 20,
        messages: [{ role: 'system', content: 'Name this conversation in at most six words. Answer with the title only, no quotes.' }, { role: 'user', content: exchange }],
      }, { thread: threadId })
      const text = (call.result as ChatResponse).choices[0]?.message.content?.trim().replace(/^["']|["']$/g, '')
      if (text) await deps.setTitle(threadId, text.slice(0, 200))
    } catch {
      // A title is a nicety: a failed one leaves the thread untitled.
    }
  }
}

/** Thread `threadId`'s claim for `holder` (a turn, an edit of its items), or a 400 conversation_locked while a turn answers in it. */
export async function lockThread(deps: Pick<TurnDeps, 'claim' | 'backgroundIn'>, threadId: string, holder: string, signal: AbortSignal): Promise<ThreadClaim> {
  const claim = await deps.claim(threadId, holder, signal)
  if (claim && !(await deps.backgroundIn(threadId).catch(async (err: unknown) => { await claim.release(); throw err }))) return claim
  await claim?.release()
  throw badRequest('Another response is still running in this conversation: retry once it has ended.', 'conversation', 'conversation_locked')
}

/**
 * The answer's chunks as turn events (an item added, text and arguments as they come, the item
 * done), kept when the stream ends or breaks off (then marked incomplete). Numbered as the Response
 * object lists its output: the items made before the model was called (`before`: a server tool's
 * call) first, announced at once; each item is done before the next is added, as OpenAI streams
 * them (text, then a tool call: the message is done when the call begins), `finish` giving its
 * final content (citations); the last items are done when the answer ends, with its status.
 * A citation is announced as soon as its whole marker has streamed (`citations`: a text's
 * annotations so far; a marker, once closed, stays where it is), numbered as `finish` lists them.
 * `served` takes the model the chunks name.
 */
async function* streamTurn(
  chunks: AsyncIterable<ChatChunk>,
  persist: (output: readonly OutputItem[], status: ItemStatus, reason: string | null, error: GatewayError | null) => Promise<JsonObject>,
  before: readonly JsonObject[],
  served: { model: string },
  summarise: boolean,
  cite: { finish: (content: ItemContent) => ItemContent; citations?: (text: string) => JsonObject[] },
): AsyncGenerator<TurnEvent> {
  const { finish, citations } = cite
  for (const [index, item] of before.entries()) {
    yield { type: 'item.added', index, item: { ...item, status: 'in_progress', ...('results' in item ? { results: null } : {}) } }
    yield { type: 'item.done', index, item }
  }
  const output: OutputItem[] = []
  const indexOf = (item: OutputItem): number => before.length + output.indexOf(item)
  let text: { item: OutputItem; text: string; logprobs: TokenLogprob[]; annotated: number } | undefined
  let thought: { item: OutputItem; text: string; blocks: ThinkingBlock[] } | undefined
  const calls = new Map<number, { item: OutputItem; callId: string; name: string; args: string }>()
  let finishReason: string | null = null
  let ended = false
  let failure: GatewayError | null = null
  let status: ItemStatus = 'incomplete'
  const snapshot = (): void => {
    if (thought && !thought.item.status) thought.item.content = reasoningItem(thought.text, thought.blocks, summarise) ?? { type: 'reasoning', summary: [] }
    if (text && !text.item.status) text.item.content = { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: text.text, annotations: [], ...(text.logprobs.length ? { logprobs: text.logprobs } : {}) }] }
    for (const c of calls.values()) if (!c.item.status) c.item.content = { type: 'function_call', call_id: c.callId, name: c.name, arguments: c.args }
  }
  /** Done with the items so far: a new one begins. */
  function* closeOpen(): Generator<TurnEvent> {
    snapshot()
    for (const item of output) {
      if (item.status) continue
      item.content = finish(item.content)
      item.status = 'completed'
      yield { type: 'item.done', index: indexOf(item), item: itemView(item.id, item.content, item.status) }
    }
  }
  try {
    for await (const chunk of chunks) {
      if (chunk.model) served.model = chunk.model
      const choice = chunk.choices[0]
      if (!choice) continue
      const delta = choice.delta
      // Thinking comes before what it leads to: a new reasoning item once the model has said or called something since.
      const thinking = reasoningOf(delta)
      const blocks = (delta as Reasoning).thinking_blocks
      if (!thinking && blocks?.length && !blocks.some(isClaudeBlock)) {
        // Gemini signs its answer's text as the text ends: the signature joins the thinking before that
        // text (in the final and kept item; its output_item.done is past). With no thoughts shown it is
        // not kept: Gemini recommends, not requires, a text's signature back.
        if (thought) {
          thought.blocks.push(...blocks)
          if (thought.item.status) thought.item.content = reasoningItem(thought.text, thought.blocks, summarise)!
        }
      } else if (thinking || blocks?.length) {
        if (!thought || thought.item.status) {
          yield* closeOpen()
          thought = { item: { id: newId('rs'), content: { type: 'reasoning', summary: [] } }, text: '', blocks: [] }
          output.push(thought.item)
          yield { type: 'item.added', index: indexOf(thought.item), item: { id: thought.item.id, type: 'reasoning', status: 'in_progress', summary: [] } }
        }
        if (blocks?.length) thought.blocks.push(...blocks)
        if (thinking) {
          thought.text += thinking
          yield { type: 'reasoning.delta', index: indexOf(thought.item), itemId: thought.item.id, delta: thinking }
        }
      }
      if (delta.content) {
        if (!text || text.item.status) {
          yield* closeOpen()
          text = { item: { id: newId('msg'), content: { type: 'message', role: 'assistant', content: [] } }, text: '', logprobs: [], annotated: 0 }
          output.push(text.item)
          yield { type: 'item.added', index: indexOf(text.item), item: { id: text.item.id, type: 'message', status: 'in_progress', role: 'assistant', content: [] } }
        }
        text.text += delta.content
        const logprobs = tokenLogprobs(choice.logprobs?.content)
        if (logprobs) text.logprobs.push(...logprobs)
        yield { type: 'text.delta', index: indexOf(text.item), itemId: text.item.id, delta: delta.content, ...(logprobs ? { logprobs } : {}) }
        if (citations && delta.content.includes(']')) {
          const annotations = citations(text.text)
          for (; text.annotated < annotations.length; text.annotated++) {
            yield { type: 'annotation.added', index: indexOf(text.item), itemId: text.item.id, annotationIndex: text.annotated, annotation: annotations[text.annotated] }
          }
        }
      }
      for (const tc of delta.tool_calls ?? []) {
        let c = calls.get(tc.index)
        if (!c) {
          yield* closeOpen()
          c = { item: { id: newId('fc'), content: { type: 'function_call', call_id: '', name: '', arguments: '' } }, callId: tc.id ?? newId('call'), name: tc.function?.name ?? '', args: '' }
          calls.set(tc.index, c)
          output.push(c.item)
          yield { type: 'item.added', index: indexOf(c.item), item: { id: c.item.id, type: 'function_call', status: 'in_progress', call_id: c.callId, name: c.name, arguments: '' } }
        }
        if (tc.function?.arguments) {
          c.args += tc.function.arguments
          // A provider that went back to a call already done (none streams so): its arguments are kept whole all the same.
          if (c.item.status) c.item.content = { type: 'function_call', call_id: c.callId, name: c.name, arguments: c.args }
          yield { type: 'arguments.delta', index: indexOf(c.item), itemId: c.item.id, delta: tc.function.arguments }
        }
      }
      if (choice.finish_reason) finishReason = choice.finish_reason
    }
    ended = true
  } catch (err) {
    failure = toGatewayError(err)
    throw failure
  } finally {
    snapshot()
    const cut = incompleteReason(finishReason)
    status = ended && !cut ? 'completed' : 'incomplete'
    const reason = !ended ? (failure ? null : 'interrupted') : cut
    await persist(output, status, reason, ended ? null : failure)
  }
  // The items still open, as the final Response object shows them (incomplete when cut at the token limit).
  for (const item of output) if (!item.status) yield { type: 'item.done', index: indexOf(item), item: itemView(item.id, item.content, status) }
}

/** A background response's caller was withdrawn (contracts/principals.ts): the run ends `cancelled`, saying why in the log. */
class Withdrawn extends GatewayError {
  constructor(principal: Principal) {
    const { code, reason } = withdrawal(principal)
    super(`The background response was cancelled: ${reason}.`, { status: 403, code })
  }
}

function responseObject(r: {
  id: string; createdAt: number; input: TurnInput; model: string; threadId: string | null; status: string; reason: string | null
  error: GatewayError | null; outcome: ExchangeOutcome | undefined; output: JsonObject[]
}): JsonObject {
  const { input, outcome } = r
  return {
    id: r.id,
    object: 'response',
    created_at: r.createdAt,
    status: r.status,
    error: r.error ? { code: responseErrorCode(r.error), message: r.error.message } : null,
    incomplete_details: r.status === 'incomplete' ? { reason: r.reason ?? 'interrupted' } : null,
    instructions: input.instructions ?? null,
    max_output_tokens: input.maxOutputTokens ?? null,
    model: r.model,
    output: r.output,
    parallel_tool_calls: input.parallelToolCalls ?? true,
    previous_response_id: input.previousResponseId ?? null,
    reasoning: { effort: input.reasoningEffort ?? null, summary: input.reasoningSummary ?? null },
    store: input.store,
    background: input.background ?? false,
    temperature: input.temperature ?? 1,
    text: { format: { type: 'text' } },
    tool_choice: input.toolChoice ?? 'auto',
    tools: [],
    top_p: input.topP ?? 1,
    truncation: 'disabled',
    // The schema has no null usage: it is absent until the answer is in.
    ...(outcome ? { usage: {
      input_tokens: outcome.promptTokens, input_tokens_details: { cached_tokens: outcome.cachedTokens, cache_write_tokens: outcome.cacheWriteTokens ?? 0 },
      output_tokens: outcome.completionTokens, output_tokens_details: { reasoning_tokens: outcome.reasoningTokens ?? 0 }, total_tokens: outcome.promptTokens + outcome.completionTokens,
    } } : {}),
    metadata: input.metadata ?? {},
    conversation: r.threadId ? { id: r.threadId } : null,
    ...input.echo,
  }
}

/** The model `route`'s first target calls, if the route resolves for the caller with `facts` (a target that names none calls the model asked for); else the name asked for. */
function targetModel(gateway: GatewayCalls, route: string, facts: RoutingFacts): string {
  return gateway.routes(route, facts)?.targets[0]?.model ?? route
}

/**
 * What a turn's routes' `when:` read besides its caller: the client's headers, and the Response's `metadata` (it is the Response's, not sent to
 * the model, so it goes as the call's routing metadata). Every routing of the turn (its model call, its window, its summary, a background one's
 * queued model) reads the same.
 */
function routingFacts(input: TurnInput): RoutingFacts {
  return { ...(input.metadata ? { metadata: input.metadata } : {}), ...(input.headers ? { headers: input.headers } : {}) }
}

/** A `tool_choice` that names a tool, or requires one, needs it among the turn's tools (else it would be dropped, and the model answer freely). */
function requireChosenTool(choice: unknown, tools: readonly ChatTool[]): void {
  if (choice === 'required' && tools.length === 0) throw badRequest("`tool_choice: 'required'` needs `tools`: this request has none.", 'tool_choice', 'invalid_tool_choice')
  const name = (choice as { function?: { name?: unknown } } | null | undefined)?.function?.name
  if (typeof name === 'string' && !tools.some((t) => t.type === 'function' && t.function.name === name)) {
    throw badRequest(`\`tool_choice\` names the function '${name}', which is not among \`tools\`.`, 'tool_choice', 'invalid_tool_choice')
  }
}

/** A failure in the Responses API's error codes: a rate limit says so (a client backs off rather than give up), an image's own code is kept, the rest is a server error. */
function responseErrorCode(error: GatewayError): string {
  if (error.status === 429 || error.upstreamStatus === 429) return 'rate_limit_exceeded'
  return IMAGE_ERROR_CODES.has(error.code) ? error.code : 'server_error'
}

const IMAGE_ERROR_CODES = new Set([
  'invalid_image', 'invalid_image_format', 'invalid_base64_image', 'invalid_image_url', 'image_too_large', 'image_too_small', 'image_parse_error',
  'image_content_policy_violation', 'invalid_image_mode', 'image_file_too_large', 'unsupported_image_media_type', 'empty_image_file', 'failed_to_download_image', 'image_file_not_found',
])

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined))
}

/** Why an answer that ended is incomplete, in the Responses API's words (its incomplete_details.reason): cut at the token limit, or by the provider's content filter. */
function incompleteReason(finishReason: string | null | undefined): 'max_output_tokens' | 'content_filter' | null {
  return finishReason === 'length' ? 'max_output_tokens' : finishReason === 'content_filter' ? 'content_filter' : null
}
