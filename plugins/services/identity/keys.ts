/**
 * service.keys, mounted at /api/v1/keys: virtual API keys. Create (the key is in the answer once,
 * then only its prefix), list, get, revoke, rotate. Who may touch a key is the caller's role's
 * data scope: own keys (user), the department's keys (department_admin), all keys (admin). A key
 * never carries more than its creator's role, its owner's role, or its creator key's models.
 */
import type Router from '@koa/router'
import type Koa from 'koa'
import { newApiKey } from '../../../core/data/keys.ts'
import type { ApiKeyRecord, UserRecord } from '../../../core/data/types.ts'
import { GatewayError, badRequest, forbidden, notFound } from '../../../core/errors.ts'
import { envelope } from '../../../core/http/errors.ts'
import { requireReach, type Owner } from '../../../core/pipeline/authorize.ts'
import { ModelScope, Permission, identityEvents } from '../../../core/runtime/access.ts'
import { definePlugin, type Service, type Store } from '../../../core/plugins/types.ts'
import { callerFor, requireStore, type Caller } from './caller.ts'
import {
  bodyOf, nullableString, optionalFutureDate, optionalInteger, optionalNumbers, optionalString, optionalStringList, pageOf, queryBoolean, queryString,
} from './input.ts'
import { keysConfigSchema, type KeysConfig } from './schema.ts'
import { keyStatus, keyView } from './views.ts'

const CREATE_FIELDS = ['name', 'user_id', 'department', 'role', 'allowed_models', 'limits', 'expires_at'] as const
/** Per-key limits and budget, stored for the limits stage. */
const LIMIT_FIELDS = ['requests_per_second', 'requests_per_minute', 'requests_per_hour', 'requests_per_day', 'tokens_per_minute', 'tokens_per_day', 'budget_usd_per_day', 'budget_usd_per_month'] as const
const MAX_GRACE_S = 7 * 24 * 3600
const DAY_MS = 24 * 3600 * 1000
const SHOWN_ONCE = 'Store this key now: it is not shown again.'

export function keysService(store: Store, config: KeysConfig): Service {
  const events = identityEvents(store)

  /** The key `id`, if the caller's scope reaches it (404 / 403 otherwise). */
  async function reachableKey(caller: Caller, id: string): Promise<ApiKeyRecord> {
    const key = await store.apiKeys.get(id)
    if (!key) throw notFound('No such key.', 'key_not_found', 'id')
    requireReach(caller, key, 'key')
    return key
  }

  /** When a new key expires: as asked, within the configured maximum (which is also the default). */
  function expiryOf(asked: Date | undefined): Date | null {
    if (config.max_expiry_days === undefined) return asked ?? null
    const latest = new Date(Date.now() + config.max_expiry_days * DAY_MS)
    if (asked && asked > latest) throw badRequest(`'expires_at' may be at most ${config.max_expiry_days} days ahead.`, 'expires_at')
    return asked ?? latest
  }

  async function create(ctx: Koa.Context): Promise<void> {
    const caller = await callerFor(ctx, Permission.manageKeys)
    const body = await bodyOf(ctx, CREATE_FIELDS)
    const name = optionalString(body, 'name', 100)
    const askedUser = nullableString(body, 'user_id', 64)
    const askedDepartment = optionalString(body, 'department', 64)
    const askedRole = optionalString(body, 'role', 64)
    const askedModels = optionalStringList(body, 'allowed_models')
    const limits = optionalNumbers(body, 'limits', LIMIT_FIELDS)
    const expiresAt = expiryOf(optionalFutureDate(body, 'expires_at'))

    // Whose key: the caller's own by default, a named user's, or nobody's (user_id: null, a service key).
    const owner = askedUser === undefined ? await store.users.get(caller.principal.userId) : askedUser === null ? undefined : await store.users.get(askedUser)
    if (askedUser && !owner) throw notFound('No such user.', 'user_not_found', 'user_id')
    if (owner && askedDepartment !== undefined && askedDepartment !== owner.department) {
      throw badRequest('A key owned by a user is in the user\'s department; leave out `department`.', 'department', 'department_mismatch')
    }
    const department = owner ? owner.department : askedDepartment ?? caller.principal.department ?? null
    if (department !== null && !caller.access.isDepartment(department)) throw badRequest(`No department '${department}' in gateway.yaml.`, 'department', 'unknown_department')
    const scoped: Owner = { userId: owner?.id ?? null, department }
    requireReach(caller, scoped, 'key')

    const role = askedRole ?? owner?.role ?? 'user'
    requireGrantable(caller, role, owner)
    const allowedModels = cappedModels(caller, askedModels)

    const secret = newApiKey(config.key_prefix)
    const key = await store.apiKeys.create({
      keyHash: secret.hash, prefix: secret.prefix, name: name ?? null, userId: owner?.id ?? null, department, role, allowedModels, limits, expiresAt,
    })
    ctx.status = 201
    ctx.body = envelope({ ...keyView(key), key: secret.key }, caller.requestId, SHOWN_ONCE)
  }

  async function list(ctx: Koa.Context): Promise<void> {
    const caller = await callerFor(ctx, Permission.manageKeys)
    const page = pageOf(ctx)
    let userId = queryString(ctx, 'user_id')
    let department = queryString(ctx, 'department')
    // Narrow the filter to the caller's scope; asking outside it is refused, not silently narrowed.
    if (caller.scope === 'own_data') {
      if (userId !== undefined && userId !== caller.principal.userId) throw forbidden('You may only list your own keys.', 'out_of_scope')
      userId = caller.principal.userId
    } else if (caller.scope === 'department_data') {
      if (department !== undefined && department !== caller.principal.department) throw forbidden('You may only list your department\'s keys.', 'out_of_scope')
      department = caller.principal.department
    }
    const keys = await store.apiKeys.list({ userId, department, includeRevoked: queryBoolean(ctx, 'include_revoked'), ...page })
    ctx.body = envelope(keys.map(keyView), caller.requestId, 'ok', { ...page, count: keys.length })
  }

  async function get(ctx: Koa.Context): Promise<void> {
    const caller = await callerFor(ctx, Permission.manageKeys)
    ctx.body = envelope(keyView(await reachableKey(caller, String(ctx.params.id))), caller.requestId)
  }

  async function revoke(ctx: Koa.Context): Promise<void> {
    const caller = await callerFor(ctx, Permission.manageKeys)
    const key = await reachableKey(caller, String(ctx.params.id))
    const revoked = await store.apiKeys.revoke(key.id)
    events.emit({ type: 'key-changed', keyId: key.id })
    const now = (await store.apiKeys.get(key.id)) ?? key
    ctx.body = envelope(keyView(now), caller.requestId, revoked ? 'revoked' : 'already revoked')
  }

  /**
   * A new secret with the same settings. The old key is revoked now, or with `grace_s` it keeps
   * working that long (never longer than it would have), so clients can switch without an outage.
   */
  async function rotate(ctx: Koa.Context): Promise<void> {
    const caller = await callerFor(ctx, Permission.manageKeys)
    const grace = optionalInteger(await bodyOf(ctx, ['grace_s'], true), 'grace_s', 0, MAX_GRACE_S) ?? 0
    const old = await reachableKey(caller, String(ctx.params.id))
    if (keyStatus(old) !== 'active') throw new GatewayError(`This key is ${keyStatus(old)}; create a new one instead.`, { status: 409, code: 'key_not_active', param: 'id' })
    requireGrantable(caller, old.role, undefined)
    // A key limited to some models must not obtain a fresh secret for a key that is not.
    if (caller.principal.allowedModels && old.allowedModels === null) throw forbidden('Your key may not rotate a key that has no model limits.', 'models_not_grantable')
    if (old.allowedModels) cappedModels(caller, old.allowedModels)
    const secret = newApiKey(config.key_prefix)
    const key = await store.transaction(async (tx) => {
      const created = await tx.apiKeys.create({
        keyHash: secret.hash, prefix: secret.prefix, name: old.name, userId: old.userId, department: old.department, role: old.role,
        allowedModels: old.allowedModels, limits: old.limits, expiresAt: old.expiresAt,
      })
      if (grace === 0) await tx.apiKeys.revoke(old.id)
      else await tx.apiKeys.expireBy(old.id, new Date(Date.now() + grace * 1000))
      return created
    })
    events.emit({ type: 'key-changed', keyId: old.id })
    ctx.status = 201
    ctx.body = envelope({ ...keyView(key), key: secret.key, replaces: old.id }, caller.requestId, SHOWN_ONCE)
  }

  return {
    mount(router: Router) {
      router.post('/', create)
      router.get('/', list)
      router.get('/:id', get)
      router.delete('/:id', revoke)
      router.post('/:id/rotate', rotate)
    },
  }
}

// Only ever brings an expiry forward.
/** The role must exist, be one the caller may hand out, and (for a user's key) not exceed the user's role. */
function requireGrantable(caller: Caller, role: string, owner: UserRecord | undefined): void {
  const granted = caller.access.role(role)
  if (!granted) throw badRequest(`No role '${role}' (have: ${caller.access.roleNames().join(', ')}).`, 'role', 'unknown_role')
  if (!caller.mayGrant(role)) throw forbidden(`Your role '${caller.role.name}' may not give out the role '${role}'.`, 'role_not_grantable')
  const ownerRole = owner && caller.access.role(owner.role)
  if (owner && !ownerRole?.covers(granted)) throw badRequest(`The key's role '${role}' would exceed its owner's role.`, 'role', 'role_exceeds_owner')
}

/**
 * A key created with a key that is limited to some models is limited at least as much: its list
 * defaults to the creator's, and each entry must be one the creator's list allows.
 */
function cappedModels(caller: Caller, asked: string[] | undefined): readonly string[] | null {
  const cap = caller.principal.allowedModels
  if (!cap) return asked ?? null
  if (!asked) return cap
  const scope = new ModelScope(cap)
  const outside = asked.find((m) => !scope.matches(m))
  if (outside !== undefined) throw forbidden(`Your key may not give access to '${outside}'.`, 'models_not_grantable')
  return asked
}

export default definePlugin<KeysConfig, Service>({
  id: 'service.keys',
  kind: 'service',
  description: 'Virtual API keys: create (shown once), list, revoke, rotate, within the caller\'s data scope.',
  configSchema: keysConfigSchema,
  setup: (ctx, config) => keysService(requireStore(ctx, 'keys'), config),
})
