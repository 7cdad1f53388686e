/**
 * Conversations: chat threads, their items, stored responses and assistants, in the store.
 *
 *   service.conversations   the tables (migrated at setup) and the Conversations capability; no routes
 *   service.chat            /api/v1/chat/threads: threads and their messages (send, stream)
 *   service.assistants      /api/v1/assistants: assistants, scoped to departments
 *   stage.assistants        `model: assistant/<name>` on /v1/chat/completions: the assistant's route, instructions and tools
 *
 * The OpenAI surfaces over the same records (/v1/responses, /v1/conversations) are surface.responses.
 */
import { fileURLToPath } from 'node:url'
import { Pricing, Store, Tokenizer, definePlugin, type Service } from '../../../plugin-api/index.ts'
import { Identity } from '../../contracts/capabilities.ts'
import { Conversations, type DocumentReader, type Grounding, type ResponseRecord, type ServerTool } from '../../contracts/conversations.ts'
import { currentPrincipal } from '../../contracts/principals.ts'
import { Files } from '../../contracts/files.ts'
import { unansweredRoutes } from '../../contracts/route-names.ts'
import { BackgroundRuns, followEvents, isRunning, LOST_AFTER_BEATS, LOST_AFTER_MS, streams } from './background.ts'
import assistantsService from './assistants-api.ts'
import assistantStage from './assistant-stage.ts'
import chatService from './threads-api.ts'
import { assistantRepository } from './data/assistants.ts'
import { claimThread } from './data/claims.ts'
import { estimateTokens } from './data/items.ts'
import { responseRepository, type StoredResponse } from './data/responses.ts'
import { threadSummaries } from './data/summaries.ts'
import { threadRepository, titleUntitledThread } from './data/threads.ts'
import { conversationsConfigSchema, type ConversationsConfig } from './schema.ts'
import { lockThread, turnRunner } from './turn.ts'
import { promptTokens } from './prompt-tokens.ts'
import { documentTexts } from './document-texts.ts'
import { documentTokens } from './file-parts.ts'
import { newId } from '../kit/ids.ts'

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))

const conversations = definePlugin<ConversationsConfig, Service>({
  id: 'service.conversations',
  kind: 'service',
  description: 'Chat threads, their items, stored responses and assistants in the store: the Conversations capability.',
  configSchema: conversationsConfigSchema,
  needs: [Store],
  uses: [Tokenizer, Files, Identity],
  provides: [Conversations],
  checkConfig: (config, at) => unansweredRoutes(config, at, ['title_route', 'summary_route', 'default_route']),
  async setup(ctx, config) {
    const store = ctx.tryGet(Store)
    if (!store) throw new Error('conversations are kept in the store: add `store:` to gateway.yaml (e.g. store: { plugin: embedded })')
    await store.migrate({ owner: 'conversations', dir: MIGRATIONS })
    const tokenizer = ctx.tryGet(Tokenizer)
    const count = tokenizer ? (text: string) => tokenizer.count(text) : estimateTokens
    const files = ctx.tryGet(Files)
    const extractions = ctx.metrics.counter('gateway_document_extractions_total', 'Documents a message carries read into text (a miss of the kept texts: each file is read once while kept).')
    const texts = files ? documentTexts(() => documents.current, count, () => extractions.inc()) : undefined
    // A deleted file's text goes with it.
    const unhookFiles = texts && files?.onDelete(async (file) => texts.forget(file.id))
    const threads = threadRepository(store, count)
    const responses = responseRepository(store, count)
    // Runs outlive a reload of this plugin; the gateway's shutdown fails those still going.
    const identity = ctx.tryGet(Identity)
    const background = ctx.keep('background-responses', () => new BackgroundRuns())
    background.heartbeat((ids) => responses.beat(ids), config.background_heartbeat_ms, ctx.logger)
    /** Run by no process any more: its heartbeat stopped for a few beats (or, a row from before heartbeats, its deadline and a minute passed). */
    const lost = (record: StoredResponse): boolean => record.silentMs !== null
      ? record.silentMs > config.background_heartbeat_ms * LOST_AFTER_BEATS
      : Date.now() - record.createdAt.getTime() > config.background_timeout_ms + LOST_AFTER_MS
    const follow = (id: string) => followEvents(id, { store: responses, runs: background, get: async (id) => settled(await responses.get(id)), horizonMs: config.background_timeout_ms + LOST_AFTER_MS })
    /** A background response whose process stopped before it ended (not run here, lost) reads as failed. */
    const settled = async (record: StoredResponse | undefined): Promise<ResponseRecord | undefined> => {
      if (!record || !isRunning(record.body) || background.has(record.id) || !lost(record)) return record
      const body = { ...record.body, status: 'failed', error: { code: 'server_error', message: 'The gateway stopped before the background response finished.' } }
      await responses.update(record.id, body)
      return responses.get(record.id)
    }
    /** A background response of the thread whose run goes on (a lost one reads as failed). */
    const runningIn = async (threadId: string): Promise<ResponseRecord | undefined> => {
      for (const record of await responses.runningIn(threadId)) {
        const now = await settled(record)
        if (now && isRunning(now.body)) return now
      }
      return undefined
    }
    // A turn's claim lapses as a lost background run does: a few heartbeats after its process stopped renewing it.
    const locks = {
      claim: (threadId: string, holder: string, signal: AbortSignal) => claimThread(store.sql, threadId, holder, config.background_heartbeat_ms * LOST_AFTER_BEATS, signal),
      backgroundIn: async (threadId: string) => (await runningIn(threadId)) !== undefined,
    }
    // Server tools outlive a reload of this plugin: the plugin that registered one unregisters it.
    const tools = ctx.keep('server-tools', () => new Map<string, ServerTool>())
    const grounding = ctx.keep('grounding', () => ({ current: undefined as Grounding | undefined }))
    const documents = ctx.keep('document-reader', () => ({ current: undefined as DocumentReader | undefined }))
    ctx.provide(Conversations, {
      threads,
      responses: {
        ...responses,
        get: async (id) => settled(await responses.get(id)),
        runningIn,
        async cancel(id) {
          const record = await responses.cancel(id)
          if (record?.body.status === 'cancelled') background.stop(id)
          return record
        },
        async delete(id) {
          background.stop(id)
          return responses.delete(id)
        },
        async follow(id) {
          const record = await settled(await responses.get(id))
          if (!record || !(await streams(responses, id))) return undefined
          const { usage: _usage, ...body } = record.body
          return {
            draft: () => ({ ...body, status: 'queued', output: [], error: null, incomplete_details: null }),
            events: follow(id),
            response: async () => (await settled(await responses.get(id)))?.body ?? record.body,
          }
        },
      },
      assistants: assistantRepository(store.sql),
      maxInputChars: config.max_message_chars,
      turn: turnRunner({
        store: responses,
        count,
        tools,
        grounding: () => grounding.current,
        settings: {
          contextWindowTokens: config.context_window_tokens, maxHistoryItems: config.max_history_items, answerReserve: config.answer_reserve_tokens,
          titleRoute: config.title_route, defaultRoute: config.default_route, summaryRoute: config.summary_route, summaryMaxTokens: config.summary_max_tokens,
          backgroundTimeoutMs: config.background_timeout_ms,
        },
        setTitle: (id, title) => titleUntitledThread(store.sql, id, title),
        catalogWindow: (model) => ctx.get(Pricing).contextWindow(model),
        summaries: threadSummaries(store.sql),
        logger: ctx.logger,
        background,
        detachedCalls: (principal) => ctx.callsAs(principal),
        currentPrincipal: async (principal) => (identity ? currentPrincipal(identity, principal) : principal),
        follow,
        files,
        documentTexts: texts,
        ...locks,
      }),
      inputTokens: promptTokens(responses, config.max_history_items, tokenizer, texts && (async (item) => (await documentTokens(item, files, texts)).total)),
      async exclusive(threadId, work) {
        const claim = await lockThread(locks, threadId, newId('edit'), new AbortController().signal)
        try {
          return await work()
        } finally {
          await claim.release()
        }
      },
      registerTool(tool) {
        tools.set(tool.type, tool)
        return () => { if (tools.get(tool.type) === tool) tools.delete(tool.type) }
      },
      registerGrounding(g) {
        grounding.current = g
        return () => { if (grounding.current === g) grounding.current = undefined }
      },
      grounding: () => grounding.current,
      registerDocumentReader(reader) {
        documents.current = reader
        return () => { if (documents.current === reader) documents.current = undefined }
      },
      documentReader: () => documents.current,
    })
    return {
      dispose: async () => { unhookFiles?.() },
      check(routes) {
        for (const key of ['title_route', 'summary_route', 'default_route'] as const) {
          const name = config[key]
          if (name !== undefined && !routes.resolve(name)) throw Object.assign(new Error(`no route answers '${name}' (add it under routes:)`), { path: [key] })
        }
      },
    }
  },
})

export default [conversations, chatService, assistantsService, assistantStage]
