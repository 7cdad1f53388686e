/**
 * Limiter backends (`limits.backend`: memory, redis) and the limits stage that draws on them: the
 * kernel sets a limiter up and offers it as `Limiter`, and never calls it itself.
 */
import { token, type Lifecycle, type Token } from '../../plugin-api/index.ts'

/**
 * One rate-limit bucket: `cost` units drawn from `limit` units per `windowMs`, kept under `key`.
 * Buckets follow GCRA: a whole window's worth may be used at once, then units come back evenly.
 */
export interface LimitBucket {
  readonly key: string
  readonly limit: number
  readonly windowMs: number
  readonly cost: number
}

export interface LimitDecision {
  readonly allowed: boolean
  readonly limit: number
  /** Units left after this take (or, when refused, before it). */
  readonly remaining: number
  /** Milliseconds until the bucket is full again. */
  readonly resetMs: number
  /** When refused, milliseconds until the same cost would be admitted; 0 when allowed. */
  readonly retryAfterMs: number
}

/** A budget (USD per period) a request reserves its estimated cost from, as a limiter that keeps budgets sees it. */
export interface BudgetHold {
  /** The budget and its period (scope, subject, period and the period's start): one ledger entry. */
  readonly key: string
  /** The budget, in USD. */
  readonly usd: number
  /** When the period ends (epoch ms): the entry need not be kept past it. */
  readonly until: number
  /** Spend recorded this period before the ledger knew the budget (the usage log's), to seed an empty entry; undefined: not read. */
  readonly seedUsd?: number
  /** Ascending fractions of `usd` at which an alert is due. */
  readonly alertAt: readonly number[]
}

/** A request's reservation: `usd` held from each budget until it is settled, or for `holdMs` at most. */
export interface BudgetReservation {
  readonly id: string
  readonly usd: number
  readonly holdMs: number
  readonly budgets: readonly BudgetHold[]
}

/** A budget as an admission found it. */
export interface BudgetStanding {
  /** false: the reservation would exceed the budget; 'unseeded': the ledger does not know the budget (admit again with `seedUsd`). */
  readonly allowed: boolean | 'unseeded'
  /** Spend settled plus reserved by requests in flight, before this request. */
  readonly committedUsd: number
}

/** A budget after a settlement. */
export interface BudgetSettled {
  readonly spentUsd: number
  readonly alerts: readonly number[]
}

/** A rate limiter backend (`limits.backend`): counts, nothing else; the limits stage decides what to count. */
export interface Limiter extends Lifecycle {
  /**
   * Take each bucket's cost atomically, all or none; one decision per bucket, in order. A backend
   * that can answer at once (in memory) returns the decisions themselves: they need no deadline.
   */
  take(buckets: readonly LimitBucket[]): LimitDecision[] | Promise<LimitDecision[]>
  /** Correct buckets after the fact: a positive cost is taken even past the limit, a negative one given back. */
  adjust(buckets: readonly LimitBucket[]): Promise<void>
  /**
   * Optional, for a backend that keeps budgets shared by every process using it: take the buckets
   * and reserve `reservation.usd` from every budget in one atomic step, all or none (a refusal
   * takes nothing). Without it the limits stage keeps budgets in the process.
   */
  admit?(buckets: readonly LimitBucket[], reservation: BudgetReservation): Promise<{ limits: LimitDecision[]; budgets: BudgetStanding[] }>
  /**
   * Replace a reservation by what the request spent (0 releases it) and correct buckets (as
   * `adjust`), in one step. Per budget: its spend so far and the alert thresholds this spend
   * crossed (each reported once per period, across processes).
   */
  settle?(buckets: readonly LimitBucket[], reservation: BudgetReservation, spentUsd: number): Promise<BudgetSettled[]>
}

export const Limiter: Token<Limiter> = token<Limiter>('Limiter')
