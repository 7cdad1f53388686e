/**
 * service.users, mounted at /api/v1/users: the people the gateway knows (recorded on first sight
 * by the auth strategies). List and read them within the caller's data scope, set a role or a
 * department; `GET /me` tells any caller who the gateway thinks they are.
 *
 * A user's keys follow the user: a new department moves them, and a lower role lowers every key
 * whose role the user no longer covers. Identity events drop the auth caches' stale entries.
 */
import type Router from '@koa/router'
import type Koa from 'koa'
import { badRequest, forbidden, notFound } from '../../../core/errors.ts'
import { envelope } from '../../../core/http/errors.ts'
import { requireReach } from '../../../core/pipeline/authorize.ts'
import { Permission, identityEvents, type Role } from '../../../core/runtime/access.ts'
import { definePlugin, type Service, type Store, type StoreSession } from '../../../core/plugins/types.ts'
import { callerFor, principalFor, requireStore, type Caller } from './caller.ts'
import { bodyOf, nullableString, optionalString, pageOf, queryString } from './input.ts'
import { usersConfigSchema, type UsersConfig } from './schema.ts'
import { userView } from './views.ts'


export function usersService(store: Store): Service {
  const events = identityEvents(store)

  async function me(ctx: Koa.Context): Promise<void> {
    const { principal, role, requestId } = await principalFor(ctx)
    const user = (await store.users.get(principal.userId)) ?? null
    ctx.body = envelope({
      user_id: principal.userId,
      role: principal.role,
      department: principal.department ?? null,
      key_id: principal.keyId ?? null,
      strategy: principal.strategy,
      allowed_models: principal.allowedModels ?? null,
      permissions: role ? (role.all ? ['*'] : [...role.permissions]) : [],
      scope: role?.scope ?? null,
      user: user && userView(user),
    }, requestId)
  }

  async function list(ctx: Koa.Context): Promise<void> {
    const caller = await callerFor(ctx, Permission.viewUsers)
    const page = pageOf(ctx)
    let department = queryString(ctx, 'department')
    const role = queryString(ctx, 'role')
    if (caller.scope === 'own_data') {
      const self = await store.users.get(caller.principal.userId)
      const users = self && (role === undefined || self.role === role) && (department === undefined || self.department === department) ? [self] : []
      ctx.body = envelope(users.map(userView), caller.requestId, 'ok', { ...page, count: users.length })
      return
    }
    if (caller.scope === 'department_data') {
      if (department !== undefined && department !== caller.principal.department) throw forbidden('You may only list your department\'s users.', 'out_of_scope')
      department = caller.principal.department
    }
    const users = await store.users.list({ department, role, ...page })
    ctx.body = envelope(users.map(userView), caller.requestId, 'ok', { ...page, count: users.length })
  }

  async function get(ctx: Koa.Context): Promise<void> {
    const caller = await callerFor(ctx, Permission.viewUsers)
    const user = await store.users.get(String(ctx.params.id))
    if (!user) throw notFound('No such user.', 'user_not_found', 'id')
    requireReach(caller, { userId: user.id, department: user.department }, 'user')
    ctx.body = envelope(userView(user), caller.requestId)
  }

  async function update(ctx: Koa.Context): Promise<void> {
    const caller = await callerFor(ctx, Permission.manageUsers)
    const body = await bodyOf(ctx, ['role', 'department'])
    const role = optionalString(body, 'role', 64)
    const department = nullableString(body, 'department', 64)
    if (role === undefined && department === undefined) throw badRequest('Nothing to change: give `role` and/or `department`.', null, 'empty_update')
    const target = await store.users.get(String(ctx.params.id))
    if (!target) throw notFound('No such user.', 'user_not_found', 'id')
    requireReach(caller, { userId: target.id, department: target.department }, 'user')
    const newRole = role === undefined ? undefined : grantableRole(caller, role, target.role)
    if (department !== undefined) {
      if (department !== null && !caller.access.isDepartment(department)) throw badRequest(`No department '${department}' in gateway.yaml.`, 'department', 'unknown_department')
      if (!caller.reaches({ userId: null, department })) throw forbidden('You may only move users into your own department.', 'out_of_scope')
    }
    const user = await store.transaction(async (tx) => {
      let updated = target
      if (newRole) {
        updated = (await tx.users.setRole(target.id, newRole.name)) ?? updated
        await lowerKeyRoles(tx, target.id, newRole, caller)
      }
      if (department !== undefined) {
        updated = (await tx.users.setDepartment(target.id, department)) ?? updated
        await tx.apiKeys.setUserKeysDepartment(target.id, department)
      }
      return updated
    })
    events.emit({ type: 'user-changed', userId: target.id })
    ctx.body = envelope(userView(user), caller.requestId, 'updated')
  }

  return {
    mount(router: Router) {
      router.get('/me', me)
      router.get('/', list)
      router.get('/:id', get)
      router.patch('/:id', update)
    },
  }
}

/** The new role, if it exists and the caller may give it to a user who now holds `current`. */
function grantableRole(caller: Caller, role: string, current: string): Role {
  const granted = caller.access.role(role)
  if (!granted) throw badRequest(`No role '${role}' (have: ${caller.access.roleNames().join(', ')}).`, 'role', 'unknown_role')
  if (!caller.mayGrant(role)) throw forbidden(`Your role '${caller.role.name}' may not give out the role '${role}'.`, 'role_not_grantable')
  // Nor may it change someone who holds more than it could give (a department_admin demoting an admin).
  if (caller.access.role(current) && !caller.mayGrant(current)) throw forbidden(`Your role '${caller.role.name}' may not change this user's role.`, 'role_not_grantable')
  return granted
}

/** Keys may not hold more than their owner: those whose role the new one does not cover get the new one. */
async function lowerKeyRoles(tx: StoreSession, userId: string, role: Role, caller: Caller): Promise<void> {
  const over = (await tx.apiKeys.activeRolesOfUser(userId)).filter((name) => {
    const keyRole = caller.access.role(name)
    return !keyRole || !role.covers(keyRole)
  })
  await tx.apiKeys.replaceUserKeyRoles(userId, over, role.name)
}

export default definePlugin<UsersConfig, Service>({
  id: 'service.users',
  kind: 'service',
  description: 'Users: list, read, set role and department, within the caller\'s data scope; GET /me.',
  configSchema: usersConfigSchema,
  setup: (ctx) => usersService(requireStore(ctx, 'users')),
})
