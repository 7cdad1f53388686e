/**
 * Rate-limit policies, compiled once per config from `limits.policies`, the departments' `limits`
 * and each API key's own limits: which buckets a request draws from. A bucket's key says whose it
 * is (scope and subject), its unit and its window; a policy limited to some routes counts per
 * route. Policies that land in the same bucket are merged: the tightest limit wins.
 */
import { createHash } from 'node:crypto'
import type { Principal } from '../../../plugin-api/index.ts'
import type { LimitBucket } from '../../contracts/limiter.ts'
import { compileWhen, type LimitFacts, type LimitScope, type LimitWhen, type RateLimits } from './facts.ts'

export type LimitUnit = 'requests' | 'tokens'
export type BackendFailure = 'open' | 'closed'

/** A bucket a request draws from. */
export interface AppliedLimit {
  readonly key: string
  readonly scope: LimitScope
  readonly unit: LimitUnit
  /** `minute`, `day`...: for messages. */
  readonly window: string
  readonly windowMs: number
  readonly limit: number
  /** Refuse (503) rather than admit when the backend does not answer. */
  readonly failClosed: boolean
}

export interface LimitPolicyConfig extends RateLimits {
  scope: LimitScope
  when?: LimitWhen
  on_backend_failure?: BackendFailure
}

/** The rates a policy may set: config field → unit, window name and length. */
export const RATES: readonly (readonly [keyof RateLimits, LimitUnit, string, number])[] = [
  ['requests_per_second', 'requests', 'second', 1_000],
  ['requests_per_minute', 'requests', 'minute', 60_000],
  ['requests_per_hour', 'requests', 'hour', 3_600_000],
  ['requests_per_day', 'requests', 'day', 86_400_000],
  ['tokens_per_minute', 'tokens', 'minute', 60_000],
  ['tokens_per_day', 'tokens', 'day', 86_400_000],
]

/** Thread ids come from clients: a longer one is hashed so a bucket key stays short. */
const MAX_SUBJECT_LENGTH = 128

interface CompiledRate {
  readonly unit: LimitUnit
  readonly window: string
  readonly windowMs: number
  readonly limit: number
}

export interface CompiledPolicy {
  readonly scope: LimitScope
  readonly applies: (facts: LimitFacts) => boolean
  readonly perRoute: boolean
  readonly rates: readonly CompiledRate[]
  readonly failClosed: boolean
}

export function compilePolicy(policy: LimitPolicyConfig, defaultFailure: BackendFailure): CompiledPolicy {
  const rates: CompiledRate[] = []
  for (const [field, unit, window, windowMs] of RATES) {
    const limit = policy[field]
    if (typeof limit === 'number' && limit > 0) rates.push({ unit, window, windowMs, limit })
  }
  return {
    scope: policy.scope,
    applies: compileWhen(policy.when),
    perRoute: (policy.when?.routes?.length ?? 0) > 0 && policy.scope !== 'route',
    rates,
    failClosed: (policy.on_backend_failure ?? defaultFailure) === 'closed',
  }
}

/** The buckets `facts` draws from under `policies`; one per key, the tightest limit where policies share one. */
export function limitsFor(policies: readonly CompiledPolicy[], facts: LimitFacts): AppliedLimit[] {
  const byKey = new Map<string, AppliedLimit>()
  for (const policy of policies) {
    if (!policy.applies(facts)) continue
    const subject = subjectOf(policy.scope, facts)
    if (subject === undefined) continue
    const owner = policy.perRoute ? `${policy.scope}:${subject}@${encodeURIComponent(facts.route)}` : `${policy.scope}:${subject}`
    for (const rate of policy.rates) {
      const key = `${owner}:${rate.unit === 'requests' ? 'r' : 't'}:${rate.windowMs}`
      const seen = byKey.get(key)
      if (!seen) byKey.set(key, { key, scope: policy.scope, unit: rate.unit, window: rate.window, windowMs: rate.windowMs, limit: rate.limit, failClosed: policy.failClosed })
      else byKey.set(key, { ...seen, limit: Math.min(seen.limit, rate.limit), failClosed: seen.failClosed || policy.failClosed })
    }
  }
  return [...byKey.values()]
}

export const bucket = (limit: AppliedLimit, cost: number): LimitBucket => ({ key: limit.key, limit: limit.limit, windowMs: limit.windowMs, cost })

function subjectOf(scope: LimitScope, facts: LimitFacts): string | undefined {
  const p: Principal | undefined = facts.principal
  switch (scope) {
    case 'key': return p?.keyId === undefined ? undefined : encodeURIComponent(p.keyId)
    case 'user': return p ? encodeURIComponent(p.userId) : undefined
    case 'department': return p?.department === undefined ? undefined : encodeURIComponent(p.department)
    case 'thread': {
      if (facts.thread === undefined || !p) return undefined
      // Per user: a client naming someone else's thread id must not use up that thread's limit.
      const thread = facts.thread.length > MAX_SUBJECT_LENGTH ? createHash('sha256').update(facts.thread).digest('base64url') : encodeURIComponent(facts.thread)
      return `${encodeURIComponent(p.userId)}/${thread}`
    }
    case 'organization': return '*'
    case 'route': return encodeURIComponent(facts.route)
  }
}
