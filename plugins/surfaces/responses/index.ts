/**
 * surface.responses: OpenAI's Responses and Conversations APIs, for every provider. A response is
 * a turn of the Conversations capability: carried out through the caller's pipeline as a chat
 * completion (route, limits, cache, usage), translated both ways, and kept (unless `store: false`)
 * so `previous_response_id` continues it. A conversation is a chat thread of /api/v1/chat/threads.
 *
 *   POST /v1/responses   GET/DELETE /v1/responses/{id}   POST /v1/responses/{id}/cancel   GET /v1/responses/{id}/input_items
 *   POST /v1/responses/input_tokens (the input tokens a create would use); /v1/responses/compact is refused (400)
 *   /v1/conversations: create, get, update, delete; items list/create/get/delete
 *
 * Tools: `function` tools go to the model; any other type is a server tool the gateway runs (the
 * RAG service's `file_search`), registered with `Conversations.registerTool`.
 */
import { badRequest, definePlugin, notFound, sse, type Caller, type RouteSpec, type SseFrame, type Surface } from '../../../plugin-api/index.ts'
import { AuditLog, type JsonObject } from '../../contracts/capabilities.ts'
import { auditTo, type Audit } from '../../contracts/audit.ts'
import { Conversations, type AssistantRecord } from '../../contracts/conversations.ts'
import { METADATA, conversationRoutes, listOf, reachableConversation } from './conversations.ts'
import { errorEvent, responseEvents } from './events.ts'
import { Files } from '../../contracts/files.ts'
import { routingHeaders } from '../../contracts/routing-headers.ts'
import { checkFileParts, chatResponseFormat, inputItems, logprobsOf, offeredTools, reasoningEffort, reasoningSummary, textVerbosity } from './input.ts'
import { INCLUDE_QUERY, createShows, includeOf, includeQuery, responseShown } from './include.ts'

const CHAT = 'chat'
const ASSISTANT_PREFIX = 'assistant/'
const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 128 } } }
const LIST_QUERY = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    order: { enum: ['asc', 'desc'], default: 'desc' },
    after: { type: 'string', minLength: 1, maxLength: 128 },
    ...INCLUDE_QUERY,
  },
}
const RETRIEVE_QUERY = { type: 'object', properties: { stream: { type: 'boolean' }, starting_after: { type: 'integer' }, ...INCLUDE_QUERY, include_obfuscation: {} } }
/** What the gateway checks of a create request; the rest is checked field by field in `handle`. */
const CREATE_BODY = {
  type: 'object',
  required: ['model'],
  properties: {
    model: { type: 'string', minLength: 1 },
    instructions: { type: ['string', 'null'] },
    previous_response_id: { type: ['string', 'null'], minLength: 1 },
    conversation: { type: ['string', 'object', 'null'] },
    store: { type: ['boolean', 'null'] },
    stream: { type: ['boolean', 'null'] },
    background: { type: ['boolean', 'null'] },
    temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
    top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
    max_output_tokens: { type: ['integer', 'null'], minimum: 16 }, // OpenAI's minimum
    parallel_tool_calls: { type: ['boolean', 'null'] },
    metadata: METADATA,
    text: { type: ['object', 'null'] },
    truncation: { enum: ['auto', 'disabled', null] },
  },
}

type CreateBody = Record<string, unknown> & { model: string }

/** An input token count's fields (OpenAI's TokenCountsBody): a create's that shape the prompt; `personality` changes no input token. */
const COUNT_FIELDS = new Set(['model', 'input', 'previous_response_id', 'conversation', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'text', 'reasoning', 'truncation', 'personality'])
const COUNT_BODY = {
  type: 'object',
  properties: {
    model: { type: ['string', 'null'], minLength: 1 },
    instructions: { type: ['string', 'null'] },
    previous_response_id: { type: ['string', 'null'], minLength: 1 },
    conversation: { type: ['string', 'object', 'null'] },
    parallel_tool_calls: { type: ['boolean', 'null'] },
    text: { type: ['object', 'null'] },
    truncation: { enum: ['auto', 'disabled', null] },
    personality: { type: ['string', 'null'], maxLength: 64 },
  },
}

/** Create fields this surface carries out itself. */
const CARRIED = new Set([
  'model', 'input', 'instructions', 'previous_response_id', 'conversation', 'store', 'stream', 'stream_options', 'background', 'temperature', 'top_p',
  'top_logprobs', 'max_output_tokens', 'max_tool_calls', 'parallel_tool_calls', 'metadata', 'text', 'truncation', 'tools', 'tool_choice', 'reasoning', 'include', 'prompt',
])
/** Create fields the chat call takes as they are (and the Response object echoes). */
const TO_CHAT = ['user', 'safety_identifier', 'prompt_cache_key', 'prompt_cache_retention', 'service_tier'] as const
/** Create fields OpenAI defines that this gateway cannot carry out. */
const NOT_CARRIED = new Set(['context_management', 'moderation', 'prompt_cache_options'])

/** Every field of a create request is carried out, passed on, or refused naming it: none is dropped without a word. */
function checkFields(body: CreateBody): Record<string, unknown> {
  const chat: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(body)) {
    if ((TO_CHAT as readonly string[]).includes(key)) {
      if (value !== null && value !== undefined) chat[key] = value
    } else if (NOT_CARRIED.has(key)) {
      if (value !== null && value !== undefined) throw badRequest(`\`${key}\` is not supported by this gateway.`, key, 'unsupported_parameter')
    } else if (!CARRIED.has(key)) {
      throw badRequest(`Unknown parameter: '${key}'.`, key, 'unknown_parameter')
    }
  }
  return chat
}

/** The conversation a create names: its id, or `{ id }`. */
function conversationIdOf(conversation: unknown): string | undefined {
  if (conversation === undefined || conversation === null) return undefined
  const id = typeof conversation === 'string' ? conversation : (conversation as { id?: unknown }).id
  if (typeof id !== 'string' || id === '') throw badRequest('`conversation` must be a conversation id (conv_...) or { id: "conv_..." }.', 'conversation', 'invalid_value')
  return id
}

/** The frames numbered after `sequence` (frames are numbered from 0 in order, so the first sequence+1 go). */
async function* after(frames: AsyncIterable<SseFrame>, sequence: number): AsyncGenerator<SseFrame> {
  let n = 0
  for await (const frame of frames) if (n++ > sequence) yield frame
}

export function responsesSurface(conversations: Conversations, files: Files | undefined, audit?: Audit): Surface {
  /** The assistant a `model: assistant/<name>` names, if the caller may use it. */
  async function assistantOf(caller: Caller, model: string): Promise<AssistantRecord | undefined> {
    if (!model.startsWith(ASSISTANT_PREFIX)) return undefined
    const department = caller.principal.department ?? null
    const assistant = await conversations.assistants.byName(model.slice(ASSISTANT_PREFIX.length), department)
    if (!assistant) throw notFound(`The model '${model}' does not exist or you do not have access to it.`, 'model_not_found', 'model')
    return assistant
  }

  async function reachableResponse(caller: Caller, id: string, param = 'id') {
    const record = /^resp_[0-9a-f]{32}$/.test(id) ? await conversations.responses.get(id) : undefined
    if (!record || !caller.reaches(record)) throw notFound(`No response with id '${id}'.`, 'response_not_found', param)
    return record
  }

  const create: RouteSpec<CreateBody> = {
    method: 'POST', path: '/v1/responses', summary: 'Create a model response (a turn), optionally continuing a response or a conversation.', permission: CHAT, body: CREATE_BODY,
    async handle({ caller, body, gateway, signal, headers }) {
      // A stored prompt template lives at OpenAI: answering without it would be a different request.
      const chatParams = checkFields(body)
      if (body.prompt !== undefined && body.prompt !== null) throw badRequest('Stored prompt templates (`prompt`) are not supported by this gateway: send the text as `instructions` and `input`.', 'prompt', 'unsupported_parameter')
      const responseFormat = chatResponseFormat(body.text)
      const verbosity = textVerbosity(body.text)
      const effort = reasoningEffort(body.reasoning)
      const summary = reasoningSummary(body.reasoning)
      const asked = includeOf(body.include)
      const logprobs = logprobsOf(asked, body.top_logprobs)
      const include = createShows(asked, logprobs)
      const conversationId = conversationIdOf(body.conversation)
      const previous = (body.previous_response_id as string | null | undefined) ?? undefined
      if (conversationId && previous) throw badRequest('Use either `conversation` or `previous_response_id`, not both.', 'previous_response_id', 'invalid_request')
      const thread = conversationId ? await reachableConversation(conversations, caller, conversationId, 'conversation') : undefined
      if (previous) {
        // A background response's items are kept when its run ends: continuing it before then would answer without its exchange.
        const status = (await reachableResponse(caller, previous, 'previous_response_id')).body.status
        if (status === 'queued' || status === 'in_progress') {
          throw badRequest(`The previous response '${previous}' is still ${status}: wait until it has ended (poll it with GET /v1/responses/${previous}), then continue it.`, 'previous_response_id', 'previous_response_in_progress')
        }
      }
      const assistant = await assistantOf(caller, body.model)
      // A background run is accepted before it calls the model: a model the caller may not use is refused now, not a `failed` server_error later.
      if (body.background === true && !assistant && !gateway.routes(body.model, { headers, metadata: body.metadata as JsonObject | null | undefined })) throw notFound(`The model '${body.model}' does not exist or you do not have access to it.`, 'model_not_found', 'model')
      const input = inputItems(body.input ?? [], 'input', conversations.maxInputChars)
      await checkFileParts(input, 'input', caller, files)
      if (input.length === 0) throw badRequest('`input` must hold at least one item.', 'input', 'invalid_input')
      // `tool_choice: none` calls no tool, server tools included; `allowed_tools` offers only those it lists.
      const { functions, server, toolChoice } = offeredTools(body.tools, body.tool_choice)
      // Server tools run once each per turn: a bound below their number cannot be kept.
      if (typeof body.max_tool_calls === 'number' && body.max_tool_calls < server.length) {
        throw badRequest(`This gateway runs each server tool once per response: max_tool_calls must be at least ${server.length}.`, 'max_tool_calls', 'unsupported_parameter')
      }
      const store = body.store !== false
      // `model` is the one that answered (the upstream's name for it, as /v1/chat/completions shows it), not echoed.
      const echo: JsonObject = {
        tools: (body.tools as unknown[] | undefined) ?? [],
        text: { ...(body.text as JsonObject | null | undefined), format: (body.text as { format?: JsonObject | null } | null | undefined)?.format ?? { type: 'text' } },
        truncation: (body.truncation as string | undefined) ?? 'disabled',
        ...(body.tool_choice !== undefined ? { tool_choice: body.tool_choice } : {}),
        ...(typeof body.top_logprobs === 'number' ? { top_logprobs: body.top_logprobs } : {}),
        ...(typeof body.max_tool_calls === 'number' ? { max_tool_calls: body.max_tool_calls } : {}),
        ...(chatParams as JsonObject),
      }
      const turn = await conversations.turn({
        owner: { userId: caller.principal.userId, department: caller.principal.department ?? null }, caller,
        // A conversation given knowledge in the console (its rag_collections) is grounded here too.
        threadId: thread?.id, previousResponseId: previous, assistant, collections: thread?.ragCollections, model: assistant ? undefined : body.model,
        instructions: (body.instructions as string | null | undefined) ?? undefined, input, tools: functions, serverTools: body.tool_choice === 'none' ? [] : server,
        toolChoice, parallelToolCalls: (body.parallel_tool_calls as boolean | null | undefined) ?? undefined,
        temperature: (body.temperature as number | null | undefined) ?? undefined, topP: (body.top_p as number | null | undefined) ?? undefined,
        truncation: body.truncation === 'auto' ? 'auto' : 'disabled',
        maxOutputTokens: (body.max_output_tokens as number | null | undefined) ?? undefined, responseFormat, reasoningEffort: effort, reasoningSummary: summary, logprobs, metadata: (body.metadata as Record<string, string> | null | undefined) ?? undefined, headers: routingHeaders(headers),
        store, stream: body.stream === true, background: body.background === true, signal, echo, chatParams: verbosity ? { ...chatParams, verbosity } : chatParams,
      }, gateway)
      if (turn.events) return sse(responseEvents(turn, include), errorEvent)
      if (body.background === true) return responseShown(turn.draft(), include)
      return responseShown(await turn.response(), include)
    },
  }

  // The SDK's `responses.inputTokens.count()`: the prompt a create with these fields would send, checked as a create checks them.
  const inputTokens: RouteSpec<Record<string, unknown>> = {
    method: 'POST', path: '/v1/responses/input_tokens', summary: 'Count the input tokens a response with these fields would use (its history, instructions, input and tools), without creating it.', permission: CHAT, body: COUNT_BODY,
    async handle({ caller, body, gateway }) {
      const unknown = Object.keys(body).find((key) => !COUNT_FIELDS.has(key))
      if (unknown !== undefined) throw badRequest(`Unknown parameter: '${unknown}'.`, unknown, 'unknown_parameter')
      chatResponseFormat(body.text)
      textVerbosity(body.text)
      reasoningEffort(body.reasoning)
      reasoningSummary(body.reasoning)
      const model = (body.model as string | null | undefined) ?? undefined
      const assistant = model === undefined ? undefined : await assistantOf(caller, model)
      if (model !== undefined && !assistant && !gateway.routes(model)) throw notFound(`The model '${model}' does not exist or you do not have access to it.`, 'model_not_found', 'model')
      const conversationId = conversationIdOf(body.conversation)
      const previous = (body.previous_response_id as string | null | undefined) ?? undefined
      if (conversationId && previous) throw badRequest('Use either `conversation` or `previous_response_id`, not both.', 'previous_response_id', 'invalid_request')
      const thread = conversationId ? await reachableConversation(conversations, caller, conversationId, 'conversation') : undefined
      if (previous) await reachableResponse(caller, previous, 'previous_response_id')
      const input = inputItems(body.input ?? [], 'input', conversations.maxInputChars)
      await checkFileParts(input, 'input', caller, files)
      const { functions } = offeredTools(body.tools, body.tool_choice)
      const tokens = await conversations.inputTokens({
        threadId: thread?.id, previousResponseId: previous, assistant, model: assistant ? undefined : model,
        instructions: (body.instructions as string | null | undefined) ?? undefined, input, tools: functions,
      })
      return { object: 'response.input_tokens', input_tokens: tokens }
    },
  }

  // Without this route `POST /v1/responses/compact` matched /v1/responses/:id and answered 405 "use GET, DELETE".
  const compact: RouteSpec = {
    method: 'POST', path: '/v1/responses/compact', summary: 'Not offered: compaction is refused with a 400 that says what to use instead.', permission: CHAT,
    handle() {
      throw badRequest('Compaction (`responses.compact`) is not offered by this gateway: continue with `previous_response_id` or a `conversation`; with `truncation: "auto"` the oldest turns that do not fit are dropped.', null, 'unsupported_endpoint')
    },
  }

  const get: RouteSpec<unknown, { stream?: boolean; starting_after?: number } & Record<string, unknown>, { id: string }> = {
    method: 'GET', path: '/v1/responses/:id', summary: 'A stored response; `stream=true` follows a background response created streaming (from `starting_after`).', permission: CHAT, params: ID_PARAMS, query: RETRIEVE_QUERY,
    async handle({ caller, params, query }) {
      const include = includeQuery(query)
      const record = await reachableResponse(caller, params.id)
      if (!query.stream) return responseShown(record.body, include)
      // Only a background response created streaming has events to follow: a JSON answer would
      // leave the SDK's stream reader waiting for events that never come.
      const followed = await conversations.responses.follow(record.id)
      if (!followed) throw badRequest('Only a background response created with `stream: true` can be streamed again.', 'stream', 'unsupported_parameter')
      return sse(after(responseEvents(followed, include), query.starting_after ?? -1), errorEvent)
    },
  }

  const remove: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'DELETE', path: '/v1/responses/:id', summary: 'Delete a stored response.', permission: CHAT, params: ID_PARAMS,
    async handle({ caller, params }) {
      const record = await reachableResponse(caller, params.id)
      await conversations.responses.delete(record.id)
      return { id: record.id, object: 'response.deleted', deleted: true }
    },
  }

  const cancel: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'POST', path: '/v1/responses/:id/cancel', summary: 'Cancel a background response that is queued or in progress.', permission: CHAT, params: ID_PARAMS,
    async handle({ caller, params }) {
      const record = await reachableResponse(caller, params.id)
      if (record.body.background !== true) throw badRequest('Only a background response can be cancelled.', 'id', 'response_not_cancellable')
      const after = (await conversations.responses.cancel(record.id)) ?? record
      // Cancelling again answers the same (cancelled) response; one that has ended cannot be.
      if (after.body.status !== 'cancelled') throw badRequest(`The response has already ended (${String(after.body.status)}): only a queued or in-progress one can be cancelled.`, 'id', 'response_not_cancellable')
      return responseShown(after.body, new Set())
    },
  }

  const inputItemsRoute: RouteSpec<unknown, { limit: number; order: 'asc' | 'desc'; after?: string } & Record<string, unknown>, { id: string }> = {
    method: 'GET', path: '/v1/responses/:id/input_items', summary: 'The items a stored response was given.', permission: CHAT, params: ID_PARAMS, query: LIST_QUERY,
    async handle({ caller, params, query }) {
      const include = includeQuery(query)
      const record = await reachableResponse(caller, params.id)
      return listOf(await conversations.responses.inputItems(record.id, query), include)
    },
  }

  return { endpoints: [create, inputTokens, compact, get, remove, cancel, inputItemsRoute, ...conversationRoutes(conversations, files, audit)] }
}

export default definePlugin<Record<string, never>, Surface>({
  id: 'surface.responses',
  kind: 'surface',
  description: 'OpenAI\'s Responses and Conversations APIs over the conversations service, for every provider.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  needs: [Conversations],
  uses: [Files, AuditLog],
  setup(ctx) {
    const conversations = ctx.tryGet(Conversations)
    if (!conversations) throw new Error('the Responses API keeps responses and conversations: add `conversations: {}` under `services:` (and a `store:`)')
    return responsesSurface(conversations, ctx.tryGet(Files), auditTo(ctx.tryGet(AuditLog), ctx.logger))
  },
})
