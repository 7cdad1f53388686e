/**
 * The typed repositories a Store exposes (`ctx.get(Store).usage.insertBatch(rows)`). Records are
 * camelCase views of the tables in core/data/migrations; every query behind them is parameterised.
 * Ids are UUID strings; an id that is not a UUID finds nothing rather than failing.
 */

/** A JSON object as stored in a jsonb column. */
export type JsonObject = { readonly [key: string]: unknown }

export interface Page {
  /** At most this many records (default 100, at most 1000). */
  readonly limit?: number
  readonly offset?: number
}

// ---------------------------------------------------------------------------------------------
// users

export interface UserRecord {
  readonly id: string
  /** The identity provider's subject (OIDC `sub`) or the user name a config key names. */
  readonly externalSubject: string
  readonly email: string | null
  readonly name: string | null
  readonly role: string
  readonly department: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly lastSeenAt: Date | null
}

export interface UserUpsert {
  readonly externalSubject: string
  /** Fields left undefined keep their stored value (or the default on insert: role `user`). */
  readonly email?: string | null
  readonly name?: string | null
  readonly role?: string
  readonly department?: string | null
}

export interface UserRepository {
  /** Create or update by external subject and mark the user seen now. */
  upsertBySubject(input: UserUpsert): Promise<UserRecord>
  get(id: string): Promise<UserRecord | undefined>
  findBySubject(externalSubject: string): Promise<UserRecord | undefined>
  list(filter?: { readonly department?: string; readonly role?: string } & Page): Promise<UserRecord[]>
  setRole(id: string, role: string): Promise<UserRecord | undefined>
  setDepartment(id: string, department: string | null): Promise<UserRecord | undefined>
}

// ---------------------------------------------------------------------------------------------
// api keys

export interface ApiKeyRecord {
  readonly id: string
  /** The visible start of the key (e.g. `gw-3fA9c1`), shown in lists; the key itself is never stored. */
  readonly prefix: string
  readonly name: string | null
  /** The owning user (users.id), or null for a service key. */
  readonly userId: string | null
  readonly department: string | null
  readonly role: string
  /** Models/routes this key may use; null means whatever its role allows. */
  readonly allowedModels: string[] | null
  /** Per-key limits and budget, e.g. `{ requests_per_minute: 60, budget_usd_per_month: 50 }`. */
  readonly limits: JsonObject
  readonly createdAt: Date
  readonly expiresAt: Date | null
  readonly revokedAt: Date | null
  readonly lastUsedAt: Date | null
}

export interface ApiKeyCreate {
  /** sha256 of the key, hex (see `hashApiKey` in core/data/keys.ts). */
  readonly keyHash: string
  readonly prefix: string
  readonly name?: string | null
  readonly userId?: string | null
  readonly department?: string | null
  readonly role?: string
  readonly allowedModels?: readonly string[] | null
  readonly limits?: JsonObject
  readonly expiresAt?: Date | null
}

export interface ApiKeyRepository {
  create(input: ApiKeyCreate): Promise<ApiKeyRecord>
  /** Revoked and expired keys are returned too, so the caller can say why a key is refused. */
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>
  get(id: string): Promise<ApiKeyRecord | undefined>
  /** Newest first; revoked keys only when asked for. */
  list(filter?: { readonly userId?: string; readonly department?: string; readonly includeRevoked?: boolean } & Page): Promise<ApiKeyRecord[]>
  /** False when there was no such key or it was already revoked. */
  revoke(id: string): Promise<boolean>
  /** Record a use; writes at most once a minute per key, so a busy key does not cost a write per request. */
  touchLastUsed(id: string, at?: Date): Promise<void>
  /** Make the key expire at `at` unless it already expires sooner (a rotated key's grace period). */
  expireBy(id: string, at: Date): Promise<void>
  /** The roles the user's live keys carry. */
  activeRolesOfUser(userId: string): Promise<string[]>
  /** Give the user's live keys with one of `roles` the role `role` instead (a user's role was lowered). */
  replaceUserKeyRoles(userId: string, roles: readonly string[], role: string): Promise<void>
  /** Move all the user's keys to `department` (keys follow their owner). */
  setUserKeysDepartment(userId: string, department: string | null): Promise<void>
}

// ---------------------------------------------------------------------------------------------
// usage events

/** One `/v1` request, as the usage writer records it. */
export interface UsageEvent {
  /**
   * The event's own id (a UUID the gateway makes when it records the event): writing the event
   * twice stores it once.
   */
  readonly eventId: string
  readonly time: Date
  /** The request id the client sent (x-request-id) or the gateway made: metadata, not unique. */
  readonly requestId: string
  readonly userId?: string | null
  readonly keyId?: string | null
  readonly department?: string | null
  /** The route the client asked for (the `model` it sent). */
  readonly route?: string | null
  readonly provider?: string | null
  /** The model the upstream was asked for. */
  readonly model?: string | null
  /** The HTTP status the client got. */
  readonly status: number
  /** The error's code or type when the request failed. */
  readonly errorType?: string | null
  readonly attempts?: number
  readonly cacheHit?: boolean
  readonly promptTokens?: number
  readonly completionTokens?: number
  readonly cachedTokens?: number
  readonly costUsd?: number
  readonly latencyMs: number
  readonly ttftMs?: number | null
  readonly streamed?: boolean
}

export interface UsageEventRecord extends Required<UsageEvent> {
  readonly id: number
}

export type UsageGroupBy = 'user' | 'department' | 'model' | 'provider' | 'route' | 'key'
export type UsageInterval = 'hour' | 'day'

/** A time range [from, to) and the scope an RBAC check allows. */
export interface UsageScope {
  readonly from: Date
  readonly to: Date
  readonly userId?: string
  readonly department?: string
  readonly keyId?: string
}

export interface UsageQuery extends UsageScope {
  readonly groupBy?: UsageGroupBy
  /** Buckets aligned to UTC hours or days. */
  readonly interval?: UsageInterval
}

export interface UsageAggregate {
  /** The bucket's start when an interval was asked for, else null. */
  readonly bucket: Date | null
  /** The group's value (a user id, a model...) when grouped, else null; null also for events without one. */
  readonly group: string | null
  readonly requests: number
  /** Requests answered with status >= 400. */
  readonly errors: number
  readonly errorRate: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cachedTokens: number
  readonly totalTokens: number
  readonly costUsd: number
  /** Interpolated (percentile_cont), to the microsecond. */
  readonly latencyP50Ms: number
  readonly latencyP95Ms: number
}

export interface UsageEventRepository {
  /**
   * Write a batch in one statement; returns how many rows were new. An event already stored (same
   * event id) is skipped, so a batch retried after an ambiguous failure, or replayed from the usage
   * journal, is not counted twice.
   */
  insertBatch(events: readonly UsageEvent[]): Promise<number>
  /** Requests, tokens, cost, error rate and latency percentiles per group and bucket, ordered by bucket then group. */
  aggregate(query: UsageQuery): Promise<UsageAggregate[]>
  /** Total cost in USD in the scope (for budgets). */
  totalCostUsd(scope: UsageScope): Promise<number>
  /** The events in the scope, oldest first. */
  list(scope: UsageScope & Page): Promise<UsageEventRecord[]>
}

// ---------------------------------------------------------------------------------------------
// assistants, chat

export type Visibility = 'private' | 'department' | 'public'

export interface AssistantRecord {
  readonly id: string
  readonly name: string
  readonly description: string | null
  /** The system prompt. */
  readonly instructions: string | null
  readonly model: string
  readonly ownerUserId: string | null
  readonly department: string | null
  readonly visibility: Visibility
  /** Request defaults such as temperature or tools. */
  readonly settings: JsonObject
  readonly createdAt: Date
  readonly updatedAt: Date
}

export interface AssistantInput {
  readonly name: string
  readonly model: string
  readonly description?: string | null
  readonly instructions?: string | null
  readonly ownerUserId?: string | null
  readonly department?: string | null
  readonly visibility?: Visibility
  readonly settings?: JsonObject
}

export interface AssistantRepository {
  create(input: AssistantInput): Promise<AssistantRecord>
  get(id: string): Promise<AssistantRecord | undefined>
  /**
   * Filters combine with AND. `visibleTo` keeps what that user may see: their own, their
   * department's shared ones, and public ones.
   */
  list(filter?: {
    readonly ownerUserId?: string
    readonly department?: string
    readonly visibleTo?: { readonly userId: string; readonly department?: string | null }
  } & Page): Promise<AssistantRecord[]>
  update(id: string, patch: Partial<AssistantInput>): Promise<AssistantRecord | undefined>
  delete(id: string): Promise<boolean>
}

export interface ChatThreadRecord {
  readonly id: string
  readonly userId: string
  readonly assistantId: string | null
  readonly title: string | null
  readonly model: string | null
  readonly metadata: JsonObject
  readonly createdAt: Date
  /** Moves forward whenever a message is appended. */
  readonly updatedAt: Date
}

export interface ChatThreadInput {
  readonly userId: string
  readonly assistantId?: string | null
  readonly title?: string | null
  readonly model?: string | null
  readonly metadata?: JsonObject
}

export interface ChatThreadRepository {
  create(input: ChatThreadInput): Promise<ChatThreadRecord>
  get(id: string): Promise<ChatThreadRecord | undefined>
  /** Most recently active first. */
  listByUser(userId: string, page?: Page): Promise<ChatThreadRecord[]>
  update(id: string, patch: { readonly title?: string | null; readonly metadata?: JsonObject }): Promise<ChatThreadRecord | undefined>
  /** Deletes its messages too. */
  delete(id: string): Promise<boolean>
}

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool'

export interface ChatMessageRecord {
  readonly id: string
  readonly threadId: string
  readonly role: ChatRole
  /** OpenAI message content: a string or an array of content parts. */
  readonly content: unknown
  readonly toolCalls: unknown[] | null
  readonly model: string | null
  readonly promptTokens: number | null
  readonly completionTokens: number | null
  readonly createdAt: Date
}

export interface ChatMessageInput {
  readonly role: ChatRole
  readonly content: unknown
  readonly toolCalls?: readonly unknown[] | null
  readonly model?: string | null
  readonly promptTokens?: number | null
  readonly completionTokens?: number | null
}

export interface ChatMessageRepository {
  /** Append to a thread (and move the thread's updatedAt). */
  append(threadId: string, message: ChatMessageInput): Promise<ChatMessageRecord>
  /** In the order they were appended. */
  list(threadId: string, page?: Page): Promise<ChatMessageRecord[]>
}

/** Every repository, bound to the store's pool or to one transaction. */
export interface Repositories {
  readonly users: UserRepository
  readonly apiKeys: ApiKeyRepository
  readonly usage: UsageEventRepository
  readonly assistants: AssistantRepository
  readonly threads: ChatThreadRepository
  readonly messages: ChatMessageRepository
}
