/**
 * From a token's identity to the principal. Without a store the claims are the whole story (role
 * `user` when the token names none). With a store the user is recorded on first sight (upserted by
 * subject): what the token says wins and is written, what it does not say (a role or department an
 * admin set with /api/v1/users) comes from the stored user. Results are cached per identity, so a
 * user's steady stream of requests costs no writes.
 */
import { LRUCache } from 'lru-cache'
import { GatewayError } from '../../../plugin-api/index.ts'
import type { UserRepository } from '../../contracts/capabilities.ts'
import type { Principal } from '../../../plugin-api/index.ts'
import { recordUser, type ClaimIdentity } from '../../contracts/claims.ts'
import { userPrincipal } from '../../contracts/principals.ts'

const STRATEGY = 'auth.jwt'
const DEFAULT_ROLE = 'user'

export class JwtPrincipals {
  readonly #users: UserRepository | undefined
  readonly #cache: LRUCache<string, Principal, ClaimIdentity>

  constructor(users: UserRepository | undefined, options: { ttlMs: number; max: number }) {
    this.#users = users
    this.#cache = new LRUCache<string, Principal, ClaimIdentity>({
      max: options.max,
      ttl: Math.max(options.ttlMs, 1000),
      // Read the clock on each lookup: the default (1 ms) caches it behind a timer, a setTimeout per request.
      ttlResolution: 0,
      fetchMethod: (_key, _stale, { context }) => this.#record(context),
    })
  }

  async principalOf(identity: ClaimIdentity): Promise<Principal> {
    if (!this.#users) return fromClaims(identity)
    const key = JSON.stringify([identity.subject, identity.role, identity.department, identity.name, identity.email])
    try {
      return (await this.#cache.fetch(key, { context: identity }))!
    } catch (err) {
      if (err instanceof GatewayError && err.status < 500) throw err
      throw new GatewayError('Users cannot be recorded right now; try again shortly.', { status: 503, code: 'auth_unavailable', cause: err })
    }
  }

  /** Forget what is cached for a user whose role or department was changed. */
  forgetUser(userId: string): void {
    for (const [key, principal] of this.#cache.entries()) if (principal.userId === userId) this.#cache.delete(key)
  }

  clear(): void {
    this.#cache.clear()
  }

  async #record(identity: ClaimIdentity): Promise<Principal> {
    return userPrincipal(await recordUser(this.#users!, identity), STRATEGY)
  }
}

function fromClaims(identity: ClaimIdentity): Principal {
  return Object.freeze({
    userId: identity.subject,
    role: identity.role ?? DEFAULT_ROLE,
    strategy: STRATEGY,
    ...(identity.department !== undefined ? { department: identity.department } : {}),
    ...(identity.name !== undefined ? { name: identity.name } : {}),
    ...(identity.email !== undefined ? { email: identity.email } : {}),
  })
}
