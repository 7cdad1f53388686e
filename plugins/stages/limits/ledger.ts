/**
 * Spend per budget and period: what the usage log says (read at most every `budget_refresh_s`),
 * plus what this process has spent since that read began (from each exchange's final cost), so
 * the hot path does not query the database per request. Without a usage log, the process's own
 * spend is all there is (it starts from zero at each start). One ledger per gateway: it outlives
 * reloads (the stage keeps it with `ctx.keep`).
 */
import type { Logger } from '../../../core/plugins/api.ts'
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
  reading: Promise<void> | undefined
  /** The highest alert threshold raised this period. */
  alerted: number
}

/** How long the first read of a budget's spend may take before the request goes on with what this process knows. */
const FIRST_READ_TIMEOUT_MS = 2000
const MAX_LEDGER_ENTRIES = 100_000

/**
 * Spend per budget and period: what the store's usage events say (read at most every
 * `budget_refresh_s`), plus what this process has spent since that read began (from each
 * exchange's final cost), so the hot path does not query the database per request. Without a
 * store, the process's own spend is all there is (it starts from zero at each start).
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

  /** Spend so far this period. Reads the store the first time (bounded) and refreshes in the background after. */
  async spent(budget: AppliedBudget, log: UsageLog | undefined, refreshMs: number, now = Date.now()): Promise<number> {
    const entry = this.#entry(budget, now)
    if (log) {
      if (entry.readAt === 0) {
        await Promise.race([this.#read(entry, budget, log, now), new Promise<void>((resolve) => setTimeout(resolve, FIRST_READ_TIMEOUT_MS).unref())])
      } else if (now - entry.readAt >= refreshMs && !entry.reading) {
        void this.#read(entry, budget, log, now)
      }
    }
    return entry.stored + entry.accrued
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

  #entry(budget: AppliedBudget, now: number): LedgerEntry {
    const periodStart = startOfPeriod(budget.period, now)
    let entry = this.#entries.get(budget.key)
    if (!entry || entry.periodStart !== periodStart) {
      if (this.#entries.size >= MAX_LEDGER_ENTRIES) this.#prune(now)
      entry = { periodStart, periodEnd: endOfPeriod(budget.period, now), stored: 0, readAt: 0, accrued: 0, accruedDuringRead: 0, reading: undefined, alerted: 0 }
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
      this.#alerts?.inc({ scope: budget.scope, period: budget.period, threshold: String(threshold) })
      this.#logger?.warn(
        { event: 'budget_alert', scope: budget.scope, subject: budget.subject, period: budget.period, threshold, spent_usd: round6(spent), budget_usd: budget.usd },
        `budget alert: ${budget.scope}${budget.subject ? ` '${budget.subject}'` : ''} has spent ${Math.round(threshold * 100)}% of its ${budget.period}ly budget`,
      )
    }
  }

  /** Drop past periods; if that is not enough, the oldest entries (their spend is read again from the store). */
  #prune(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.periodEnd <= now) this.#entries.delete(key)
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= MAX_LEDGER_ENTRIES / 2) break
      this.#entries.delete(key)
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
