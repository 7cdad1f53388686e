import type { Principal } from '../types.ts'

/**
 * Whether a principal is one of the users a config names (`when: { users }` of routes and of limit
 * policies): by id, or by the name or email its identity gave. Ids are UUIDs once users are kept in
 * a store, which config authors do not know; a config key's user is named by its `user`.
 */
export function namesUser(users: ReadonlySet<string>, p: Principal | undefined): boolean {
  return p !== undefined && (users.has(p.userId) || (p.name !== undefined && users.has(p.name)) || (p.email !== undefined && users.has(p.email)))
}
