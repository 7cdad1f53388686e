/** Access tables, compiled once per snapshot from `roles:` and `departments:`: what each role may do, over which records, with which models. */
import { isGlob, NamePatterns } from '../../plugin-api/kit/glob.ts'
import type { GatewayConfig, RoleConfig } from '../config/types.ts'
import type { AccessView, DataScope, Principal } from '../../plugin-api/types.ts'

/** The roles every gateway has unless gateway.yaml redefines them (as in the seed design). */
export const BUILTIN_ROLES: Readonly<Record<string, RoleConfig>> = Object.freeze({
  user: { permissions: ['chat', 'manage_keys', 'view_assistants', 'view_analytics'], scope: 'own_data' },
  department_admin: {
    permissions: ['chat', 'manage_keys', 'view_users', 'manage_users', 'view_assistants', 'manage_assistants', 'view_analytics'],
    scope: 'department_data',
  },
  admin: { permissions: ['*'], scope: 'all_data' },
})

const SCOPE_RANK: Readonly<Record<DataScope, number>> = { own_data: 0, department_data: 1, all_data: 2 }

export class Role {
  readonly name: string
  readonly scope: DataScope
  readonly permissions: readonly string[]
  readonly #permissions: ReadonlySet<string>
  /** Holds `*`: every permission, including ones plugins define later. */
  readonly all: boolean

  constructor(name: string, config: RoleConfig) {
    this.name = name
    this.scope = config.scope
    this.#permissions = new Set(config.permissions)
    this.permissions = this.#permissions.has('*') ? ['*'] : [...this.#permissions]
    this.all = this.#permissions.has('*')
  }

  can(permission: string): boolean {
    return this.all || this.#permissions.has(permission)
  }

  /** Whether a holder of this role may hand `other` out: it grants nothing this role lacks, over no wider data. */
  covers(other: Role): boolean {
    if (this.all) return true
    if (other.all || SCOPE_RANK[other.scope] > SCOPE_RANK[this.scope]) return false
    for (const permission of other.permissions) if (!this.#permissions.has(permission)) return false
    return true
  }
}

/** What the anonymous caller of a gateway without auth gets: everything. */
const UNRESTRICTED = new Role('admin', { permissions: ['*'], scope: 'all_data' })

export interface Department {
  readonly name: string
  /** Undefined: the department may use every route. */
  readonly models: NamePatterns | undefined
  readonly routeOverrides: ReadonlyMap<string, string>
}

/** Why a principal may not use a model (see AccessTables.modelDenial). */
export type ModelDenial =
  | { readonly reason: 'department'; readonly department: string }
  | { readonly reason: 'unknown_department'; readonly department: string }
  | { readonly reason: 'key' }

export class AccessTables {
  /** False when no auth strategy is configured: the anonymous caller may do everything. */
  readonly enforced: boolean
  readonly #roles = new Map<string, Role>()
  readonly #departments = new Map<string, Department>()
  /** A cached principal carries the same allowedModels array on every request: compile it once. */
  readonly #scopes = new WeakMap<readonly string[], NamePatterns>()
  /** The role of a public route's caller: no permissions, its own data only. */
  readonly nobody = new Role('nobody', { permissions: [], scope: 'own_data' })
  /** What route handlers see of these tables. */
  readonly view: AccessView = {
    isDepartment: (name) => this.isDepartment(name),
    roleNames: () => [...this.#roles.keys()],
    roles: () => [...this.#roles.values()].map(({ name, scope, permissions }) => ({ name, scope, permissions })),
    departmentNames: () => [...this.#departments.keys()],
    hasRole: (name) => this.#roles.has(name),
    roleCovers: (holder, other) => {
      const a = this.#roles.get(holder)
      const b = this.#roles.get(other)
      return a !== undefined && b !== undefined && a.covers(b)
    },
    matchesModel: (patterns, name) => this.#scope(patterns).matches(name),
  }

  constructor(config: GatewayConfig) {
    this.enforced = (config.auth?.strategies?.length ?? 0) > 0
    for (const [name, role] of Object.entries({ ...BUILTIN_ROLES, ...(config.roles ?? {}) })) this.#roles.set(name, new Role(name, role))
    for (const [name, dept] of Object.entries(config.departments ?? {})) {
      this.#departments.set(name, {
        name,
        models: dept.models ? new NamePatterns(dept.models) : undefined,
        routeOverrides: new Map(Object.entries(dept.route_overrides ?? {})),
      })
    }
  }

  /** The principal's role; undefined for a role gateway.yaml does not define (which may do nothing). */
  roleOf(principal: Principal | undefined): Role | undefined {
    if (!this.enforced) return UNRESTRICTED
    return principal ? this.#roles.get(principal.role) : undefined
  }

  role(name: string): Role | undefined {
    return this.#roles.get(name)
  }

  /** Whether `name` may be given to a user or key: any name while no departments are listed. */
  isDepartment(name: string): boolean {
    return this.#departments.size === 0 || this.#departments.has(name)
  }

  /** The model a principal's department sends this name to (its `route_overrides`), or the name itself. */
  routeFor(principal: Principal | undefined, model: string): string {
    const dept = principal?.department
    if (dept === undefined || this.#departments.size === 0) return model
    return this.#departments.get(dept)?.routeOverrides.get(model) ?? model
  }

  /**
   * Why the principal may not use `requested` (routed as `routed`, answered by `routeName`), or undefined: any of the names in a department's or key's list
   * is enough; a glob route's name is a pattern, never matched, so it is allowed only by the exact names the request goes by.
   */
  modelDenial(principal: Principal | undefined, requested: string, routeName: string = requested, routed: string = requested): ModelDenial | undefined {
    if (!principal || !this.enforced) return undefined
    const names = [requested]
    if (routed !== requested) names.push(routed)
    if (!isGlob(routeName) && !names.includes(routeName)) names.push(routeName)
    const deptName = principal.department
    if (deptName !== undefined && this.#departments.size > 0) {
      const dept = this.#departments.get(deptName)
      if (!dept) return { reason: 'unknown_department', department: deptName }
      // A name the department overrides is one its admins chose to offer.
      const allowed = !dept.models || dept.routeOverrides.has(requested) || names.some((name) => dept.models!.matches(name))
      if (!allowed) return { reason: 'department', department: deptName }
    }
    if (principal.allowedModels) {
      const scope = this.#scope(principal.allowedModels)
      if (!names.some((name) => scope.matches(name))) return { reason: 'key' }
    }
    return undefined
  }

  #scope(patterns: readonly string[]): NamePatterns {
    let scope = this.#scopes.get(patterns)
    if (!scope) this.#scopes.set(patterns, (scope = new NamePatterns(patterns)))
    return scope
  }
}
