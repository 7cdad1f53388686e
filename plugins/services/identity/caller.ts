/** Who is calling a management endpoint, with their role's reach (core/pipeline/authorize.ts). */
import type Koa from 'koa'
import { callerFor, exchangeOf, type Caller } from '../../../core/pipeline/authorize.ts'
import { Store, type PluginContext, type Principal } from '../../../core/plugins/types.ts'
import type { Role } from '../../../core/runtime/access.ts'

export type { Caller }

export { callerFor }

/** The store, or a load-time error that says what to add. */
export function requireStore(ctx: PluginContext, what: string): Store {
  const store = ctx.tryGet(Store)
  if (!store) throw new Error(`${what} are kept in the store: add \`store:\` to gateway.yaml (e.g. store: { plugin: embedded })`)
  return store
}

/** Who is calling, whatever their permissions (for `GET /api/v1/users/me`). */
export async function principalFor(ctx: Koa.Context): Promise<{ principal: Principal; role: Role | undefined; requestId: string }> {
  const x = await exchangeOf(ctx)
  const principal = x.principal!
  return { principal, role: x.snapshot.access.roleOf(principal), requestId: x.requestId }
}
