/**
 * The sessions people hold (user_sessions). A session's cookie value is 256 random bits; only its
 * sha256 is stored, so a copy of the table signs no one in. A session ends at its absolute expiry,
 * after `idle_timeout_s` without a request, at sign-out, and (for a key session) when its key is
 * revoked or expires, or the secret it was made with stops working (a rotation's grace is over).
 * Resolving asks the store each time, except for a few seconds' cache in this process
 * (`cache_ttl_s`), dropped at once on sign-out here and on identity events.
 *
 * What a session acts as is decided when it is resolved, not only at sign-in: an OIDC session is
 * its user as the store has them now (an admin's role change applies at the next request), a
 * virtual-key session is its key as it is now, a config-key session its key as the config being
 * served has it (a reload that removes the key ends it; service.auth is rebuilt with the api-key
 * strategy, and with it this store and its cache).
 */
import { createHash, randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { type Principal, type SqlClient } from '../../../plugin-api/index.ts'
import type { Identity, IdentityEvent } from '../../contracts/capabilities.ts'
import type { ConfigKeyDirectory } from '../../contracts/config-keys.ts'
import { currentPrincipal } from '../../contracts/principals.ts'
import type { LiveSession } from '../../contracts/sessions.ts'

const STRATEGY = 'auth.session'
/** last_seen_at is written at most this often per session: a busy console costs no write per request. */
const TOUCH_EVERY_MS = 60_000
/** Expired sessions are swept at most this often. */
const SWEEP_EVERY_MS = 3600_000

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex')
export const randomToken = (): string => randomBytes(32).toString('base64url')

interface Row {
  id: string
  method: 'oidc' | 'api_key'
  user_id: string | null
  key_id: string | null
  principal: Principal
  csrf_token: string
  last_seen_at: Date
  expires_at: Date
}

interface Cached {
  readonly session: LiveSession
  readonly id: string
  readonly userId: string | null
  readonly keyId: string | null
  lastSeen: number
}

export interface NewSession {
  readonly method: 'oidc' | 'api_key'
  readonly principal: Principal
  readonly userAgent?: string
  /** A key session ends no later than its key. */
  readonly notAfter?: Date
}

export class SessionStore {
  readonly #sql: SqlClient
  readonly #identity: Identity
  readonly #configKeys: ConfigKeyDirectory
  readonly #ttlMs: number
  readonly #idleMs: number
  readonly #cache: LRUCache<string, Cached> | undefined
  #sweptAt = 0

  /** `configKeys`: the config keys of the config this store serves (NO_CONFIG_KEYS without an api-key strategy). */
  constructor(sql: SqlClient, identity: Identity, configKeys: ConfigKeyDirectory, options: { ttlS: number; idleS: number; cacheTtlS: number }) {
    this.#sql = sql
    this.#identity = identity
    this.#configKeys = configKeys
    this.#ttlMs = options.ttlS * 1000
    this.#idleMs = options.idleS * 1000
    this.#cache = options.cacheTtlS > 0 ? new LRUCache({ max: 10_000, ttl: options.cacheTtlS * 1000, ttlResolution: 0 }) : undefined
  }

  /** A new session: its cookie value (shown to the browser once) and what it resolves to. */
  async create(input: NewSession): Promise<{ token: string; session: LiveSession }> {
    await this.#sweep()
    const token = randomToken()
    const csrfToken = randomToken()
    const expires = new Date(Math.min(Date.now() + this.#ttlMs, input.notAfter?.getTime() ?? Infinity))
    const { principal } = input
    const keyId = input.method === 'api_key' ? principal.keyId ?? null : null
    await this.#sql.query(
      `INSERT INTO user_sessions (token_hash, method, user_id, key_id, principal, csrf_token, user_agent, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [sha256(token), input.method, principal.userId, keyId, JSON.stringify(principal), csrfToken, input.userAgent?.slice(0, 300) ?? null, expires],
    )
    return { token, session: { principal: sessionPrincipal(principal), csrfToken, expiresAt: expires, method: input.method } }
  }

  async resolve(token: string): Promise<LiveSession | undefined> {
    const hash = sha256(token)
    const now = Date.now()
    const cached = this.#cache?.get(hash)
    if (cached && now < cached.session.expiresAt.getTime() && now - cached.lastSeen < this.#idleMs) {
      if (now - cached.lastSeen >= TOUCH_EVERY_MS) {
        cached.lastSeen = now
        await this.#touch(cached.id)
      }
      return cached.session
    }
    const { rows } = await this.#sql.query<Row>(
      'SELECT id, method, user_id, key_id, principal, csrf_token, last_seen_at, expires_at FROM user_sessions WHERE token_hash = $1',
      [hash],
    )
    const row = rows[0]
    if (!row) return undefined
    if (now >= new Date(row.expires_at).getTime() || now - new Date(row.last_seen_at).getTime() >= this.#idleMs) {
      await this.#delete(hash)
      return undefined
    }
    const principal = await this.#currentPrincipal(row)
    if (!principal) {
      await this.#delete(hash)
      return undefined
    }
    const session: LiveSession = { principal, csrfToken: row.csrf_token, expiresAt: new Date(row.expires_at), method: row.method }
    if (now - new Date(row.last_seen_at).getTime() >= TOUCH_EVERY_MS) await this.#touch(row.id)
    this.#cache?.set(hash, { session, id: row.id, userId: row.user_id, keyId: row.key_id, lastSeen: now })
    return session
  }

  /** Sign-out: the session is gone from the store, so no process accepts it again. */
  async revoke(token: string): Promise<void> {
    await this.#delete(sha256(token))
  }

  /** Drop what an identity event made stale (a user's new role, a revoked key). */
  forget(event: IdentityEvent): void {
    if (!this.#cache) return
    for (const [hash, entry] of this.#cache.entries()) {
      if (event.type === 'user-changed' ? entry.userId === event.userId : entry.keyId === event.keyId) this.#cache.delete(hash)
    }
  }

  clear(): void {
    this.#cache?.clear()
  }

  /**
   * The session's principal now, or undefined when what it stands on is gone: an OIDC session's
   * user as the store has them (deleted: gone), a virtual key's session its key (revoked: gone;
   * and it ends with the secret it was made with, a rotation's grace), a config key's its key as
   * gateway.yaml has it now (removed: gone). The rule is currentPrincipal's, the same that long
   * work follows.
   */
  #currentPrincipal(row: Row): Promise<Principal | undefined> {
    return currentPrincipal(this.#identity, sessionPrincipal(row.principal), { sameSecret: true, configKeys: this.#configKeys })
  }

  async #touch(id: string): Promise<void> {
    await this.#sql.query('UPDATE user_sessions SET last_seen_at = now() WHERE id = $1', [id])
  }

  async #delete(hash: string): Promise<void> {
    this.#cache?.delete(hash)
    await this.#sql.query('DELETE FROM user_sessions WHERE token_hash = $1', [hash])
  }

  async #sweep(): Promise<void> {
    if (Date.now() - this.#sweptAt < SWEEP_EVERY_MS) return
    this.#sweptAt = Date.now()
    await this.#sql.query('DELETE FROM user_sessions WHERE expires_at < now()')
  }
}

/** A principal as a session carries it: the same user, role, department and key, authenticated by the session. */
function sessionPrincipal(principal: Principal): Principal {
  return Object.freeze({ ...principal, strategy: STRATEGY })
}
