/**
 * service.keys, mounted at /api/v1/keys: virtual API keys. Create (the key is in the answer once,
 * then only its prefix), list, get, revoke, rotate. Who may touch a key is the caller's role's
 * data scope: own keys (user), the department's keys (department_admin), all keys (admin). A key
 * never carries more than its creator's role, its owner's role, or its creator key's models.
 *
 * A key records who saw its secret: `created_by`, and `rotated_by` for the secret a rotation made.
 * A user changing department takes along only the keys whose secret they made (users.ts).
 */
import { GatewayError, Store, globCovers, badRequest, definePlugin, forbidden, notFound, reply, type AccessView, type Caller, type Owner, type RouteRequest, type RouteSpec, type Service } from '../../../plugin-api/index.ts'
import { listOf, objectSchema } from '../kit/schema.ts'
import { AuditLog, Identity, UsageLog, type ApiKeyRecord, type UserRecord } from '../../contracts/capabilities.ts'
import { auditTo, keyDetails, type Audit } from './audit.ts'
import { newApiKey } from './data/keys.ts'
import { secretMakerOf } from './data/api-keys.ts'
import { isUuid } from '../../store/kit/sql.ts'
import { ID_PARAMS, PAGE_QUERY, optionalFutureDate, optionalString, optionalStringList, nullableString, type Body, type PageQuery } from './input.ts'
import { keysConfigSchema, type KeysConfig } from './schema.ts'
import { CREATED_KEY_SCHEMA, KEY_SCHEMA, KEY_WITH_SPEND_SCHEMA, LISTED_KEY_SCHEMA, keyView, listedKeyView } from './views.ts'
import { keyStatus, type KeyPrincipal } from '../../contracts/principals.ts'

const MANAGE_KEYS = 'manage_keys'
/** Per-key limits and budget, stored for the limits stage. */
const LIMIT_FIELDS = ['requests_per_second', 'requests_per_minute', 'requests_per_hour', 'requests_per_day', 'tokens_per_minute', 'tokens_per_day', 'budget_usd_per_day', 'budget_usd_per_month'] as const
const MAX_GRACE_S = 7 * 24 * 3600
const DAY_MS = 24 * 3600 * 1000
const SHOWN_ONCE = 'Store this key now: it is not shown again.'

const nameList = { type: ['array', 'null'], items: { type: 'string' } }
const CREATE_BODY = objectSchema({
  name: { type: 'string', description: 'A label shown in lists (1–100 characters).' },
  user_id: { type: ['string', 'null'], description: 'The owner (default: the caller; null: a service key).' },
  department: { type: 'string' },
  role: { type: 'string', description: 'Default: the owner\'s role.' },
  allowed_models: { ...nameList, description: 'Models/routes the key may use (globs); absent: whatever its role allows.' },
  limits: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: Object.fromEntries(LIMIT_FIELDS.map((f) => [f, { type: 'number', minimum: 0 }])),
  },
  expires_at: { type: ['string', 'null'], description: 'RFC 3339, in the future.' },
})
const ROTATE_BODY = objectSchema({ grace_s: { type: 'integer', minimum: 0, maximum: MAX_GRACE_S, description: 'How long the old secret keeps working, in seconds (default 0: it stops at once); never past the key\'s expiry.' } })
const LIST_QUERY = objectSchema({ ...PAGE_QUERY, user_id: { type: 'string', minLength: 1 }, department: { type: 'string', minLength: 1 }, include_revoked: { type: 'boolean', default: false } })

export function keysService(identity: Identity, config: KeysConfig, audit: Audit = auditTo(undefined, undefined), usage?: UsageLog): Service {
  const { apiKeys, users, events } = identity

  /** The key `id`, if the caller's scope reaches it (404 / 403 otherwise). */
  async function reachableKey(caller: Caller, id: string): Promise<ApiKeyRecord> {
    const key = await apiKeys.get(id)
    if (!key) throw notFound('No such key.', 'key_not_found', 'id')
    caller.requireReach(key, 'key')
    return key
  }

  /** The caller's own virtual key as stored, read once per request however many rules ask (a management call, not the hot path). */
  const callerKeys = new WeakMap<Caller, Promise<ApiKeyRecord | undefined>>()
  function callerKey(caller: Caller): Promise<ApiKeyRecord | undefined> {
    const keyId = caller.principal.keyId
    if (keyId === undefined || !isUuid(keyId)) return Promise.resolve(undefined)
    let key = callerKeys.get(caller)
    if (!key) callerKeys.set(caller, (key = apiKeys.get(keyId)))
    return key
  }

  /**
   * The person who gets a secret this caller makes (users.id), or null when not known. A user
   * signed in (a token, a console session, a recorded config key) is themselves; a caller using a
   * virtual key is whoever holds that key's secret, not its owner: a key made for alice by her
   * department admin acts as alice, but what it makes is in the admin's hands. A key's previous
   * secret (in a rotation's grace) was someone's before its rotation, who is not recorded.
   */
  async function holderOf(caller: Caller): Promise<string | null> {
    const principal: KeyPrincipal = caller.principal
    if (principal.keyId === undefined || !isUuid(principal.keyId)) return isUuid(principal.userId) ? principal.userId : null
    const key = await callerKey(caller)
    if (!key || (principal.secretPrefix !== undefined && principal.secretPrefix !== key.prefix)) return null
    return secretMakerOf(key)
  }

  /**
   * A key's previous secret (in a rotation's grace) only keeps clients working while they switch:
   * it manages no keys. Else a leaked old secret could rotate the key back into its own hands (the
   * owner's new secret cut off) or mint keys that outlive its grace.
   */
  async function refuseReplacedSecret(caller: Caller): Promise<void> {
    const principal: KeyPrincipal = caller.principal
    if (principal.secretPrefix === undefined) return
    const key = await callerKey(caller)
    if (key && principal.secretPrefix !== key.prefix) {
      throw forbidden('This secret was replaced by a rotation and works only until its grace ends; manage keys with the new secret.', 'secret_replaced')
    }
  }

  /** When a new key expires: as asked, within the configured maximum (which is also the default). */
  function expiryOf(asked: Date | undefined): Date | null {
    if (config.max_expiry_days === undefined) return asked ?? null
    const latest = new Date(Date.now() + config.max_expiry_days * DAY_MS)
    if (asked && asked > latest) throw badRequest(`'expires_at' may be at most ${config.max_expiry_days} days ahead.`, 'expires_at')
    return asked ?? latest
  }

  const create: RouteSpec<Body> = {
    method: 'POST', path: '/', summary: 'Create a key (its secret is in this answer only).', permission: MANAGE_KEYS, body: CREATE_BODY, status: 201, response: CREATED_KEY_SCHEMA,
    async handle(req) {
      const { caller, body, access } = req
      const name = optionalString(body, 'name', 100)
      const askedUser = nullableString(body, 'user_id', 64)
      const askedDepartment = optionalString(body, 'department', 64)
      const askedRole = optionalString(body, 'role', 64)
      const askedModels = optionalStringList(body, 'allowed_models')
      const limits = (body.limits ?? undefined) as Record<string, number> | undefined
      refuseIfKeyLimited(caller)
      await refuseReplacedSecret(caller)
      const expiresAt = await withinCallerExpiry(caller, expiryOf(optionalFutureDate(body, 'expires_at')))

      // Whose key: the caller's own by default, a named user's, or nobody's (user_id: null, a service key).
      const owner = askedUser === undefined ? await users.get(caller.principal.userId) : askedUser === null ? undefined : await users.get(askedUser)
      if (askedUser && !owner) throw notFound('No such user.', 'user_not_found', 'user_id')
      if (owner && askedDepartment !== undefined && askedDepartment !== owner.department) {
        throw badRequest('A key owned by a user is in the user\'s department; leave out `department`.', 'department', 'department_mismatch')
      }
      const department = owner ? owner.department : askedDepartment ?? caller.principal.department ?? null
      if (department !== null && !access.isDepartment(department)) throw badRequest(`No department '${department}' in gateway.yaml.`, 'department', 'unknown_department')
      const scoped: Owner = { userId: owner?.id ?? null, department }
      caller.requireReach(scoped, 'key')

      const role = askedRole ?? owner?.role ?? 'user'
      requireGrantable(caller, access, role, owner)
      const allowedModels = cappedModels(caller, askedModels)

      const secret = newApiKey(config.key_prefix)
      const key = await apiKeys.create({
        keyHash: secret.hash, prefix: secret.prefix, name: name ?? null, userId: owner?.id ?? null, department, role, allowedModels, limits, expiresAt,
        createdBy: await holderOf(caller),
      })
      await audit(req, { action: 'key.create', target: { type: 'key', id: key.id }, department: key.department, details: keyDetails(key) })
      return reply({ ...keyView(key), key: secret.key }, { message: SHOWN_ONCE })
    },
  }

  const list: RouteSpec<unknown, PageQuery & { user_id?: string; department?: string; include_revoked: boolean }> = {
    method: 'GET', path: '/', summary: 'Keys within the caller\'s scope, newest first, each with what it has spent this UTC day and month.', permission: MANAGE_KEYS, query: LIST_QUERY, response: listOf(LISTED_KEY_SCHEMA),
    async handle({ caller, query }) {
      let userId = query.user_id
      let department = query.department
      // Narrow the filter to the caller's scope; asking outside it is refused, not silently narrowed.
      if (caller.scope === 'own_data') {
        if (userId !== undefined && userId !== caller.principal.userId) throw forbidden('You may only list your own keys.', 'out_of_scope')
        userId = caller.principal.userId
      } else if (caller.scope === 'department_data') {
        if (department !== undefined && department !== caller.principal.department) throw forbidden('You may only list your department\'s keys.', 'out_of_scope')
        department = caller.principal.department
      }
      const page = { limit: query.limit, offset: query.offset }
      const keys = await apiKeys.list({ userId, department, includeRevoked: query.include_revoked, ...page })
      const spend = usage ? await spendOf(usage, keys.map((k) => k.id)) : () => null
      return reply(keys.map((k) => ({ ...listedKeyView(k), spend: spend(k.id) })), { meta: { ...page, count: keys.length } })
    },
  }

  const get: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'GET', path: '/:id', summary: 'One key, with what it has spent this UTC day and month (the periods of its budget).', permission: MANAGE_KEYS, params: ID_PARAMS, response: KEY_WITH_SPEND_SCHEMA,
    async handle({ caller, params }) {
      const key = await reachableKey(caller, params.id)
      return { ...keyView(key), spend: usage ? (await spendOf(usage, [key.id]))(key.id) : null }
    },
  }

  const revoke: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'DELETE', path: '/:id', summary: 'Revoke a key (at once in this process, within the auth cache TTL elsewhere).', permission: MANAGE_KEYS, params: ID_PARAMS, response: KEY_SCHEMA,
    async handle(req: RouteRequest<unknown, unknown, { id: string }>) {
      const { caller, params, access } = req
      const key = await reachableKey(caller, params.id)
      await refuseReplacedSecret(caller)
      // As for rotating or changing a user: not a key of a role above the caller's (a department
      // admin cutting off an administrator). A role since removed from gateway.yaml does not block.
      if (access.hasRole(key.role) && !caller.mayGrant(key.role)) throw forbidden(`Your role '${caller.role.name}' may not revoke a key of the role '${key.role}'.`, 'role_not_grantable')
      const revoked = await apiKeys.revoke(key.id)
      events.emit({ type: 'key-changed', keyId: key.id })
      const now = (await apiKeys.get(key.id)) ?? key
      if (revoked) await audit(req, { action: 'key.revoke', target: { type: 'key', id: key.id }, department: key.department, details: keyDetails(now) })
      return reply(keyView(now), { message: revoked ? 'revoked' : 'already revoked' })
    },
  }

  /**
   * A new secret for the same key, in place: its id stays, and with it everything counted by the id
   * (rate buckets, budget, cache scope, usage history) and every setting. The old secret stops
   * working now, or with `grace_s` keeps working that long (never past the key's own expiry), so
   * clients can switch without an outage. Only one old secret is kept: rotating again ends the
   * grace of the one before. `replaces` (the key's own id now) stays for clients that read it.
   */
  const rotate: RouteSpec<{ grace_s?: number }, unknown, { id: string }> = {
    method: 'POST', path: '/:id/rotate', summary: 'A new secret for the same key (same id, settings, limits and usage); the old secret stops working now, or after grace_s.', permission: MANAGE_KEYS,
    body: ROTATE_BODY, params: ID_PARAMS, status: 201, response: CREATED_KEY_SCHEMA,
    async handle(req: RouteRequest<{ grace_s?: number }, unknown, { id: string }>) {
      const { caller, body, params, access } = req
      const grace = body?.grace_s ?? 0
      const old = await reachableKey(caller, params.id)
      await refuseReplacedSecret(caller)
      if (keyStatus(old) !== 'active') throw new GatewayError(`This key is ${keyStatus(old)}; create a new one instead.`, { status: 409, code: 'key_not_active', param: 'id' })
      requireGrantable(caller, access, old.role, undefined)
      // A key limited to some models must not obtain a fresh secret for a key that is not.
      if (caller.principal.allowedModels && old.allowedModels === null) throw forbidden('Your key may not rotate a key that has no model limits.', 'models_not_grantable')
      if (old.allowedModels) cappedModels(caller, old.allowedModels)
      // Its own secret keeps its id, and so its buckets: a key with limits may rotate itself. A
      // secret for another key would be a credential its limits do not bind.
      if (old.id !== caller.principal.keyId) {
        refuseIfKeyLimited(caller)
        await withinCallerExpiry(caller, old.expiresAt, 'rotate')
      }
      const secret = newApiKey(config.key_prefix)
      const graceEnds = Math.min(Date.now() + grace * 1000, old.expiresAt?.getTime() ?? Infinity)
      // The new secret is the caller's: if they are not the owner, the key no longer follows its
      // owner to another department (it is revoked there instead).
      const key = await apiKeys.rotate(old.id, { keyHash: secret.hash, prefix: secret.prefix }, new Date(graceEnds), await holderOf(caller))
      // Revoked or expired since it was read.
      if (!key) throw new GatewayError('This key is no longer active; create a new one instead.', { status: 409, code: 'key_not_active', param: 'id' })
      // Drops both secrets from the auth cache: the old one is looked up again, with its grace.
      events.emit({ type: 'key-changed', keyId: key.id })
      await audit(req, {
        action: 'key.rotate', target: { type: 'key', id: key.id }, department: key.department,
        details: { ...keyDetails(key), previous_prefix: key.previousPrefix, grace_s: grace, previous_expires_at: key.previousExpiresAt?.toISOString() ?? null },
      })
      return reply({ ...keyView(key), key: secret.key, replaces: key.id }, { message: grace > 0 ? `${SHOWN_ONCE} The previous secret works until ${key.previousExpiresAt!.toISOString()}.` : SHOWN_ONCE })
    },
  }

  /**
   * A key made (or rotated) with a key that expires expires no later: its expiry defaults to the
   * creator's, and a later one is refused, so a short-lived key cannot outlive itself by a copy.
   */
  async function withinCallerExpiry(caller: Caller, asked: Date | null, action: 'create' | 'rotate' = 'create'): Promise<Date | null> {
    const own = (await callerKey(caller))?.expiresAt ?? null
    if (!own) return asked
    if (asked === null && action === 'create') return own
    if (asked === null || asked > own) {
      throw forbidden(`Your key expires at ${own.toISOString()}; it may not ${action} a key that outlives it.`, 'expiry_not_grantable')
    }
    return asked
  }

  return { routes: [create, list, get, revoke, rotate] }
}

/**
 * A key's own limits (requests, tokens, budget) bound that key alone, counted by its id: a key it
 * created, or a fresh secret for another key, would not be bound by them, so a key with limits
 * could multiply or shed them. It makes none and rotates no other key (its own secret, rotated in
 * place, keeps its id and buckets); a person signs in, or an administrator does.
 */
function refuseIfKeyLimited(caller: Caller): void {
  const limits = caller.principal.limits
  if (!limits || Object.keys(limits).length === 0) return
  throw forbidden(`Your key has limits of its own (${Object.keys(limits).join(', ')}), which would not bind the keys it made: use a credential without per-key limits.`, 'key_limits_not_grantable')
}

/** The role must exist, be one the caller may hand out, and (for a user's key) not exceed the user's role. */
function requireGrantable(caller: Caller, access: AccessView, role: string, owner: UserRecord | undefined): void {
  if (!access.hasRole(role)) throw badRequest(`No role '${role}' (have: ${access.roleNames().join(', ')}).`, 'role', 'unknown_role')
  if (!caller.mayGrant(role)) throw forbidden(`Your role '${caller.role.name}' may not give out the role '${role}'.`, 'role_not_grantable')
  if (owner && !access.roleCovers(owner.role, role)) throw badRequest(`The key's role '${role}' would exceed its owner's role.`, 'role', 'role_exceeds_owner')
}

/**
 * A key created with a key that is limited to some models is limited at least as much: its list
 * defaults to the creator's, and each entry (a name or a glob) must be within the creator's list.
 */
function cappedModels(caller: Caller, asked: string[] | undefined): readonly string[] | null {
  const cap = caller.principal.allowedModels
  if (!cap) return asked ?? null
  if (!asked) return cap
  const outside = asked.find((m) => !cap.some((c) => globCovers(c, m)))
  if (outside !== undefined) throw forbidden(`Your key may not give access to '${outside}'.`, 'models_not_grantable')
  return asked
}

/** What a key has spent in its budget's periods, as the API shows it. */
type KeySpend = { day_usd: number; month_usd: number; day_started_at: Date; month_started_at: Date }

/**
 * What each of `keyIds` has spent, as its usage events record it, this UTC day and calendar month:
 * the periods its `budget_usd_per_day` / `budget_usd_per_month` run on (what a 402 budget_exceeded
 * counts). One read for all of them, so a list of 500 keys costs what one key does.
 */
async function spendOf(usage: UsageLog, keyIds: readonly string[]): Promise<(keyId: string) => KeySpend> {
  const now = new Date()
  const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()))
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))
  // A request's event is timed at its start: one still running started before now.
  const range = { from: month, since: day, to: new Date(now.getTime() + 1) }
  const spent = usage.costUsdByKey ? await usage.costUsdByKey(keyIds, range) : new Map(await Promise.all(keyIds.map(async (keyId) => {
    const [total, since] = await Promise.all([usage.totalCostUsd({ keyId, from: range.from, to: range.to }), usage.totalCostUsd({ keyId, from: range.since, to: range.to })])
    return [keyId, { total, since }] as const
  })))
  return (keyId) => ({ day_usd: spent.get(keyId)?.since ?? 0, month_usd: spent.get(keyId)?.total ?? 0, day_started_at: day, month_started_at: month })
}

export default definePlugin<KeysConfig, Service>({
  id: 'service.keys',
  kind: 'service',
  description: 'Virtual API keys: create (shown once), list, revoke, rotate, within the caller\'s data scope.',
  configSchema: keysConfigSchema,
  needs: [Store],
  uses: [Identity, AuditLog, UsageLog],
  setup(ctx, config) {
    const identity = ctx.tryGet(Identity)
    if (!identity) throw new Error('keys are kept in the store: add `store:` to gateway.yaml (e.g. store: { plugin: embedded })')
    return keysService(identity, config, auditTo(ctx.tryGet(AuditLog), ctx.logger), ctx.tryGet(UsageLog))
  },
})
