/**
 * Keys defined in gateway.yaml. A presented key's sha256 is compared with every configured key's
 * with timingSafeEqual, without stopping at a match: the time taken says nothing about how much
 * of a key was right, nor which key matched.
 *
 * With a store, the key's user is recorded in `users` (as `config:<user>`) the first time the key
 * is used, so its principal carries a user id the management API can own records by. Without a
 * store, or while a store is down (which never locks the bootstrap keys out), the user id is that
 * subject, `config:<user>`: a namespace no token's subject may enter (claims.ts refuses it), so a
 * key's per-user limits and cache are never a token user's of the same name.
 *
 * A key's principal carries a fingerprint of the key (`secretPrefix`: 12 hex digits of the sha256
 * of its sha256), which tells apart keys that share a keyId (an old and a new key for one user):
 * what one of them started (a console session) is found again by it in the config as it is now
 * (`principal`), and ends once that key is removed, even while the other stays.
 */
import { timingSafeEqual } from 'node:crypto'
import type { Logger } from 'pino'
import { CONFIG_KEY_SUBJECT_PREFIX, type UserRepository } from '../../contracts/capabilities.ts'
import { CONFIG_KEY_ID_PREFIX, type ConfigKeyDirectory } from '../../contracts/config-keys.ts'
import type { KeyPrincipal } from '../../contracts/principals.ts'
import type { Principal } from '../../../plugin-api/index.ts'
import { digestBytes, sha256Hex } from './hash.ts'
import type { ConfigKey } from './schema.ts'

const STRATEGY = 'auth.api-key'
/** After a failed attempt to record the user, wait this long before the next. */
const RETRY_MS = 30_000

interface Entry {
  readonly hash: Buffer
  readonly subject: string
  principal: KeyPrincipal
  /** Whether `principal.userId` is the stored user's id. */
  recorded: boolean
  retryAt: number
  pending: Promise<Principal> | undefined
}

export class ConfigKeys implements ConfigKeyDirectory {
  readonly #entries: Entry[]
  readonly #users: UserRepository | undefined
  readonly #logger: Logger

  constructor(keys: readonly ConfigKey[], users: UserRepository | undefined, logger: Logger) {
    this.#users = users
    this.#logger = logger
    const seen = new Map<string, number>()
    this.#entries = keys.map((k, i) => {
      const hex = sha256Hex(k.key)
      const repeated = seen.get(hex)
      if (repeated !== undefined) throw new Error(`keys[${i}] is the same key as keys[${repeated}]`)
      seen.set(hex, i)
      const subject = `${CONFIG_KEY_SUBJECT_PREFIX}${k.user}`
      return {
        hash: digestBytes(hex),
        subject,
        principal: Object.freeze({
          userId: subject,
          role: k.role,
          strategy: STRATEGY,
          keyId: `${CONFIG_KEY_ID_PREFIX}${k.name ?? k.user}`,
          secretPrefix: sha256Hex(hex).slice(0, 12),
          name: k.user,
          ...(k.department !== undefined ? { department: k.department } : {}),
          ...(k.allowed_models ? { allowedModels: Object.freeze([...k.allowed_models]) } : {}),
        }),
        recorded: users === undefined,
        retryAt: 0,
        pending: undefined,
      }
    })
  }

  get size(): number {
    return this.#entries.length
  }

  /**
   * The principal of the configured key with this sha256 (hex), or undefined. Constant time in the
   * key. Synchronous once the user is recorded, so the hot path makes no promise of its own.
   */
  match(hex: string): Principal | Promise<Principal> | undefined {
    const hash = digestBytes(hex)
    let found: Entry | undefined
    for (const entry of this.#entries) {
      if (timingSafeEqual(entry.hash, hash) && !found) found = entry
    }
    return found && this.#principalOf(found)
  }

  /** The configured key with this keyId and fingerprint (ConfigKeyDirectory): what a session made with it acts as now. */
  principal(keyId: string, secret: string | undefined): Principal | Promise<Principal> | undefined {
    const same = this.#entries.filter((e) => e.principal.keyId === keyId && (secret === undefined || e.principal.secretPrefix === secret))
    return same.length === 1 ? this.#principalOf(same[0]!) : undefined
  }

  #principalOf(entry: Entry): Principal | Promise<Principal> {
    if (entry.recorded || Date.now() < entry.retryAt) return entry.principal
    entry.pending ??= this.#record(entry).finally(() => { entry.pending = undefined })
    return entry.pending
  }

  async #record(entry: Entry): Promise<Principal> {
    const p = entry.principal
    try {
      const user = await this.#users!.upsertBySubject({ externalSubject: entry.subject, name: p.name, role: p.role, department: p.department ?? null })
      entry.principal = Object.freeze({ ...p, userId: user.id })
      entry.recorded = true
    } catch (err) {
      entry.retryAt = Date.now() + RETRY_MS
      this.#logger.warn({ key: p.keyId, err: (err as Error).message }, 'could not record a config key\'s user in the store; acting as config:<user> for now')
    }
    return entry.principal
  }
}
