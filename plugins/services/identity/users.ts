/**
 * service.users, mounted at /api/v1/users: the people the gateway knows (recorded on first sight
 * by the auth strategies). List and read them within the caller's data scope, set a role or a
 * department; `GET /me` tells any caller who the gateway thinks they are; `GET /roles` and
 * `GET /departments` list what may be given (the console's pickers).
 *
 * A user's keys follow the user: a lower role lowers every key whose role the user no longer
 * covers, and a new department moves the keys whose secret the user made. A key someone else made
 * for them (or rotated, or whose maker is unknown) is revoked instead: its secret is in that
 * person's hands, and must not follow the user into another department's data. The answer names
 * the revoked keys; a log line records them. Identity events drop the auth caches' stale entries.
 */
import type { Logger } from 'pino'
import { Store, badRequest, definePlugin, forbidden, notFound, reply, type AccessView, type Caller, type RouteSpec, type Service } from '../../../plugin-api/index.ts'
import { listOf, objectSchema } from '../kit/schema.ts'
import { AuditLog, Identity, type ApiKeyRepository } from '../../contracts/capabilities.ts'
import { auditTo, type Audit } from './audit.ts'
import { ID_PARAMS, PAGE_QUERY, nullableString, optionalString, type Body, type PageQuery } from './input.ts'
import { usersConfigSchema, type UsersConfig } from './schema.ts'
import { DEPARTMENT_SCHEMA, ME_SCHEMA, ROLE_SCHEMA, USER_SCHEMA, userView } from './views.ts'

const VIEW_USERS = 'view_users'
const MANAGE_USERS = 'manage_users'

export function usersService(identity: Identity, logger?: Logger, audit: Audit = auditTo(undefined, undefined)): Service {
  const { users, events } = identity

  const me: RouteSpec = {
    method: 'GET', path: '/me', summary: 'Who the gateway thinks the caller is: user, role, department, permissions.', permission: null, response: ME_SCHEMA,
    async handle({ caller }) {
      const { principal, role } = caller
      const user = (await users.get(principal.userId)) ?? null
      return {
        user_id: principal.userId,
        role: principal.role,
        department: principal.department ?? null,
        key_id: principal.keyId ?? null,
        strategy: principal.strategy,
        allowed_models: principal.allowedModels ?? null,
        permissions: [...role.permissions],
        scope: role.scope,
        user: user && userView(user),
      }
    },
  }

  const list: RouteSpec<unknown, PageQuery & { department?: string; role?: string }> = {
    method: 'GET', path: '/', summary: 'Users within the caller\'s scope.', permission: VIEW_USERS, response: listOf(USER_SCHEMA),
    query: objectSchema({ ...PAGE_QUERY, department: { type: 'string', minLength: 1 }, role: { type: 'string', minLength: 1 } }),
    async handle({ caller, query }) {
      const page = { limit: query.limit, offset: query.offset }
      let department = query.department
      const role = query.role
      if (caller.scope === 'own_data') {
        const self = await users.get(caller.principal.userId)
        const found = self && (role === undefined || self.role === role) && (department === undefined || self.department === department) ? [self] : []
        return reply(found.map(userView), { meta: { ...page, count: found.length } })
      }
      if (caller.scope === 'department_data') {
        if (department !== undefined && department !== caller.principal.department) throw forbidden('You may only list your department\'s users.', 'out_of_scope')
        department = caller.principal.department
      }
      const found = await users.list({ department, role, ...page })
      return reply(found.map(userView), { meta: { ...page, count: found.length } })
    },
  }

  // Declared before /:id, so these names are never read as a user id.
  const roles: RouteSpec = {
    method: 'GET', path: '/roles', summary: 'The roles of this gateway (built-in and gateway.yaml\'s), and which of them the caller may give out.', permission: VIEW_USERS, response: listOf(ROLE_SCHEMA),
    handle({ caller, access }) {
      return access.roles().map((role) => ({ name: role.name, scope: role.scope, permissions: [...role.permissions], grantable: caller.mayGrant(role.name) }))
    },
  }

  const departments: RouteSpec = {
    method: 'GET', path: '/departments', summary: 'The departments gateway.yaml lists (empty: it lists none, and any name is a department), and which the caller may move users into.', permission: VIEW_USERS, response: listOf(DEPARTMENT_SCHEMA),
    handle({ caller, access }) {
      return access.departmentNames().map((name) => ({ name, assignable: caller.reaches({ userId: null, department: name }) }))
    },
  }

  const get: RouteSpec<unknown, unknown, { id: string }> = {
    method: 'GET', path: '/:id', summary: 'One user.', permission: VIEW_USERS, params: ID_PARAMS, response: USER_SCHEMA,
    async handle({ caller, params }) {
      const user = await users.get(params.id)
      if (!user) throw notFound('No such user.', 'user_not_found', 'id')
      caller.requireReach({ userId: user.id, department: user.department }, 'user')
      return userView(user)
    },
  }

  const update: RouteSpec<Body, unknown, { id: string }> = {
    method: 'PATCH', path: '/:id', summary: 'Set a user\'s role and/or department (their keys follow).', permission: MANAGE_USERS, params: ID_PARAMS, response: USER_SCHEMA,
    body: objectSchema({ role: { type: 'string' }, department: { type: ['string', 'null'] } }),
    async handle(req) {
      const { caller, body, params, access } = req
      const role = optionalString(body, 'role', 64)
      const department = nullableString(body, 'department', 64)
      if (role === undefined && department === undefined) throw badRequest('Nothing to change: give `role` and/or `department`.', null, 'empty_update')
      const target = await users.get(params.id)
      if (!target) throw notFound('No such user.', 'user_not_found', 'id')
      caller.requireReach({ userId: target.id, department: target.department }, 'user')
      if (role !== undefined) requireGrantableRole(caller, access, role, target.role)
      if (department !== undefined) {
        if (department !== null && !access.isDepartment(department)) throw badRequest(`No department '${department}' in gateway.yaml.`, 'department', 'unknown_department')
        if (!caller.reaches({ userId: null, department })) throw forbidden('You may only move users into your own department.', 'out_of_scope')
      }
      const { user, revoked } = await identity.transaction(async (tx) => {
        let updated = target
        let revokedKeys: string[] = []
        if (role !== undefined) {
          updated = (await tx.users.setRole(target.id, role)) ?? updated
          await lowerKeyRoles(tx.apiKeys, access, target.id, role)
        }
        if (department !== undefined) {
          updated = (await tx.users.setDepartment(target.id, department)) ?? updated
          if (department !== target.department) revokedKeys = await tx.apiKeys.moveUserKeys(target.id, department)
        }
        return { user: updated, revoked: revokedKeys }
      })
      events.emit({ type: 'user-changed', userId: target.id })
      for (const keyId of revoked) events.emit({ type: 'key-changed', keyId })
      const changes: Record<string, unknown> = { revoked_keys: revoked }
      if (role !== undefined) changes.role = { from: target.role, to: user.role }
      if (department !== undefined) changes.department = { from: target.department, to: user.department }
      await audit(req, { action: 'user.update', target: { type: 'user', id: target.id }, department: user.department, details: changes })
      if (revoked.length === 0) return reply(userView(user), { message: 'updated', meta: { revoked_keys: [] } })
      logger?.info({ userId: target.id, from: target.department, to: department, revokedKeys: revoked, by: caller.principal.userId }, 'user changed department: revoked the keys someone else made for them')
      const message = `updated; revoked ${revoked.length === 1 ? '1 key' : `${revoked.length} keys`} made for this user by someone else or an unknown maker (meta.revoked_keys): those do not follow a user to another department`
      return reply(userView(user), { message, meta: { revoked_keys: revoked } })
    },
  }

  return { routes: [me, roles, departments, list, get, update] }
}

/** The new role must exist and be one the caller may give to a user who now holds `current`. */
function requireGrantableRole(caller: Caller, access: AccessView, role: string, current: string): void {
  if (!access.hasRole(role)) throw badRequest(`No role '${role}' (have: ${access.roleNames().join(', ')}).`, 'role', 'unknown_role')
  if (!caller.mayGrant(role)) throw forbidden(`Your role '${caller.role.name}' may not give out the role '${role}'.`, 'role_not_grantable')
  // Nor may it change someone who holds more than it could give (a department_admin demoting an admin).
  if (access.hasRole(current) && !caller.mayGrant(current)) throw forbidden(`Your role '${caller.role.name}' may not change this user's role.`, 'role_not_grantable')
}

/** Keys may not hold more than their owner: those whose role the new one does not cover get the new one. */
async function lowerKeyRoles(apiKeys: ApiKeyRepository, access: AccessView, userId: string, role: string): Promise<void> {
  const over = (await apiKeys.activeRolesOfUser(userId)).filter((name) => !access.roleCovers(role, name))
  await apiKeys.replaceUserKeyRoles(userId, over, role)
}

export default definePlugin<UsersConfig, Service>({
  id: 'service.users',
  kind: 'service',
  description: 'Users: list, read, set role and department, within the caller\'s data scope; GET /me.',
  configSchema: usersConfigSchema,
  needs: [Store],
  uses: [Identity, AuditLog],
  setup(ctx) {
    const identity = ctx.tryGet(Identity)
    if (!identity) throw new Error('users are kept in the store: add `store:` to gateway.yaml (e.g. store: { plugin: embedded })')
    return usersService(identity, ctx.logger, auditTo(ctx.tryGet(AuditLog), ctx.logger))
  },
})
