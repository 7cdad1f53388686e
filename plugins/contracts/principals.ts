/**
 * Principals from what the store records, one way for every plugin that makes them: a user (as a
 * token or a console sign-in names them) and a virtual API key. A strategy passes its own id.
 */
import type { Principal } from '../../plugin-api/index.ts'
import type { ApiKeyRecord, Identity, JsonObject, UserRecord } from './capabilities.ts'
import { isConfigKeyId, type ConfigKeyDirectory } from './config-keys.ts'
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
 * A key's principal, which also says which of the key's secrets it was made with (a virtual key's
 * visible start; a config key's fingerprint, see plugins/auth/api-key/config-keys.ts): a rotated
 * key has two for a while, and what one of them was traded for (a console session) ends when that
 * secret stops working, not with the key.
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
 * batch's lines, a background response, a RAG ingest, a training job), or undefined once what it
 * stands on is withdrawn, so that withdrawing it stops what it started:
 * - a virtual key (keyId a uuid): rebuilt from its record (role, department, models and limits as
 *   they are now); undefined once the key is revoked, expired or gone. Rotating it does not stop
 *   it (the key is the same), except with `sameSecret` (a console session, which stands in for the
 *   secret it was traded for): then also undefined once that secret stops working;
 * - a recorded user (no key, userId a uuid: the store's id for the user a token or a console
 *   sign-in names): their role and department as the store has them now; undefined once the user
 *   is deleted. The store holds all such a principal is made of: the jwt strategy and the console
 *   sign-in write what the claims say (role, department, name, email) and read the rest from it;
 * - a config key (keyId `config:<name>`), given `configKeys` (the config being served's): the key
 *   as gateway.yaml has it now (role, department, models; its user's store id once recorded),
 *   found by its fingerprint (`secretPrefix`); undefined once it is removed, or its strategy is.
 *   With `sameSecret`, a principal recorded without a fingerprint is undefined too. Without
 *   `configKeys`, as recorded;
 * - any other principal (a token's without a store; another strategy's): as recorded, since the
 *   store holds nothing that could withdraw it.
 * `strategy` is kept: it says who authenticated the work, not what it is now.
 */
export async function currentPrincipal(
  identity: Identity, principal: KeyPrincipal, options: { readonly sameSecret?: boolean; readonly configKeys?: ConfigKeyDirectory } = {},
): Promise<Principal | undefined> {
  switch (recordedAs(principal)) {
    case 'config': {
      const { configKeys } = options
      if (!configKeys) return principal
      if (options.sameSecret && principal.secretPrefix === undefined) return undefined
      const now = await configKeys.principal(principal.keyId!, principal.secretPrefix)
      return now && Object.freeze({ ...now, strategy: principal.strategy })
    }
    case 'key': {
      const key = await identity.apiKeys.get(principal.keyId!)
      if (!key || keyStatus(key) !== 'active') return undefined
      if (!options.sameSecret) return keyPrincipal(key, principal.strategy)
      const secret = secretNow(key, principal.secretPrefix)
      return secret && keyPrincipal(key, principal.strategy, secret)
    }
    case 'user': {
      const user = await identity.users.get(principal.userId)
      return user ? userPrincipal(user, principal.strategy) : undefined
    }
    default: return principal
  }
}

/** Why currentPrincipal withdrew `principal`: a code and a sentence for what the stopped work says. */
export function withdrawal(principal: Principal): { readonly code: 'key_revoked' | 'user_deleted'; readonly reason: string } {
  switch (recordedAs(principal)) {
    case 'key': return { code: 'key_revoked', reason: 'the API key that started it was revoked, has expired or was deleted with its user' }
    case 'config': return { code: 'key_revoked', reason: 'the API key that started it was removed from gateway.yaml' }
    default: return { code: 'user_deleted', reason: 'the user who started it was deleted' }
  }
}

/** Where a principal is kept: its virtual key or its user in the store, its config key in gateway.yaml, or nowhere. */
function recordedAs(principal: Principal): 'key' | 'user' | 'config' | undefined {
  if (isConfigKeyId(principal.keyId)) return 'config'
  if (principal.keyId !== undefined) return isUuid(principal.keyId) ? 'key' : undefined
  return isUuid(principal.userId) ? 'user' : undefined
}

/**
 * Which of the key's secrets the one starting `prefix` is now, or undefined once it no longer
 * works (replaced, and its grace over or a later rotation dropped it). A principal recorded before
 * secrets were told apart (no prefix) ends at the key's first rotation in place: which secret it
 * was made with is not known, and after a second rotation "previous" would be another one.
 */
function secretNow(key: ApiKeyRecord, prefix: string | undefined, now = Date.now()): KeySecret | undefined {
  const previousWorks = key.previousExpiresAt !== null && now < key.previousExpiresAt.getTime()
  if (prefix === undefined) return key.previousExpiresAt === null ? 'current' : undefined
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
