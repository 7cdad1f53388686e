/**
 * Authorization, the stage after authentication: a permission of the caller's role, a model
 * against the caller's department and key, and, for the management API, a Caller that says
 * whether a record is within the role's data scope. The tables come from the pinned snapshot
 * (core/runtime/access.ts), so a reload changes them for the next request. Refusals are 403s
 * that name the caller's own role, department or key, never anything about other records.
 */
import { GatewayError, forbidden } from '../errors.ts'
import type { Principal } from '../plugins/types.ts'
import type { AccessTables, DataScope, ModelDenial, Role } from '../runtime/access.ts'
import type { CompiledRoute } from '../runtime/routes.ts'
import type Koa from 'koa'
import { newExchange, type Exchange } from './exchange.ts'
import { authenticate } from './stages.ts'

/** The caller's role, if it has `permission`; else a 403. */
export function requirePermission(x: Exchange, permission: string): Role {
  const role = x.snapshot.access.roleOf(x.principal)
  if (!role) throw forbidden(`Your role '${x.principal?.role ?? ''}' is not defined on this gateway; ask an admin.`, 'unknown_role')
  if (!role.can(permission)) throw forbidden(`Your role '${role.name}' does not have the '${permission}' permission.`, 'permission_denied')
  return role
}

/** The model a request asked for, routed as `routed` and answered by `route`, must be in the caller's department and key scope. */
export function authorizeModel(x: Exchange, requested: string, routed: string, route: CompiledRoute): void {
  const denial = x.snapshot.access.modelDenial(x.principal, requested, route.name, routed)
  if (denial) throw modelForbidden(requested, denial)
}

function modelForbidden(model: string, denial: ModelDenial): GatewayError {
  const param = 'model'
  switch (denial.reason) {
    case 'key':
      return new GatewayError(`This API key may not use the model '${model}'; GET /v1/models lists the models it may use.`, { status: 403, code: 'model_not_allowed', param })
    case 'department':
      return new GatewayError(`Your department (${denial.department}) may not use the model '${model}'; GET /v1/models lists the models you may use.`, { status: 403, code: 'model_not_allowed', param })
    case 'unknown_department':
      return new GatewayError(`Your department (${denial.department}) is not configured on this gateway, so it may use no model; ask an admin.`, { status: 403, code: 'department_not_configured', param })
  }
}

/** Of the route names a caller could ask for, those its department and key allow (for /v1/models). */
export function visibleModels(x: Exchange, names: readonly string[]): string[] {
  const { access, routes } = x.snapshot
  if (!access.enforced) return [...names]
  const facts = { principal: x.principal, headers: x.ctx.headers, metadata: undefined }
  return names.filter((name) => !access.modelDenial(x.principal, name, routes.resolve(name, facts)?.route.name ?? name))
}

// ---------------------------------------------------------------------------------------------
// the management API

/** Whose a record is, for a data-scope check. */
export interface Owner {
  readonly userId: string | null
  readonly department: string | null
}

/** An authenticated caller of the management API, with its role's reach. */
export interface Caller {
  readonly principal: Principal
  readonly role: Role
  readonly access: AccessTables
  readonly requestId: string
  /** The role's scope, narrowed to own_data for a department-scoped caller without a department. */
  readonly scope: DataScope
  /** Whether a record owned by `owner` is within the caller's data scope. */
  reaches(owner: Owner): boolean
  /** Whether the caller may give `role` (a name) to a user or a key: defined, and no more than its own role. */
  mayGrant(role: string): boolean
}

/** The caller of a management endpoint that needs `permission` (authenticate first). */
export function callerOf(x: Exchange, permission: string): Caller {
  const role = requirePermission(x, permission)
  const principal = x.principal!
  const { access } = x.snapshot
  const scope: DataScope = role.scope === 'department_data' && principal.department === undefined ? 'own_data' : role.scope
  return {
    principal,
    role,
    access,
    requestId: x.requestId,
    scope,
    reaches(owner) {
      if (scope === 'all_data') return true
      if (owner.userId !== null && owner.userId === principal.userId) return true
      return scope === 'department_data' && owner.department !== null && owner.department === principal.department
    },
    mayGrant(name) {
      const granted = access.role(name)
      return granted !== undefined && role.covers(granted)
    },
  }
}

/** 403 unless the record is within the caller's scope. The message says nothing about the record. */
export function requireReach(caller: Caller, owner: Owner, what: string): void {
  if (!caller.reaches(owner)) {
    const reach = caller.scope === 'department_data' ? `your department's ${what}s` : `your own ${what}s`
    throw forbidden(`You may only manage ${reach}.`, 'out_of_scope')
  }
}

/**
 * The exchange of a management-API request: the kernel authenticated it before the service's
 * route ran (core/http/app.ts); a route mounted elsewhere authenticates here.
 */
export async function exchangeOf(ctx: Koa.Context): Promise<Exchange> {
  const existing = ctx.state.exchange as Exchange | undefined
  if (existing?.principal) return existing
  const x = newExchange(ctx)
  await authenticate(x)
  ctx.state.exchange = x
  return x
}

/** The caller of a service endpoint that needs `permission` (401/403 otherwise). */
export async function callerFor(ctx: Koa.Context, permission: string): Promise<Caller> {
  return callerOf(await exchangeOf(ctx), permission)
}
