/**
 * Spend per budget and period in this process: what the usage log says (read at most every
 * `budget_refresh_s`), plus what this process has spent since that read began, plus what requests
 * in flight here have reserved. A check and its reservation are one synchronous step, so requests
 * that arrive together cannot all see the same spend: within one process a budget is exact. It is
 * the ledger for the memory limiter (or none), and the fallback while a shared one does not answer.
 */
import { withDeadline, within, type Logger } from '../../../plugin-api/index.ts'
import type { UsageLog } from '../../contracts/capabilities.ts'
import { endOfPeriod, startOfPeriod, type AppliedBudget } from './budgets.ts'

/** Alerts a ledger raises, counted on /metrics. */
export type AlertCounter = { inc(labels: Readonly<Record<string, string>>): void }

interface LedgerEntry {
  readonly periodStart: number
  readonly periodEnd: number
  /** Spend the store reported, as of `readAt`. */
  stored: number
  /** When that read started; 0 before the first. */
  readAt: number
  /** Spend in this process since `readAt`. */
  accrued: number
  /** Spend in this process since the running read started (it becomes `accrued` when the read lands). */
  accruedDuringRead: number
  /** Reserved by this process's requests in flight. */
  held: number
  reading: Promise<void> | undefined
  /** The highest alert threshold raised this period. */
  alerted: number
}

/** How long the first read of a budget's spend may take before the request goes on with what this process knows. */
const FIRST_READ_TIMEOUT_MS = 2000
const MAX_LEDGER_ENTRIES = 100_000
/** Rounding slack in USD, so that a reservation exactly filling a budget is admitted. */
const EPSILON_USD = 1e-9

/** A refusal: the first budget the reservation would exceed, and what it had committed. */
export interface LedgerRefusal {
  readonly budget: AppliedBudget
  readonly committed: number
}

/** Whether `usd` more fits in `budget` with `committed` spent or reserved. */
export const fits = (budget: AppliedBudget, committed: number, usd: number): boolean => committed < budget.usd && committed + usd <= budget.usd + EPSILON_USD

/**
 * Spend per budget and period: what the store's usage events say (read at most every
 * `budget_refresh_s`), plus what this process has spent since that read began (from each
 * exchange's final cost), so the hot path does not query the database per request, plus what it
 * has reserved for requests in flight. Without a store, the process's own spend is all there is
 * (it starts from zero at each start).
 *
 * One ledger per gateway (it outlives reloads, like metrics); usage events written between a
 * read's start and its query may be counted twice until the next read, which errs on refusing.
 */
export class BudgetLedger {
  readonly #entries = new Map<string, LedgerEntry>()
  #logger: Logger | undefined
  #alerts: AlertCounter | undefined

  /** Who hears of alerts: the stage instance using the ledger now. */
  configure(logger: Logger, alerts: AlertCounter): void {
    this.#logger = logger
    this.#alerts = alerts
  }

  /**
   * Make sure each budget's spend has been read from the store once (bounded), and refresh it in
   * the background after `refreshMs`. Nothing to wait for on the hot path after the first read.
   */
  prepare(budgets: readonly AppliedBudget[], log: UsageLog | undefined, refreshMs: number, now = Date.now()): Promise<void> | undefined {
    if (!log) return undefined
    let first: Promise<void>[] | undefined
    for (const budget of budgets) {
      const entry = this.#entry(budget, now)
      if (entry.readAt === 0) (first ??= []).push(this.#read(entry, budget, log, now))
      else if (now - entry.readAt >= refreshMs && !entry.reading) void this.#read(entry, budget, log, now)
    }
    if (!first) return undefined
    return within(Promise.all(first), FIRST_READ_TIMEOUT_MS).then(() => undefined)
  }

  /**
   * Reserve `usd` from every budget, or from none: the check and the reservation in one
   * synchronous step. Returns the refusal, or undefined and the smallest amount left after it.
   */
  reserve(budgets: readonly AppliedBudget[], usd: number, now = Date.now()): { refused?: LedgerRefusal; remaining: number } {
    const entries = budgets.map((b) => this.#entry(b, now))
    let remaining = Infinity
    for (let i = 0; i < budgets.length; i++) {
      const committed = entries[i].stored + entries[i].accrued + entries[i].held
      if (!fits(budgets[i], committed, usd)) return { refused: { budget: budgets[i], committed }, remaining: 0 }
      remaining = Math.min(remaining, budgets[i].usd - committed - usd)
    }
    for (const entry of entries) entry.held += usd
    return { remaining }
  }

  /** Replace a reservation by what was spent (0 releases it) and raise the alerts the spend crosses. */
  settle(budgets: readonly AppliedBudget[], reservedUsd: number, spentUsd: number, now = Date.now()): void {
    for (const budget of budgets) {
      const entry = this.#entry(budget, now)
      entry.held = Math.max(0, entry.held - reservedUsd)
    }
    this.accrue(budgets, spentUsd, now)
  }

  /** What this process knows of a budget's spend this period (settled, not reserved): to seed a shared ledger when the store cannot be read. */
  known(budget: AppliedBudget, now = Date.now()): number {
    const entry = this.#entries.get(budget.key)
    return entry && entry.periodStart === startOfPeriod(budget.period, now) ? entry.stored + entry.accrued : 0
  }

  /** Spend recorded in the store this period (the usage events), or undefined when it cannot be read in time. */
  async stored(budget: AppliedBudget, log: UsageLog, now = Date.now()): Promise<number | undefined> {
    const from = new Date(startOfPeriod(budget.period, now))
    const read = log.totalCostUsd({ from, to: new Date(now + 86_400_000), ...scopeFilter(budget) })
    try {
      return await withDeadline(read, FIRST_READ_TIMEOUT_MS, `no answer within ${FIRST_READ_TIMEOUT_MS} ms`)
    } catch (err) {
      this.#logger?.warn({ budget: budget.key, err: (err as Error).message }, 'could not read budget spend from the store')
      return undefined
    }
  }

  /** Add an exchange's cost to its budgets and raise the alerts it crosses. */
  accrue(budgets: readonly AppliedBudget[], usd: number, now = Date.now()): void {
    if (!(usd > 0)) return
    for (const budget of budgets) {
      const entry = this.#entry(budget, now)
      entry.accrued += usd
      if (entry.reading) entry.accruedDuringRead += usd
      this.#alert(budget, entry)
    }
  }

  /** Raise alerts a shared ledger reports crossed (it keeps them once per threshold and period across processes). */
  announce(budget: AppliedBudget, thresholds: readonly number[], spentUsd: number): void {
    for (const threshold of thresholds) this.#raise(budget, threshold, spentUsd)
  }

  #entry(budget: AppliedBudget, now: number): LedgerEntry {
    let entry = this.#entries.get(budget.key)
    // The common case, without date arithmetic: the entry of the current period.
    if (entry && now >= entry.periodStart && now < entry.periodEnd) return entry
    const periodStart = startOfPeriod(budget.period, now)
    if (!entry || entry.periodStart !== periodStart) {
      if (this.#entries.size >= MAX_LEDGER_ENTRIES) this.#prune(now)
      entry = { periodStart, periodEnd: endOfPeriod(budget.period, now), stored: 0, readAt: 0, accrued: 0, accruedDuringRead: 0, held: 0, reading: undefined, alerted: 0 }
      this.#entries.set(budget.key, entry)
    }
    return entry
  }

  #read(entry: LedgerEntry, budget: AppliedBudget, log: UsageLog, now: number): Promise<void> {
    if (entry.reading) return entry.reading
    entry.accruedDuringRead = 0
    const scope = { from: new Date(entry.periodStart), to: new Date(now + 86_400_000), ...scopeFilter(budget) }
    entry.reading = log.totalCostUsd(scope).then(
      (stored) => {
        entry.stored = stored
        entry.accrued = entry.accruedDuringRead
        entry.readAt = now
        this.#alert(budget, entry)
      },
      (err: Error) => {
        // Keep what we had and try again after the refresh interval rather than on every request.
        entry.readAt = now
        this.#logger?.warn({ budget: budget.key, err: err.message }, 'could not read budget spend from the store; using this process\'s own count until the next read')
      },
    ).finally(() => { entry.reading = undefined })
    return entry.reading
  }

  #alert(budget: AppliedBudget, entry: LedgerEntry): void {
    const spent = entry.stored + entry.accrued
    for (const threshold of budget.alertAt) {
      if (threshold <= entry.alerted || spent < threshold * budget.usd) continue
      entry.alerted = threshold
      this.#raise(budget, threshold, spent)
    }
  }

  #raise(budget: AppliedBudget, threshold: number, spent: number): void {
    this.#alerts?.inc({ scope: budget.scope, period: budget.period, threshold: String(threshold) })
    this.#logger?.warn(
      { event: 'budget_alert', scope: budget.scope, subject: budget.subject, period: budget.period, threshold, spent_usd: round6(spent), budget_usd: budget.usd },
      `budget alert: ${budget.scope}${budget.subject ? ` '${budget.subject}'` : ''} has spent ${Math.round(threshold * 100)}% of its ${budget.period}ly budget`,
    )
  }

  /** Drop past periods; if that is not enough, the oldest entries without reservations (their spend is read again from the store). */
  #prune(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.periodEnd <= now) this.#entries.delete(key)
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= MAX_LEDGER_ENTRIES / 2) break
      if (entry.held === 0) this.#entries.delete(key)
    }
  }
}

function scopeFilter(budget: AppliedBudget): { userId?: string; department?: string; keyId?: string } {
  const subject = budget.subject
  switch (budget.scope) {
    case 'key': return { keyId: subject }
    case 'user': return { userId: subject }
    case 'department': return { department: subject }
    case 'organization': return {}
  }
}

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6
