/**
 * Capabilities the built-in plugins offer each other (the kernel uses neither): who the users and
 * keys are (`Identity`, provided by the identity plugin whenever a store is configured, used by
 * the auth strategies and the keys/users services), the record of every model call
 * (`UsageLog`, provided by the usage stage, read by budgets and analytics), and the audit trail of
 * management actions (`AuditLog`, provided by service.audit, written by the keys/users services). The plugins that
 * provide them own their tables; these are the interfaces they promise, and a third-party plugin
 * may use or provide them the same way.
 */
import { token, type Token } from '../../plugin-api/index.ts'
import { type Page } from '../store/kit/sql.ts'

export type { Page }

/** A JSON object as stored in a jsonb column. */
export type JsonObject = { readonly [key: string]: unknown }

// ---------------------------------------------------------------------------------------------
// users

/**
 * The subjects the users of gateway.yaml's config keys are recorded under: `config:<user>`. No
 * identity provider's subject may enter this namespace (claims.ts refuses it): a token whose
 * subject claim a user can set (an email, a preferred_username) would otherwise be recorded as,
 * and act as, a config key's user, such as the bootstrap admin.
 */
export const CONFIG_KEY_SUBJECT_PREFIX = 'config:'

export interface UserRecord {
  readonly id: string
  /** The identity provider's subject (OIDC `sub`), or `config:<user>` for a config key's user. */
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
  /** The visible start of the secret the key's last rotation replaced; null for a key never rotated. */
  readonly previousPrefix: string | null
  /**
   * Until when the secret the key's last rotation replaced keeps working (its grace period; a time
   * already past once it ended or when there was none); null for a key never rotated.
   */
  readonly previousExpiresAt: Date | null
  /**
   * Who made the key (users.id): the person behind the caller, who saw its secret. Null when that
   * is not known: a key made before makers were recorded, or by a caller with no stored user.
   */
  readonly createdBy: string | null
  /** Who made its current secret by a rotation (users.id); null while never rotated, or not known. */
  readonly rotatedBy: string | null
}

/**
 * A key found by one of its secrets: `current`, or `previous`, the one its last rotation replaced
 * (which works only until `previousExpiresAt`).
 */
export type ApiKeyMatch = ApiKeyRecord & { readonly secret: 'current' | 'previous' }

/** A user a key names (its owner, its maker), with what a list shows to tell people apart. */
export interface KeyPerson {
  readonly id: string
  readonly name: string | null
  readonly email: string | null
  readonly externalSubject: string
}

/**
 * A key as a list shows it: its owner (`userId`) and its maker (`createdBy`) with their names, so
 * two keys of the same name are told apart before one is rotated or revoked. Null: no such user
 * (a service key, an unknown maker).
 */
export type ApiKeyListed = ApiKeyRecord & { readonly owner: KeyPerson | null; readonly creator: KeyPerson | null }

/** A key's new secret (see `newApiKey` in plugins/services/identity/data/keys.ts). */
export interface ApiKeySecret {
  /** sha256 of the key, hex. */
  readonly keyHash: string
  readonly prefix: string
}

export interface ApiKeyCreate {
  /** sha256 of the key, hex (see `hashApiKey` in plugins/services/identity/data/keys.ts). */
  readonly keyHash: string
  readonly prefix: string
  readonly name?: string | null
  readonly userId?: string | null
  readonly department?: string | null
  readonly role?: string
  readonly allowedModels?: readonly string[] | null
  readonly limits?: JsonObject
  readonly expiresAt?: Date | null
  /** Who makes it (users.id), or null when not known. */
  readonly createdBy?: string | null
}

export interface ApiKeyRepository {
  create(input: ApiKeyCreate): Promise<ApiKeyRecord>
  /**
   * The key with this secret, current or previous. Revoked and expired keys, and a previous secret
   * past its grace, are returned too, so the caller can say why a key is refused.
   */
  findByHash(keyHash: string): Promise<ApiKeyMatch | undefined>
  get(id: string): Promise<ApiKeyRecord | undefined>
  /** Newest first, with the owner's and maker's names; revoked keys only when asked for. */
  list(filter?: { readonly userId?: string; readonly department?: string; readonly includeRevoked?: boolean } & Page): Promise<ApiKeyListed[]>
  /** False when there was no such key or it was already revoked. */
  revoke(id: string): Promise<boolean>
  /** Record a use; writes at most once a minute per key, so a busy key does not cost a write per request. */
  touchLastUsed(id: string, at?: Date): Promise<void>
  /**
   * Replace a live key's secret in place (same id, settings and history): the current secret
   * becomes the previous one, working until `previousUntil` (now or earlier: not at all), and an
   * older previous secret is dropped. `rotatedBy`: who gets the new secret (users.id), or null when not
   * known. Undefined when there is no such key or it is revoked or expired.
   */
  rotate(id: string, secret: ApiKeySecret, previousUntil: Date, rotatedBy: string | null): Promise<ApiKeyRecord | undefined>
  /** The roles the user's live keys carry. */
  activeRolesOfUser(userId: string): Promise<string[]>
  /** Give the user's live keys with one of `roles` the role `role` instead (a user's role was lowered). */
  replaceUserKeyRoles(userId: string, roles: readonly string[], role: string): Promise<void>
  /**
   * The user changed department: their keys whose current secret they made themselves go with them
   * to `department` (a grace period still running for a replaced secret ends now); their live keys
   * whose secret someone else made, or an unknown maker, are revoked where they are, as a copy in
   * the maker's hands must not reach the new department as the user. Returns the revoked keys' ids.
   */
  moveUserKeys(userId: string, department: string | null): Promise<string[]>
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
  /** Of the prompt tokens, those written to the provider's prompt cache (priced at `cache_write_input`). */
  readonly cacheWriteTokens?: number
  /** Of the completion tokens, those spent reasoning. */
  readonly reasoningTokens?: number
  readonly costUsd?: number
  /** Tokens were spent on a model without a price: `costUsd` is 0 for want of one, not a free call. */
  readonly unpriced?: boolean
  /** A line of a batch (CallOptions.batch): `costUsd` is at the model's batch rate. */
  readonly batch?: boolean
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
  /** Only requests answered with this status, or with any error (status >= 400). */
  readonly status?: number | 'error'
}

export interface UsageQuery extends UsageScope {
  readonly groupBy?: UsageGroupBy
  /** Buckets aligned to hours or days of `timeZone`. */
  readonly interval?: UsageInterval
  /** The IANA time zone the buckets start in (default UTC). */
  readonly timeZone?: string
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
  /** Requests answered from the gateway's cache (no upstream call, cost 0). */
  readonly cacheHits: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly cachedTokens: number
  readonly cacheWriteTokens: number
  readonly reasoningTokens: number
  readonly totalTokens: number
  readonly costUsd: number
  /** Requests that spent tokens on a model without a price: their cost is not in `costUsd`. */
  readonly unpricedRequests: number
  /** Those requests' models, sorted (the names a `pricing:` entry would need). */
  readonly unpricedModels: readonly string[]
  /**
   * Interpolated (percentile_cont), to the microsecond, over the requests that were answered or
   * went upstream: requests the gateway refused before any upstream call (an error with no attempt:
   * 401, 403, 429, 400) are counted but not timed. Null when the group has none.
   */
  readonly latencyP50Ms: number | null
  readonly latencyP95Ms: number | null
}


// ---------------------------------------------------------------------------------------------
// identity events: how the management API tells the auth strategies' caches that a key or a user changed

export type IdentityEvent =
  | { readonly type: 'key-changed'; readonly keyId: string }
  | { readonly type: 'user-changed'; readonly userId: string }

export interface IdentityEvents {
  emit(event: IdentityEvent): void
  /** Returns the function that unsubscribes. */
  subscribe(listener: (event: IdentityEvent) => void): () => void
}

/** Users and API keys, and the events that tell caches they changed. */
export interface Identity {
  readonly users: UserRepository
  readonly apiKeys: ApiKeyRepository
  readonly events: IdentityEvents
  /** Both repositories in one transaction: committed when `fn` resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: { readonly users: UserRepository; readonly apiKeys: ApiKeyRepository }) => Promise<T>): Promise<T>
}

/** The usage events: written by the usage stage, read by budgets and analytics. */
export interface UsageLog {
  /** Requests, tokens, cost, error rate and latency percentiles per group and bucket, ordered by bucket then group. */
  aggregate(query: UsageQuery): Promise<UsageAggregate[]>
  /**
   * Every bucket `aggregate` can answer for the range, in order, with or without events in it: the
   * start of each hour or day of `timeZone` that overlaps [from, to) (a day of 23 or 25 hours across
   * a DST change is one bucket; an hour repeated when clocks go back is two).
   */
  buckets(range: { readonly from: Date; readonly to: Date; readonly interval: UsageInterval; readonly timeZone?: string }): Promise<Date[]>
  /** Total cost in USD in the scope (for budgets), from the events written so far. */
  totalCostUsd(scope: UsageScope): Promise<number>
  /**
   * Each key's cost in USD in [from, to), and in [since, to) (since within the range), in one read
   * for a list of keys; a key without events is absent. Optional (added after the contract was
   * published): without it, each key's totals are read with `totalCostUsd`.
   */
  costUsdByKey?(keyIds: readonly string[], range: { readonly from: Date; readonly since: Date; readonly to: Date }): Promise<Map<string, { readonly total: number; readonly since: number }>>
  /** The events in the scope, oldest first; `after` (the last event of the previous page) continues from it without counting past the ones before. */
  list(scope: UsageScope & Page & { readonly after?: Pick<UsageEventRecord, 'time' | 'id'> }): Promise<UsageEventRecord[]>
}

// ---------------------------------------------------------------------------------------------
// audit: who changed what through the management API

/** One management action, as the service that did it records it: never a secret, only what names and describes the change. */
export interface AuditEntry {
  /** What was done: `<object>.<verb>`, e.g. `key.create`, `user.update`, `assistant.delete`, `file.upload`, `document.add`. */
  readonly action: string
  /** The caller who did it (the principal the kernel authenticated). */
  readonly actor: { readonly userId: string; readonly keyId?: string; readonly role: string }
  readonly target: { readonly type: string; readonly id: string }
  /** The target's department (who may read the entry besides admins). */
  readonly department?: string | null
  /** What changed: names, prefixes, roles, limits, before and after. */
  readonly details?: JsonObject
  readonly requestId?: string
}

export interface AuditRecord extends AuditEntry {
  readonly id: string
  readonly time: Date
}

export interface AuditQuery extends Page {
  readonly from: Date
  readonly to: Date
  readonly actorUserId?: string
  readonly action?: string
  readonly targetId?: string
  readonly department?: string
}

/** The audit trail: written by the services that change users and keys, read by GET /api/v1/audit. */
export interface AuditLog {
  /** Keep one entry; resolves once it is stored. */
  record(entry: AuditEntry): Promise<void>
  /** Entries in the query's range, newest first. */
  list(query: AuditQuery): Promise<AuditRecord[]>
}

export const Identity: Token<Identity> = token<Identity>('Identity')
export const UsageLog: Token<UsageLog> = token<UsageLog>('UsageLog')
export const AuditLog: Token<AuditLog> = token<AuditLog>('AuditLog')
