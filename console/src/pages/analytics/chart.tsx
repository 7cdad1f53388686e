/**
 * Usage over time, one series per group (the largest five, the rest as "other"), with recharts.
 * Counts, tokens and cost are sums per bucket, so they are stacked bars: a curve through them
 * would draw values between buckets that no bucket has. A p95 does not add up; it stays a line.
 * Buckets are the days or hours of the window's time zone, as the API lists them (`meta.buckets`,
 * empty ones too): a day is labelled with its date there, an hour with its time there (and, in the tooltip, the zone's
 * abbreviation, which tells apart the two hours that share a time when clocks go back).
 */
import { Bar, BarChart, CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { ReactNode } from 'react'
import type { UsageRow } from '@/api/types'
import { formatCount, formatMs, formatUsd } from '@/lib/format'
import type { Window } from './queries'

export type Metric = 'requests' | 'total_tokens' | 'cost_usd' | 'latency_p95_ms'

/** `whole`: a count, whose axis has no fractional ticks (which would print as the same number twice). */
export const METRICS: Record<Metric, { label: string; format: (n: number) => string; additive: boolean; whole?: boolean }> = {
  requests: { label: 'Requests', format: formatCount, additive: true, whole: true },
  total_tokens: { label: 'Tokens', format: formatCount, additive: true, whole: true },
  cost_usd: { label: 'Cost', format: formatUsd, additive: true },
  latency_p95_ms: { label: 'Latency p95', format: formatMs, additive: false },
}

const COLORS = ['var(--chart-1)', 'var(--chart-2)', 'var(--chart-3)', 'var(--chart-4)', 'var(--chart-5)', 'var(--chart-6)']
const TOP = 5
const OTHER = 'other'

interface Props {
  readonly rows: readonly UsageRow[]
  /** Every bucket of the range, those without requests too (the API's `meta.buckets`): a row's `bucket` is one of them. */
  readonly buckets: readonly string[]
  readonly window: Window
  readonly metric: Metric
  readonly label: (group: string | null) => string
  /** Beside the legend, at its end: the time zone the buckets are in. */
  readonly note?: ReactNode
}

export function UsageChart({ rows, buckets, window, metric, label, note }: Props) {
  const { format, additive, whole } = METRICS[metric]
  const totals = new Map<string, number>()
  for (const r of rows) totals.set(label(r.group), (totals.get(label(r.group)) ?? 0) + (additive ? r[metric] ?? 0 : r.requests))
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([g]) => g)
  const shown = ranked.slice(0, TOP)
  const hasOther = additive && ranked.length > TOP
  const series = hasOther ? [...shown, OTHER] : shown

  const byBucket = new Map<string, Record<string, number | string>>(buckets.map((b) => [b, { bucket: b }]))
  for (const r of rows) {
    const point = r.bucket ? byBucket.get(r.bucket) : undefined
    // A latency is null for a bucket whose requests were all refused before going upstream: no point.
    const value = r[metric]
    if (!point || value === null) continue
    const name = label(r.group)
    const key = shown.includes(name) ? name : hasOther ? OTHER : undefined
    if (key === undefined) continue
    point[key] = ((point[key] as number | undefined) ?? 0) + value
  }
  const data = [...byBucket.values()].map((p) => {
    if (additive) for (const s of series) p[s] ??= 0
    return p
  })
  const { timeZone } = window
  const hourly = window.interval === 'hour'
  // A bucket is its start, an instant: a day's is its midnight in the zone, so the zone names its date.
  const tick = (key: string) =>
    new Date(key).toLocaleString(undefined, hourly ? { hour: '2-digit', minute: '2-digit', timeZone } : { month: 'short', day: 'numeric', timeZone })
  const tooltipLabel = (key: string) =>
    new Date(key).toLocaleString(undefined, hourly
      ? { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone }
      : { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', timeZone })
  const common = {
    data,
    margin: { top: 8, right: 8, left: 0, bottom: 0 },
  }
  const axes = (
    <>
      <CartesianGrid vertical={false} stroke="var(--border)" />
      <XAxis dataKey="bucket" tickFormatter={tick} tickLine={false} axisLine={false} minTickGap={32} fontSize={12} stroke="var(--muted-foreground)" />
      <YAxis allowDecimals={!whole} tickFormatter={(n: number) => format(n)} tickLine={false} axisLine={false} width={64} fontSize={12} stroke="var(--muted-foreground)" />
      <Tooltip
        cursor={additive ? { fill: 'var(--muted)' } : { stroke: 'var(--border)' }}
        labelFormatter={(key) => tooltipLabel(String(key))}
        formatter={(value) => format(Number(value))}
        contentStyle={{ background: 'var(--popover)', border: '1px solid var(--border)', borderRadius: 8, fontSize: 12 }}
      />
    </>
  )
  return (
    <div className="w-full" role="img" aria-label={`${METRICS[metric].label} over time`}>
      {/* The legend below the chart's fixed height, not over the card's edge when it wraps. */}
      <div className="h-72">
        <ResponsiveContainer width="100%" height="100%">
          {additive ? (
            <BarChart {...common} maxBarSize={48}>
              {axes}
              {series.map((s, i) => (
                // Only the top of the stack is rounded: rounded inner segments would show gaps between groups.
                <Bar key={s} dataKey={s} stackId="1" fill={COLORS[i % COLORS.length]} radius={i === series.length - 1 ? [4, 4, 0, 0] : 0} isAnimationActive={false} />
              ))}
            </BarChart>
          ) : (
            <LineChart {...common}>
              {axes}
              {series.map((s, i) => (
                <Line key={s} type="monotone" dataKey={s} stroke={COLORS[i % COLORS.length]} strokeWidth={2} dot={false} connectNulls isAnimationActive={false} />
              ))}
            </LineChart>
          )}
        </ResponsiveContainer>
      </div>
      <ul className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-muted-foreground">
        {series.map((s, i) => (
          <li key={s} className="flex items-center gap-1.5">
            <span className="size-2.5 rounded-sm" style={{ background: COLORS[i % COLORS.length] }} />
            {s}
          </li>
        ))}
        {note && <li className="ml-auto flex items-center gap-2">{note}</li>}
      </ul>
    </div>
  )
}
