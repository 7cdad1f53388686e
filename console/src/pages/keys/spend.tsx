/**
 * What a key has spent this UTC day and month (the periods its budget runs on), against its
 * budget when it has one: "$3.20 of $5.00", a bar and a percentage, and "Over budget" in words
 * (not colour alone) once the budget is spent, which is when the gateway refuses it (402).
 */
import { CircleAlertIcon } from 'lucide-react'
import type { ListedKey } from '@/api/types'
import { formatUsd } from '@/lib/format'
import { cn } from '@/lib/utils'

const PERIODS = [
  { field: 'day_usd', budget: 'budget_usd_per_day', label: 'today', long: 'this UTC day' },
  { field: 'month_usd', budget: 'budget_usd_per_month', label: 'this month', long: 'this UTC calendar month' },
] as const

/** At or over: the budget is spent, and the key's next request is refused. */
export const overBudget = (spent: number, budget: number): boolean => spent >= budget

function PeriodSpend({ spent, budget, label, long, compact }: { spent: number; budget: number | undefined; label: string; long: string; compact: boolean }) {
  if (budget === undefined) {
    return <div data-spend-period={label}><span className="tabular-nums">{formatUsd(spent)}</span> <span className="text-muted-foreground">{label}</span></div>
  }
  const over = overBudget(spent, budget)
  const share = budget > 0 ? spent / budget : 1
  const percent = Math.round(share * 100)
  const near = !over && share >= 0.8
  const state = over
    ? <span className="font-medium whitespace-nowrap text-destructive"><CircleAlertIcon className="inline size-3.5 align-[-2px]" aria-hidden /> Over budget</span>
    : <span className={cn('tabular-nums whitespace-nowrap text-muted-foreground', near && 'font-medium text-amber-700 dark:text-amber-300')}>{compact ? `· ${percent}%` : `${percent}%`}</span>
  const amounts = <><span className="tabular-nums">{formatUsd(spent)}</span>{' '}<span className="text-muted-foreground">of <span className="tabular-nums">{formatUsd(budget)}</span> {label}</span></>
  // At phone width the words wrap, the state after them; wider, the amounts are one line and the state is beside the bar.
  if (compact) return <div data-spend-period={label} data-over-budget={over || undefined}>{amounts} {state}</div>
  return (
    <div data-spend-period={label} data-over-budget={over || undefined} className="grid gap-0.5">
      <div className="whitespace-nowrap">{amounts}</div>
      <div className="flex items-center gap-2">
        <div
          role="meter" aria-label={`Spent of the budget ${long}`} aria-valuemin={0} aria-valuemax={budget} aria-valuenow={Math.min(spent, budget)}
          aria-valuetext={`${formatUsd(spent)} of ${formatUsd(budget)}${over ? ', over budget' : ''}`}
          className="h-1.5 w-24 shrink-0 overflow-hidden rounded-full bg-muted"
        >
          <div className={cn('h-full rounded-full', over ? 'bg-destructive' : near ? 'bg-amber-500' : 'bg-primary')} style={{ width: `${Math.min(100, percent)}%` }} />
        </div>
        {state}
      </div>
    </div>
  )
}

/**
 * The key's spend, one line per period; a period without a budget shows what was spent only.
 * `compact`: the phone's line under the key's name, without bars (and without a month spent
 * against no budget, to stay short).
 */
export function KeySpend({ apiKey, compact = false }: { apiKey: ListedKey; compact?: boolean }) {
  const { spend, limits } = apiKey
  if (!spend) return compact ? null : <span className="text-muted-foreground" title="The gateway records no usage (no store)">—</span>
  const periods = PERIODS.filter((p) => !compact || limits[p.budget] !== undefined || p.field === 'day_usd')
  return (
    <div className={cn('grid text-xs', compact ? 'gap-0.5 whitespace-normal font-normal' : 'gap-1.5')} data-key-spend>
      {/* The column's header says UTC; the phone's line, without it, says it on its first period. */}
      {periods.map((p, i) => <PeriodSpend key={p.field} spent={spend[p.field]} budget={limits[p.budget]} label={compact && i === 0 ? `${p.label} (UTC)` : p.label} long={p.long} compact={compact} />)}
    </div>
  )
}
