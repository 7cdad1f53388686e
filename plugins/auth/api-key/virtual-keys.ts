/**
 * Virtual keys: the ones the management API makes and the store keeps (hashed). A lookup is one
 * index probe by hash, cached in memory for `cache_ttl_s` (unknown and revoked keys too, so a
 * client retrying with a bad key does not cost a query per request). The management API's
 * identity events drop a revoked key, or a changed user's keys, from the cache at once; other
 * processes see the change when their entry expires.
 *
 * A key in use is looked up again in the background during the last fifth of its entry's time, so
 * under steady traffic its requests never wait for the store (they did, every `cache_ttl_s`, for
 * one round trip, and all of that moment's requests with them). The entry is trusted no longer
 * than before: a refresh that fails leaves it to expire as it would have, and is not tried again
 * for it (no query per request against a store that is down).
 *
 * A rotated key has two secrets for one id while its grace period lasts. The one it replaced is
 * cached like the key, with the end of its grace checked on every request (as a key's expiry is),
 * so the entry never outlives it; the rotation's identity event drops both at once.
 */
import { LRUCache } from 'lru-cache'
import type { Logger } from 'pino'
import { GatewayError, ThrottledLog, unauthorized } from '../../../plugin-api/index.ts'
import { keyPrincipal } from '../../contracts/principals.ts'
import type { Principal } from '../../../plugin-api/index.ts'
import type { ApiKeyRepository } from '../../contracts/capabilities.ts'
import type { IdentityEvent } from '../../contracts/capabilities.ts'

const STRATEGY = 'auth.api-key'
/** The store writes last_used_at at most once a minute; asking more often would only cost a query. */
const TOUCH_EVERY_MS = 60_000
/** The part of an entry's time, at its end, in which a request refreshes it in the background. */
const REFRESH_AHEAD_FRACTION = 0.2

type Lookup =
  | {
    readonly status: 'active'
    readonly principal: Principal
    readonly expiresAt: number | null
    /** For the secret a rotation replaced: when its grace period ends. */
    readonly replacedAt: number | null
    touchedAt: number
  }
  | { readonly status: 'revoked'; readonly keyId: string; readonly userId: string | null }
  /** A secret a rotation replaced, past its grace period. */
  | { readonly status: 'rotated'; readonly keyId: string; readonly userId: string | null }
  | { readonly status: 'unknown' }

const UNKNOWN: Lookup = Object.freeze({ status: 'unknown' })

export class VirtualKeys {
  readonly #keys: ApiKeyRepository
  readonly #logger: Logger
  /** A store outage fails every uncached key's request: one line a minute says it. */
  readonly #failures = new ThrottledLog()
  readonly #cache: LRUCache<string, Lookup>
  readonly #refreshAheadMs: number
  /** Active entries a refresh was started for: one try each (a refreshed entry is a new object). */
  readonly #refreshed = new WeakSet<Lookup>()
  /** Counts identity events: a first lookup that overlapped one is made again, once. */
  #epoch = 0

  /** `clock`: the entries' time (performance.now() unless a test sets it). */
  constructor(keys: ApiKeyRepository, options: { ttlMs: number; max: number; clock?: { now(): number } }, logger: Logger) {
    this.#keys = keys
    this.#logger = logger
    this.#refreshAheadMs = options.ttlMs * REFRESH_AHEAD_FRACTION
    this.#cache = new LRUCache<string, Lookup>({
      max: options.max,
      ttl: options.ttlMs,
      perf: options.clock,
      // Read the clock on each lookup: the default (1 ms) caches it behind a timer, a setTimeout per request.
      ttlResolution: 0,
      // Concurrent requests with the same uncached key share one query.
      fetchMethod: (hash) => this.#load(hash),
    })
  }

  /**
   * The principal of the key with this hash (sha256, hex); a 401 for an unknown, revoked or expired
   * key. A cached key is answered synchronously: the hot path makes no promise of its own.
   */
  authenticate(hash: string): Principal | Promise<Principal> {
    const cached = this.#cache.get(hash)
    if (!cached) return this.#fetch(hash).then((lookup) => this.#check(lookup))
    if (cached.status === 'active' && !this.#refreshed.has(cached) && this.#cache.getRemainingTTL(hash) <= this.#refreshAheadMs) this.#refresh(hash, cached)
    return this.#check(cached)
  }

  /** Look the key up again while its entry still answers; the entry stays as it was if that fails. */
  #refresh(hash: string, entry: Lookup): void {
    this.#refreshed.add(entry)
    this.#cache.fetch(hash, { forceRefresh: true, noDeleteOnFetchRejection: true }).catch((err: Error) => {
      // Gone: an identity event dropped the entry (and so this refresh) meanwhile.
      if (!this.#cache.has(hash)) return
      this.#failures.note('refresh', (times) => this.#logger.warn({ err: err.message, times }, 'API key refresh failed; the cached entry is used until it expires (said at most once a minute)'))
    })
  }

  #check(lookup: Lookup): Principal {
    if (lookup.status === 'unknown') throw unauthorized('Invalid API key.', 'invalid_api_key')
    if (lookup.status === 'revoked') throw unauthorized('This API key has been revoked.', 'key_revoked')
    if (lookup.status === 'rotated') throw rotatedOut()
    const now = Date.now()
    if (lookup.expiresAt !== null && now >= lookup.expiresAt) {
      throw unauthorized(`This API key expired at ${new Date(lookup.expiresAt).toISOString()}.`, 'key_expired')
    }
    if (lookup.replacedAt !== null && now >= lookup.replacedAt) throw rotatedOut()
    if (now - lookup.touchedAt >= TOUCH_EVERY_MS) {
      lookup.touchedAt = now
      const keyId = lookup.principal.keyId!
      this.#keys.touchLastUsed(keyId).catch((err: Error) => this.#logger.debug({ keyId, err: err.message }, 'could not record a key\'s last use'))
    }
    return lookup.principal
  }

  /**
   * Drop what an identity event made stale. An entry being refreshed is dropped with its refresh
   * (whose read may predate the change); a first lookup still in flight is made again (#fetch).
   */
  forget(event: IdentityEvent): void {
    this.#epoch++
    const stale: string[] = []
    // forEach, not entries(): entries() skips an entry whose refresh is in flight.
    this.#cache.forEach((lookup, hash) => {
      const ids = lookup.status === 'active' ? { keyId: lookup.principal.keyId, userId: lookup.principal.userId }
        : lookup.status === 'unknown' ? undefined : { keyId: lookup.keyId, userId: lookup.userId }
      if (ids && (event.type === 'key-changed' ? ids.keyId === event.keyId : ids.userId === event.userId)) stale.push(hash)
    })
    for (const hash of stale) this.#cache.delete(hash)
  }

  clear(): void {
    this.#cache.clear()
  }

  async #fetch(hash: string): Promise<Lookup> {
    try {
      const epoch = this.#epoch
      const lookup = await this.#cache.fetch(hash)
      // An identity event came while the store was read (forget() cannot see a first lookup in
      // flight): the read may predate it, so it is made again, once.
      if (epoch !== this.#epoch) return (await this.#cache.fetch(hash, { forceRefresh: true })) ?? UNKNOWN
      return lookup ?? UNKNOWN
    } catch (err) {
      if (err instanceof GatewayError) throw err
      this.#failures.note('lookup', (times) => this.#logger.error({ err: (err as Error).message, times }, 'API key lookup failed: requests with uncached keys are answered 503 auth_unavailable (said at most once a minute)'))
      throw new GatewayError('API keys cannot be checked right now; try again shortly.', { status: 503, code: 'auth_unavailable', cause: err, logged: true })
    }
  }

  async #load(hash: string): Promise<Lookup> {
    const record = await this.#keys.findByHash(hash)
    if (!record) return UNKNOWN
    if (record.revokedAt) return { status: 'revoked', keyId: record.id, userId: record.userId }
    const replacedAt = record.secret === 'previous' ? record.previousExpiresAt?.getTime() ?? 0 : null
    // A replaced secret past its grace never works again: cached as such, like a revoked key.
    if (replacedAt !== null && Date.now() >= replacedAt) return { status: 'rotated', keyId: record.id, userId: record.userId }
    return { status: 'active', principal: keyPrincipal(record, STRATEGY, record.secret), expiresAt: record.expiresAt?.getTime() ?? null, replacedAt, touchedAt: record.lastUsedAt?.getTime() ?? 0 }
  }
}

const rotatedOut = (): GatewayError => unauthorized('This API key was replaced by a rotation; use its new secret.', 'key_rotated')
