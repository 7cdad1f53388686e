/**
 * The Conversations capability (provided by service.conversations, which owns the assistants,
 * chat_threads, chat_items and chat_responses tables): server-side chat threads, their items,
 * stored responses, assistants, and the turn runner that carries one exchange through the
 * gateway's pipeline. The management API (/api/v1/chat/threads, /api/v1/assistants) and the
 * OpenAI surfaces (/v1/responses, /v1/conversations) are views over it; other plugins (RAG, the
 * console) use it the same way.
 *
 * Items are kept in the Responses API's item shape (a message with content parts, a
 * function_call, a function_call_output): one form, translated to chat messages when a turn runs.
 */
import { token, type Caller, type ChatRequest, type ChatTool, type GatewayCalls, type Owner, type RoutingFacts, type Token } from '../../plugin-api/index.ts'
import type { JsonObject } from './capabilities.ts'

// ---------------------------------------------------------------------------------------------
// items

export interface TextPart {
  readonly type: 'input_text' | 'output_text'
  readonly text: string
  readonly annotations?: readonly unknown[]
  /** An answer's tokens with their log probabilities, when the turn asked for them. */
  readonly logprobs?: readonly TokenLogprob[]
}

/**
 * An image in a client's message: a URL (https, or a `data:` URL) or an uploaded file's id, and how
 * closely the model looks at it. Kept as given (a file is read when a turn sends it).
 */
export interface ImagePart {
  readonly type: 'input_image'
  readonly image_url?: string
  readonly file_id?: string
  readonly detail: 'auto' | 'low' | 'high'
  /** An uploaded image's name, kept where the chat console attached it (shown on the message; never sent to the model). */
  readonly filename?: string
}

/** A document in a client's message (a PDF...): a `data:` URL or an uploaded file's id, with its name. */
export interface FilePart {
  readonly type: 'input_file'
  readonly file_data?: string
  readonly file_id?: string
  readonly filename?: string
}

/** What a message holds: text, and in a client's messages images and files. */
export type ContentPart = TextPart | ImagePart | FilePart

/** A part's text ('' for an image or a file). */
export const partText = (part: ContentPart): string => (part.type === 'input_image' || part.type === 'input_file' ? '' : part.text)

/** A reasoning item's text: its raw reasoning (`content`) when it has some, else its summary. */
export const reasoningText = (item: { readonly summary: readonly SummaryText[]; readonly content?: readonly ReasoningText[] }): string =>
  (item.content?.length ? item.content : item.summary).map((s) => s.text).join('\n')

/** A token of an answer and its log probability, with the likeliest alternatives (the Responses API's shape). */
export interface TokenLogprob {
  readonly token: string
  readonly logprob: number
  readonly bytes: readonly number[]
  readonly top_logprobs: readonly { readonly token: string; readonly logprob: number; readonly bytes: readonly number[] }[]
}

/** Where a passage put into a turn's context came from (a RAG collection's chunk). */
export interface PassageSource {
  readonly collection_id: string
  readonly document_id: string
  /** The /v1/files id the document was attached from; else null. */
  readonly file_id: string | null
  readonly filename: string
  readonly page: number | null
  readonly heading: string | null
  readonly start_offset: number
  readonly end_offset: number
  readonly score: number
}

/** A passage for a turn's context: numbered [n] in the instructions, listed with the reply. */
export interface Passage {
  readonly text: string
  readonly source: PassageSource
}

/** A source listed on a reply: the passage's number in the context, and whether the reply cites it. */
export interface MessageSource extends PassageSource {
  readonly number: number
  readonly cited: boolean
}

/** What an item holds, without its id and status (kept beside it). */
export type ItemContent =
  | {
    readonly type: 'message'; readonly role: 'user' | 'assistant' | 'system' | 'developer'; readonly content: readonly ContentPart[]
    /** A reply's grounding: the passages its context held (the management API shows them; the Responses view does not). */
    readonly sources?: readonly MessageSource[]
  }
  | { readonly type: 'function_call'; readonly call_id: string; readonly name: string; readonly arguments: string }
  | { readonly type: 'function_call_output'; readonly call_id: string; readonly output: string }
  /** A file search the gateway ran for the turn (the `file_search` tool): kept in a conversation as OpenAI keeps it; not sent to the model again. */
  | { readonly type: 'file_search_call'; readonly queries: readonly string[]; readonly results: readonly JsonObject[] | null }
  /**
   * The model's thinking before its answer (the Responses API's `reasoning` item): its text as the
   * `content` (OpenAI's raw chain of thought, `reasoning_text`), the same text as the summary only when
   * the client asked for one (`reasoning.summary`), and the provider's signed thinking blocks, opaque
   * (`sealThinking`, contracts/thinking.ts), so a later turn replays them to the model that made them.
   * Shown only when `include` asks for it.
   */
  | { readonly type: 'reasoning'; readonly summary: readonly SummaryText[]; readonly content?: readonly ReasoningText[]; readonly encrypted_content?: string }

/** A reasoning item's summary part. */
export interface SummaryText {
  readonly type: 'summary_text'
  readonly text: string
}

/** A reasoning item's raw reasoning text. */
export interface ReasoningText {
  readonly type: 'reasoning_text'
  readonly text: string
}

export type ItemStatus = 'completed' | 'incomplete' | 'in_progress'

export interface ItemRecord {
  readonly id: string
  /** Ascending with insertion: the order of a thread, and its cursor. */
  readonly seq: number
  readonly threadId: string | null
  readonly responseId: string | null
  /** `input`: sent by the client; `output`: produced by the model. */
  readonly origin: 'input' | 'output'
  readonly content: ItemContent
  readonly status: ItemStatus
  /** Tokens of the item's text (a real tokenizer's count), for fitting history into a window. */
  readonly tokens: number
  /** For a model's output: what its call cost, and the usage it reported. */
  readonly costUsd: number | null
  readonly usage: JsonObject | null
  readonly createdAt: Date
}

export interface NewItem {
  readonly content: ItemContent
  readonly origin: 'input' | 'output'
  readonly status?: ItemStatus
  readonly costUsd?: number | null
  readonly usage?: JsonObject | null
}

// ---------------------------------------------------------------------------------------------
// threads (= conversations)

export interface ThreadRecord extends Owner {
  /** `conv_...`: the same id in /api/v1/chat/threads and /v1/conversations. */
  readonly id: string
  readonly userId: string
  readonly department: string | null
  readonly assistantId: string | null
  readonly title: string | null
  /** Up to 16 string pairs (OpenAI's metadata). */
  readonly metadata: Readonly<Record<string, string>>
  /** RAG collections attached to the thread itself: each message is grounded in them (with its assistant's, if any). */
  readonly ragCollections: readonly string[]
  readonly itemCount: number
  readonly createdAt: Date
  readonly lastActivityAt: Date
}

export interface ThreadCreate {
  readonly userId: string
  readonly department: string | null
  readonly assistantId?: string | null
  readonly title?: string | null
  readonly metadata?: Readonly<Record<string, string>>
  readonly ragCollections?: readonly string[]
}

/** One page of a cursor-paginated list. */
export interface Slice<T> {
  readonly data: T[]
  readonly hasMore: boolean
}

export interface ItemListOptions {
  readonly order: 'asc' | 'desc'
  readonly limit: number
  /** Items after this id in the order (the cursor); an id that is not an item of the list is a 400 naming `after`. */
  readonly after?: string
}

export interface Threads {
  create(input: ThreadCreate, items?: readonly NewItem[]): Promise<{ thread: ThreadRecord; items: ItemRecord[] }>
  get(id: string): Promise<ThreadRecord | undefined>
  /** Newest activity first. */
  /** `search`: only threads whose title or a message's text contains it, in any case. */
  list(filter: { readonly userId?: string; readonly department?: string; readonly search?: string; readonly limit: number; readonly offset: number }): Promise<{ threads: ThreadRecord[]; total: number }>
  update(id: string, patch: { readonly title?: string | null; readonly metadata?: Readonly<Record<string, string>>; readonly ragCollections?: readonly string[] }): Promise<ThreadRecord | undefined>
  /** Deletes its items too; the responses made in it stay retrievable. */
  delete(id: string): Promise<boolean>
  /** Append items in order; the thread's last activity moves to now. */
  append(threadId: string, items: readonly NewItem[]): Promise<ItemRecord[]>
  items(threadId: string, options: ItemListOptions): Promise<Slice<ItemRecord>>
  item(threadId: string, itemId: string): Promise<ItemRecord | undefined>
  deleteItem(threadId: string, itemId: string): Promise<boolean>
}

// ---------------------------------------------------------------------------------------------
// stored responses (/v1/responses)

export interface ResponseRecord extends Owner {
  readonly id: string
  readonly userId: string
  readonly department: string | null
  readonly threadId: string | null
  readonly previousResponseId: string | null
  /** The Response object as it was answered. */
  readonly body: JsonObject
  readonly createdAt: Date
}

export interface Responses {
  get(id: string): Promise<ResponseRecord | undefined>
  /** Deletes it; a background response still running is stopped. */
  delete(id: string): Promise<boolean>
  /**
   * Cancel a background response while it is queued or in progress: it stays `cancelled` (what its
   * run answers later is not kept), and its run is stopped if this process runs it (another
   * worker's runs to its end and is discarded). The record as it stands after; undefined if none.
   */
  cancel(id: string): Promise<ResponseRecord | undefined>
  /**
   * A background response created streaming, to follow from another request (or after a drop):
   * its events from the first, then live until its run ends (from any process). Undefined when it
   * was not created streaming in the background.
   */
  follow(id: string): Promise<TurnStream | undefined>
  /** The items the client sent with the response, in order. */
  inputItems(id: string, options: ItemListOptions): Promise<Slice<ItemRecord>>
  /** A background response of this thread still queued or in progress (its items are kept when it ends), if any. */
  runningIn(threadId: string): Promise<ResponseRecord | undefined>
}

// ---------------------------------------------------------------------------------------------
// assistants

export interface ContextPolicy {
  /** What happens to the oldest turns when the history does not fit: dropped, or folded into a summary kept on the thread (threads only; a response chain truncates). */
  readonly strategy: 'truncate' | 'summarize'
  /** A window lower than the model's (the catalog's context window of the route's first target). */
  readonly max_context_tokens?: number
}

export interface AssistantRecord extends Owner {
  readonly id: string
  readonly name: string
  readonly description: string | null
  /** The model name the gateway routes (a route or an alias). */
  readonly route: string
  readonly instructions: string | null
  /** null: every department may use it. */
  readonly department: string | null
  readonly userId: string | null
  /** Default parameters: temperature, top_p, max_tokens. */
  readonly params: Readonly<{ temperature?: number; top_p?: number; max_tokens?: number }>
  /** Function tools, in the chat-completions shape. */
  readonly tools: readonly ChatTool[]
  /** RAG collections searched for its answers (the RAG service reads them). */
  readonly ragCollections: readonly string[]
  readonly contextPolicy: ContextPolicy
  readonly metadata: Readonly<Record<string, string>>
  readonly createdAt: Date
  readonly updatedAt: Date
}

export type AssistantInput = Omit<AssistantRecord, 'id' | 'createdAt' | 'updatedAt'>

export interface Assistants {
  create(input: AssistantInput): Promise<AssistantRecord>
  get(id: string): Promise<AssistantRecord | undefined>
  /** The assistant a `model: assistant/<name>` means for a caller in `department`: its department's, else a global one. */
  byName(name: string, department: string | null): Promise<AssistantRecord | undefined>
  /** `departments`: those visible (null in the list: global ones); undefined: all. */
  list(filter: { readonly departments?: readonly (string | null)[]; readonly limit: number; readonly offset: number }): Promise<{ assistants: AssistantRecord[]; total: number }>
  update(id: string, patch: Partial<AssistantInput>): Promise<AssistantRecord | undefined>
  delete(id: string): Promise<boolean>
}

// ---------------------------------------------------------------------------------------------
// turns: one exchange with a model, through the pipeline

/** What a turn's context gets from a server tool or from grounding, before the model is called. */
export interface PreparedContext {
  /** Text added to the system instructions for this turn. */
  readonly instructions?: string
  /** Passages the turn numbers [1]..[n] in its instructions and lists as the reply's sources. */
  readonly passages?: readonly Passage[]
  /** Items shown in the response's output before the model's (e.g. a `file_search_call`); a server tool's are kept with the turn's items too. */
  readonly output?: readonly JsonObject[]
}

/** Who a turn runs for, as its tools and grounding see it: searches use the caller's reach. */
export interface TurnContext {
  readonly input: readonly ItemContent[]
  readonly owner: Owner
  readonly caller: Caller
  readonly gateway: GatewayCalls
  readonly signal: AbortSignal
}

/**
 * A tool the gateway runs itself (the RAG service's `file_search`): given the tool's declaration
 * and the turn's input, it adds context before the model is called. Registered by type.
 */
export interface ServerTool {
  readonly type: string
  prepare(declaration: JsonObject, turn: TurnContext): Promise<PreparedContext>
}

/**
 * Passages from an assistant's attached collections (`rag_collections`) for a user's message,
 * searched as the caller: collections it may not search give nothing. The RAG service registers it.
 */
export interface Grounding {
  retrieve(collections: readonly string[], query: string, turn: Omit<TurnContext, 'input' | 'owner'>): Promise<PreparedContext>
  /** Of `collections`, those `caller` does not see (none such, or out of its reach): an assistant is not given them. */
  unseen?(collections: readonly string[], caller: Caller): Promise<string[]>
}

export interface TurnInput {
  readonly owner: { readonly userId: string; readonly department: string | null }
  /** Who asks: server tools and grounding search with its reach. */
  readonly caller: Caller
  /** Continue this thread (its history is the context, the turn's items are appended to it). */
  readonly threadId?: string
  /** Or continue after this stored response (its chain is the context). */
  readonly previousResponseId?: string
  readonly assistant?: AssistantRecord
  /** Collections attached to the thread (besides the assistant's): searched for the turn as the assistant's are. */
  readonly collections?: readonly string[]
  /** The model to ask (a route name); the assistant's route when absent. */
  readonly model?: string
  readonly instructions?: string | null
  /** The new items: a user message, or the outputs of function calls. */
  readonly input: readonly ItemContent[]
  /** Function tools (added to the assistant's). */
  readonly tools?: readonly ChatTool[]
  /** Declarations of server-side tools (`file_search`...), run by their ServerTool. */
  readonly serverTools?: readonly JsonObject[]
  readonly toolChoice?: unknown
  readonly parallelToolCalls?: boolean
  readonly temperature?: number
  readonly topP?: number
  readonly maxOutputTokens?: number
  /** Structured output (the Responses API's `text.format`), in the chat shape; absent: text. */
  readonly responseFormat?: ChatRequest['response_format']
  /** How hard a reasoning model thinks (the Responses API's `reasoning.effort`). */
  readonly reasoningEffort?: ChatRequest['reasoning_effort']
  /** The summary of its thinking the client asked for (`reasoning.summary`); absent: none, the thinking is the item's `content` only. */
  readonly reasoningSummary?: 'auto' | 'concise' | 'detailed'
  /** The answer's tokens with their log probabilities, and `top` alternatives of each (0-20). */
  readonly logprobs?: { readonly top: number }
  readonly metadata?: Readonly<Record<string, string>>
  /** The client's request headers, which routes' `when: { headers }` read for every routing of the turn (as for a chat completion sent directly). */
  readonly headers?: RoutingFacts['headers']
  /**
   * A history that does not fit the model's window: `auto` (or absent) drops its oldest whole
   * turns, `disabled` (the Responses API's default) refuses the turn with a 400
   * context_length_exceeded. In a thread, an assistant's `summarize` policy folds them into its summary either way.
   */
  readonly truncation?: 'auto' | 'disabled'
  /** Keep the response (retrievable, continuable). Items of a thread are kept either way. */
  readonly store: boolean
  readonly stream: boolean
  /**
   * Run detached from the request (the Responses API's `background`): `turn()` returns once the
   * response is stored as `queued` (`draft()`), and the run keeps it up to date (in_progress, then
   * its end) until the service's `background_timeout_ms`. Needs `store`. The run calls the pipeline
   * as `caller`, outside the request, so `signal` does not stop it (`cancel` does). With `stream`,
   * `events` follows the run (a client that goes away stops following, not the run), and
   * `Responses.follow` follows it again.
   */
  readonly background?: boolean
  readonly signal: AbortSignal
  /** Chat request parameters passed to the model as they are (the Responses API's user, service_tier, prompt_cache_key...). */
  readonly chatParams?: Readonly<Record<string, unknown>>
  /** Extra fields echoed in the Response object (text format, truncation...). */
  readonly echo?: JsonObject
}

/** What `Conversations.inputTokens` counts: a turn's prompt as it would be sent, before any server tool has run. */
export type PromptInput = Pick<TurnInput, 'threadId' | 'previousResponseId' | 'assistant' | 'model' | 'instructions' | 'input' | 'tools'>

/** What a streamed turn reports as it goes; the surfaces encode these in their wire format. */
export type TurnEvent =
  | { readonly type: 'item.added'; readonly index: number; readonly item: JsonObject }
  | { readonly type: 'text.delta'; readonly index: number; readonly itemId: string; readonly delta: string; readonly logprobs?: readonly TokenLogprob[] }
  | { readonly type: 'arguments.delta'; readonly index: number; readonly itemId: string; readonly delta: string }
  /** The model's thinking as it comes, in a reasoning item's content (and its summary, when one was asked for: the Response's `reasoning.summary`). */
  | { readonly type: 'reasoning.delta'; readonly index: number; readonly itemId: string; readonly delta: string }
  /** A citation in a message's text (a `file_citation`), as soon as its marker has streamed: the `annotationIndex`th of the final text's annotations. */
  | { readonly type: 'annotation.added'; readonly index: number; readonly itemId: string; readonly annotationIndex: number; readonly annotation: JsonObject }
  | { readonly type: 'item.done'; readonly index: number; readonly item: JsonObject }

export interface Turn {
  /** The Response object's id (`resp_...`), known before the model answers. */
  readonly id: string
  readonly threadId: string | null
  readonly createdAt: number
  /** The Response object as it stands before the answer (status in_progress, no output). */
  draft(): JsonObject
  /** Streamed turns: the events, then `response()` settles. */
  readonly events?: AsyncIterable<TurnEvent>
  /** The finished Response object (status completed, incomplete or failed), once stored. */
  response(): Promise<JsonObject>
  /** The items stored for this turn (input, then output). */
  items(): Promise<ItemRecord[]>
}

/** What a stream of a turn is encoded from: the response before the answer, the events, the end. */
export type TurnStream = Pick<Turn, 'draft' | 'events' | 'response'>

export interface Conversations {
  readonly threads: Threads
  readonly responses: Responses
  readonly assistants: Assistants
  /** Carry one exchange through `gateway` (the caller's pipeline) and store it. */
  turn(input: TurnInput, gateway: GatewayCalls): Promise<Turn>
  /**
   * The input tokens a turn of `prompt` would send (the Responses API's input_tokens): the history
   * it continues (read as a turn reads it), the instructions, the input and the tools; text only.
   */
  inputTokens(prompt: PromptInput): Promise<number>
  /** Run `work` (an edit of the thread's items) while no turn answers in the thread, which none starts meanwhile; a 400 conversation_locked while one does. */
  exclusive<T>(threadId: string, work: () => Promise<T>): Promise<T>
  /** Server-side tools by type; a plugin registers its tool in setup and unregisters in dispose. */
  registerTool(tool: ServerTool): () => void
  /** The grounding of assistants with attached collections; one at a time (the RAG service's). */
  registerGrounding(grounding: Grounding): () => void
  /** The registered grounding, if any (stage.assistants grounds /v1/chat/completions with it). */
  grounding(): Grounding | undefined
  /** The reader of documents messages carry (a .docx, a .txt) into text for the model; one at a time (the RAG service's). */
  registerDocumentReader(reader: DocumentReader): () => void
  /** The registered document reader, if any. */
  documentReader(): DocumentReader | undefined
  /** The largest message (in characters) a turn accepts. */
  readonly maxInputChars: number
}

/**
 * Documents a message carries that no model reads as they are (a Word file, a text file), read into
 * text as Open WebUI does: the RAG service's readers, the same that ingest knowledge. A PDF goes to
 * the model as a file part; its text is read too, for a target that reads no PDF (contracts/file-text.ts).
 */
export interface DocumentReader {
  /** Whether a file of this name and type is read (by its extension, then its type). */
  reads(filename: string, contentType: string): boolean
  /** The file's text; a 4xx naming the file when it cannot be read. */
  text(file: { readonly filename: string; readonly contentType: string; readonly data: Buffer }): Promise<string>
}

export const Conversations: Token<Conversations> = token<Conversations>('Conversations')

/** A thread (a conversation) as the audit trail names it, whichever API changed it: its owner, title and assistant, never what was said in it. */
export const threadAuditEntry = (action: 'thread.create' | 'thread.update' | 'thread.delete', t: ThreadRecord, more: JsonObject = {}) => ({
  action, target: { type: 'thread', id: t.id }, department: t.department,
  details: { title: t.title, owner: t.userId, assistant_id: t.assistantId, ...more },
})

/** An item as the Responses and Conversations APIs show it. */
export function itemView(id: string, content: ItemContent, status: ItemStatus): JsonObject {
  if (content.type === 'message') {
    const parts = content.content.map((p): JsonObject => {
      if (p.type === 'input_image') return { type: p.type, image_url: p.image_url ?? null, file_id: p.file_id ?? null, detail: p.detail }
      if (p.type === 'input_file') return { type: p.type, ...(p.file_id ? { file_id: p.file_id } : {}), ...(p.filename ? { filename: p.filename } : {}), ...(p.file_data ? { file_data: p.file_data } : {}) }
      if (p.type === 'output_text') return { type: 'output_text', text: p.text, annotations: p.annotations ?? [], logprobs: p.logprobs ?? [] }
      return { type: p.type, text: p.text }
    })
    return { id, type: 'message', status, role: content.role, content: parts }
  }
  return { id, ...content, status }
}

/** The text of the last user message of a turn's input ('' for a turn of tool results): what retrieval searches. */
export function lastUserText(input: readonly ItemContent[]): string {
  const last = [...input].reverse().find((i) => i.type === 'message' && i.role === 'user')
  return last?.type === 'message' ? last.content.map(partText).filter(Boolean).join('\n') : ''
}
