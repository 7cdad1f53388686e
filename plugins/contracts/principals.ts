/**
 * Principals from what the store records, one way for every plugin that makes them: a user (as a
 * token or a console sign-in names them) and a virtual API key. A strategy passes its own id.
 */
import type { Principal } from '../../plugin-api/index.ts'
import type { ApiKeyRecord, Identity, JsonObject, UserRecord } from './capabilities.ts'
import { isUuid } from '../store/kit/sql.ts'

/** A recorded user: their role and department as the store has them now. */
export function userPrincipal(user: UserRecord, strategy: string): Principal {
  return Object.freeze({
    userId: user.id,
    role: user.role,
    strategy,
    ...(user.department !== null ? { department: user.department } : {}),
    ...(user.name !== null ? { name: user.name } : {}),
    ...(user.email !== null ? { email: user.email } : {}),
  })
}

/**
 * A virtual key's principal, which also says which of the key's secrets it was made with (its
 * visible start): a rotated key has two for a while, and what one of them was traded for (a
 * console session) ends when that secret stops working, not with the key.
 */
export type KeyPrincipal = Principal & { readonly secretPrefix?: string }

/** The key's secrets: the current one, or the one its last rotation replaced. */
export type KeySecret = 'current' | 'previous'

/** A virtual key: its owner (or itself, for a service key), role, department, models and limits. */
export function keyPrincipal(record: ApiKeyRecord, strategy: string, secret: KeySecret = 'current'): KeyPrincipal {
  const limits = numbersOf(record.limits)
  const secretPrefix = secret === 'current' ? record.prefix : record.previousPrefix
  return Object.freeze({
    // A key without an owner (a service key) acts as itself.
    userId: record.userId ?? `key:${record.id}`,
    role: record.role,
    keyId: record.id,
    strategy,
    ...(secretPrefix !== null ? { secretPrefix } : {}),
    ...(limits ? { limits } : {}),
    ...(record.department !== null ? { department: record.department } : {}),
    ...(record.allowedModels ? { allowedModels: Object.freeze([...record.allowedModels]) } : {}),
  })
}

/**
 * A principal recorded earlier, as it stands now, for work that goes on after its request (a
 * batch's lines): a virtual key's rebuilt from its record (role, department, models and limits as
 * they are now), or undefined once the key is revoked, expired or gone, so revoking a key stops
 * what it started; rotating it does not (the key is the same). With `sameSecret` (a console
 * session, which stands in for the secret it was traded for), also undefined once the secret it
 * was made with stops working. Other principals (a config key, a token) as recorded: the store
 * holds nothing that could withdraw them.
 */
export async function currentPrincipal(identity: Identity, principal: KeyPrincipal, options: { readonly sameSecret?: boolean } = {}): Promise<Principal | undefined> {
  if (!principal.keyId || !isUuid(principal.keyId)) return principal
  const key = await identity.apiKeys.get(principal.keyId)
  if (!key || keyStatus(key) !== 'active') return undefined
  if (!options.sameSecret) return keyPrincipal(key, principal.strategy)
  const secret = secretNow(key, principal.secretPrefix)
  return secret && keyPrincipal(key, principal.strategy, secret)
}

/**
 * Which of the key's secrets the one starting `prefix` is now, or undefined once it no longer
 * works (replaced, and its grace over or a later rotation dropped it). A principal recorded before
 * secrets were told apart (no prefix) was made with the secret current before the key's first
 * rotation in place.
 */
function secretNow(key: ApiKeyRecord, prefix: string | undefined, now = Date.now()): KeySecret | undefined {
  const previousWorks = key.previousExpiresAt !== null && now < key.previousExpiresAt.getTime()
  if (prefix === undefined) return key.previousExpiresAt === null ? 'current' : previousWorks ? 'previous' : undefined
  if (prefix === key.prefix) return 'current'
  return prefix === key.previousPrefix && previousWorks ? 'previous' : undefined
}

export type KeyStatus = 'active' | 'revoked' | 'expired'

/** Whether a stored key still works: one rule for the management API's views and for work a key started. */
export function keyStatus(record: ApiKeyRecord, now = Date.now()): KeyStatus {
  if (record.revokedAt) return 'revoked'
  return record.expiresAt && record.expiresAt.getTime() <= now ? 'expired' : 'active'
}

/** The key's limits and budget (the keys service stores numbers only), or undefined when it has none. */
function numbersOf(limits: JsonObject): Readonly<Record<string, number>> | undefined {
  const entries = Object.entries(limits).filter((e): e is [string, number] => typeof e[1] === 'number')
  return entries.length ? Object.freeze(Object.fromEntries(entries)) : undefined
}
