/** The first two steps of every request: who is calling, and whether their role has the route's permission (refusals name only the caller's own role). */
import { forbidden, unauthorized } from '../../plugin-api/errors.ts'
import type { Caller, DataScope, Principal } from '../../plugin-api/types.ts'
import type { AccessTables, Role } from '../runtime/access.ts'
import type { RequestScope } from './scope.ts'

/** With no `auth:` strategies configured the gateway is open: every caller is this anonymous admin (the startup log warns). */
const ANONYMOUS: Principal = Object.freeze({ userId: 'anonymous', role: 'admin', strategy: 'none' })

/** The caller of a public route (a static page): no credentials were read, and it may do nothing. */
export const NOBODY: Principal = Object.freeze({ userId: 'nobody', role: 'nobody', strategy: 'none' })

/** The caller: known already, or anonymous (no strategies) at once; else asked of the strategies in turn. */
export function authenticate(r: RequestScope): Principal | Promise<Principal> {
  if (r.principal) return r.principal
  const strategies = r.snapshot.auth
  return strategies.length === 0 ? (r.principal = ANONYMOUS) : askStrategies(r, strategies)
}

/** A strategy's 401 lets the next ones try (two jwt strategies, each refusing the other's issuer); the first 401 is the answer if none accepts. */
async function askStrategies(r: RequestScope, strategies: RequestScope['snapshot']['auth']): Promise<Principal> {
  const req = { headers: r.headers, method: r.method, path: r.path }
  let refusal: unknown
  for (const { strategy } of strategies) {
    try {
      const principal = await strategy.authenticate(req)
      if (principal) return (r.principal = principal)
    } catch (err) {
      if ((err as { status?: unknown } | null)?.status !== 401) throw err
      refusal ??= err
    }
  }
  throw refusal ?? unauthorized('Missing or unrecognised credentials: send Authorization: Bearer <key> (or x-api-key).', 'missing_credentials')
}

/** `principal`'s role in these tables, if it has `permission` (null: any authenticated caller); else a 403 naming only its own role. */
export function authorize(access: AccessTables, principal: Principal | undefined, permission: string | null): Role {
  const role = access.roleOf(principal)
  if (!role) throw forbidden(`Your role '${principal?.role ?? ''}' is not defined on this gateway; ask an admin.`, 'unknown_role')
  if (permission !== null && !role.can(permission)) throw forbidden(`Your role '${role.name}' does not have the '${permission}' permission.`, 'permission_denied')
  return role
}

/** The caller of a route, with its role's reach over records. */
export function callerOf(r: RequestScope, role: Role): Caller {
  const principal = r.principal!
  const { access } = r.snapshot
  const scope: DataScope = role.scope === 'department_data' && principal.department === undefined ? 'own_data' : role.scope
  const reaches = (owner: { userId: string | null; department: string | null }): boolean => {
    if (scope === 'all_data') return true
    if (owner.userId !== null && owner.userId === principal.userId) return true
    return scope === 'department_data' && owner.department !== null && owner.department === principal.department
  }
  return {
    principal,
    role,
    scope,
    reaches,
    requireReach(owner, what) {
      if (reaches(owner)) return
      const reach = scope === 'department_data' ? `your department's ${what}s` : `your own ${what}s`
      throw forbidden(`You may only manage ${reach}.`, 'out_of_scope')
    },
    mayGrant(name) {
      const granted = access.role(name)
      return granted !== undefined && role.covers(granted)
    },
  }
}
