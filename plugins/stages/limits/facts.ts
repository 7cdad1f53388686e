/** What limit policies and budgets look at, and their `when` conditions. */
import { NamePatterns, namesUser, type Principal } from '../../../plugin-api/index.ts'

/** Whose bucket a limit counts in. */
export type LimitScope = 'key' | 'user' | 'department' | 'thread' | 'organization' | 'route'

/** To whom a policy or budget applies; all given conditions must hold (globs for routes). */
export interface LimitWhen {
  departments?: string[]
  roles?: string[]
  users?: string[]
  keys?: string[]
  routes?: string[]
}

export interface RateLimits {
  requests_per_second?: number
  requests_per_minute?: number
  requests_per_hour?: number
  requests_per_day?: number
  tokens_per_minute?: number
  tokens_per_day?: number
}

export interface LimitFacts {
  readonly principal: Principal | undefined
  readonly route: string
  /** The chat thread (x-thread-id, metadata.thread_id, or a service's thread), when the request names one. */
  readonly thread: string | undefined
}

/** `when` as one predicate; each listed condition must hold. */
export function compileWhen(when: LimitWhen | undefined): (facts: LimitFacts) => boolean {
  if (!when) return () => true
  const tests: ((facts: LimitFacts) => boolean)[] = []
  const inSet = (list: readonly string[] | undefined, pick: (facts: LimitFacts) => string | undefined): void => {
    if (!list?.length) return
    const set = new Set(list)
    tests.push((facts) => { const value = pick(facts); return value !== undefined && set.has(value) })
  }
  inSet(when.departments, (f) => f.principal?.department)
  inSet(when.roles, (f) => f.principal?.role)
  if (when.users?.length) {
    const users = new Set(when.users)
    tests.push((f) => namesUser(users, f.principal))
  }
  inSet(when.keys, (f) => f.principal?.keyId)
  if (when.routes?.length) {
    const routes = new NamePatterns(when.routes)
    tests.push((f) => routes.matches(f.route))
  }
  return (facts) => tests.every((test) => test(facts))
}
