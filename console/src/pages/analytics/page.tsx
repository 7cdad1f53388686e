/**
 * Usage and cost over time (GET /api/v1/analytics/usage): totals, a chart per metric by
 * department / user / model / provider / route / key, a time range picker, and a table to drill
 * down (a department into its users, a user into their models). What a caller sees follows their
 * role's data scope: their own requests, their department's, or everyone's. Days and hours are the
 * viewer's (the browser's time zone), or UTC at a click: the range's edges and the chart's buckets
 * are that zone's, asked of the API in it. A zone the gateway does not know (400 `invalid_timezone`:
 * its time zone data is older than the browser's) gives UTC for the rest of the session, said so
 * above the page, instead of an error whose retry would fail again. The range, metric, grouping, zone and drill-down live in
 * the query string, so a reload or a shared link shows the same.
 */
import { useQueryClient } from '@tanstack/react-query'
import { BarChart3Icon, GlobeIcon, RefreshCwIcon, XIcon } from 'lucide-react'
import { useState, type ReactNode } from 'react'
import { useSearchParams } from 'react-router'
import type { UsageGroupBy, UsageRow } from '@/api/types'
import { useSession } from '@/auth/session'
import { PageHeader } from '@/components/page-header'
import { PageBody } from '@/components/shell'
import { EmptyState, ErrorState, LoadingRows } from '@/components/states'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Card, CardContent, CardHeader, CardTitle } from '@/components/ui/card'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { Skeleton } from '@/components/ui/skeleton'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { Tabs, TabsList, TabsTrigger } from '@/components/ui/tabs'
import { formatCount, formatLatency, formatPercent, formatUsd } from '@/lib/format'
import { METRICS, UsageChart, type Metric } from './chart'
import { RANGES, isZoneRefusal, useBreakdown, useKeyNames, useSeries, useTotals, useUserNames, windowOf, type Range, type UsageFilter } from './queries'
import { CostFigure, UnpricedNote } from './unpriced'
import { browserTimeZone, refusedZone, rememberRefusedZone } from './zone'

const GROUP_LABELS: Record<UsageGroupBy, string> = { department: 'Department', user: 'User', model: 'Model', provider: 'Provider', route: 'Route', key: 'Key' }
/**
 * A row without a group, by grouping: a request refused before it was routed (an unknown model, a
 * refused parameter) has no model or route; one no provider was tried for, no provider.
 */
const NO_GROUP: Record<UsageGroupBy, string> = {
  model: 'not routed', route: 'not routed', provider: 'no provider', department: 'no department', user: 'no user', key: 'no key',
}
/** A row of these opens the next level: a department's users, a user's models. */
const DRILL: Partial<Record<UsageGroupBy, { filter: keyof UsageFilter; next: UsageGroupBy }>> = {
  department: { filter: 'department', next: 'user' },
  user: { filter: 'user_id', next: 'model' },
}

/**
 * The page's state in the query string: `?range=30d&metric=cost_usd&by=user&tz=utc&department=research&user_id=…`.
 * `tz` is `local` (the viewer's own zone, whoever opens the link) or `utc`.
 */
const DEFAULTS = { range: '7d', metric: 'requests', by: 'model', tz: 'local' } as const
const ZONES = ['local', 'utc'] as const
type Param = keyof typeof DEFAULTS | keyof UsageFilter
const pick = <T extends string>(value: string | null, allowed: readonly T[], fallback: T): T => (allowed.includes(value as T) ? (value as T) : fallback)

function Stat({ label, value, hint, loading }: { label: string; value: ReactNode; hint?: string; loading: boolean }) {
  return (
    <Card>
      <CardContent className="p-4 sm:p-5">
        <p className="text-xs font-medium text-muted-foreground">{label}</p>
        {loading ? <Skeleton className="mt-2 h-7 w-20" /> : <p className="mt-1 text-xl font-semibold tabular-nums sm:text-2xl" data-stat={label}>{value}</p>}
        {hint && !loading && <p className="mt-0.5 text-xs text-muted-foreground">{hint}</p>}
      </CardContent>
    </Card>
  )
}

export default function AnalyticsPage() {
  const { me, can } = useSession()
  const groups: UsageGroupBy[] =
    me.scope === 'all_data' ? ['model', 'provider', 'department', 'user', 'route', 'key']
      : me.scope === 'department_data' ? ['model', 'provider', 'user', 'route', 'key']
        : ['model', 'provider', 'route', 'key']
  const [search, setSearch] = useSearchParams()
  const range = pick(search.get('range'), Object.keys(RANGES) as Range[], DEFAULTS.range)
  const groupBy = pick(search.get('by'), groups, DEFAULTS.by)
  const metric = pick(search.get('metric'), Object.keys(METRICS) as Metric[], DEFAULTS.metric)
  const zone = pick(search.get('tz'), ZONES, DEFAULTS.tz)
  const localZone = browserTimeZone()
  const [refused, setRefused] = useState(refusedZone)
  const localKnown = refused !== localZone
  const timeZone = zone === 'utc' || !localKnown ? 'UTC' : localZone
  const filter: UsageFilter = {
    ...(search.get('department') ? { department: search.get('department')! } : {}),
    ...(search.get('user_id') ? { user_id: search.get('user_id')! } : {}),
  }
  /** Change some of the state; a drill-down is a step Back undoes (`push`), the rest replace the entry. */
  const update = (changes: Partial<Record<Param, string | undefined>>, push = false) =>
    setSearch((previous) => {
      const next = new URLSearchParams(previous)
      for (const [name, value] of Object.entries(changes)) {
        if (value === undefined || value === DEFAULTS[name as keyof typeof DEFAULTS]) next.delete(name)
        else next.set(name, value)
      }
      return next
    }, { replace: !push })
  const [now, setNow] = useState(() => Date.now())
  const queryClient = useQueryClient()
  const refresh = () => {
    setNow(Date.now())
    void queryClient.invalidateQueries({ queryKey: ['analytics'] })
  }

  const window = windowOf(range, now, timeZone)
  const totals = useTotals(window, filter)
  const series = useSeries(window, filter, groupBy)
  const breakdown = useBreakdown(window, filter, groupBy)
  const names = useUserNames(can('view_users'))
  const keyNames = useKeyNames(can('manage_keys'))
  // The gateway refused the viewer's zone: UTC from this render on (set while rendering, so the error never shows).
  if (localKnown && timeZone === localZone && [totals, series, breakdown].some((q) => isZoneRefusal(q.error))) {
    rememberRefusedZone(localZone)
    setRefused(localZone)
  }
  const label = (group: string | null): string => {
    if (group === null) return NO_GROUP[groupBy]
    if (groupBy === 'user') return names.data?.get(group) ?? group
    // A virtual key's id, named; a config key's group is already its label (config:<user>).
    if (groupBy === 'key') return keyNames.data?.get(group) ?? group
    return group
  }

  const zoneNote = (
    <>
      <span data-zone-note>{window.interval === 'hour' ? 'Hours' : 'Days'} in {timeZone}</span>
      {/* Where the viewer's zone is UTC, or one the gateway does not know, there is nothing to switch to. */}
      {localZone !== 'UTC' && localKnown && (
        <Button variant="outline" size="sm" className="h-6 px-2" onClick={() => update({ tz: zone === 'utc' ? undefined : 'utc' })}>
          {zone === 'utc' ? `Use ${localZone}` : 'Use UTC'}
        </Button>
      )}
    </>
  )
  const total: UsageRow | undefined = totals.data?.rows[0]
  const refreshing = totals.isFetching || series.isFetching || breakdown.isFetching
  const drill = DRILL[groupBy]

  return (
    <PageBody>
      <PageHeader
        title="Analytics"
        description={me.scope === 'all_data' ? 'Every request through the gateway.' : me.scope === 'department_data' ? `Requests of the ${me.department} department.` : 'Your own requests.'}
        actions={
          <>
            <Tabs value={range} onValueChange={(v) => update({ range: v })}>
              <TabsList aria-label="Time range">
                {Object.keys(RANGES).map((r) => <TabsTrigger key={r} value={r}>{r}</TabsTrigger>)}
              </TabsList>
            </Tabs>
            <Button variant="outline" size="icon" aria-label="Refresh" onClick={refresh} disabled={refreshing}>
              <RefreshCwIcon className={refreshing ? 'animate-spin' : undefined} />
            </Button>
          </>
        }
      />

      {(filter.department || filter.user_id) && (
        <div className="mb-4 flex flex-wrap items-center gap-2 text-sm">
          <span className="text-muted-foreground">Showing</span>
          {filter.department && <Badge variant="outline">department: {filter.department}</Badge>}
          {filter.user_id && <Badge variant="outline">user: {names.data?.get(filter.user_id) ?? filter.user_id}</Badge>}
          <Button variant="ghost" size="sm" onClick={() => update({ department: undefined, user_id: undefined, by: undefined })}>
            <XIcon /> Clear
          </Button>
        </div>
      )}

      {!localKnown && (
        <Alert variant="warning" className="mb-4" data-zone-refused>
          <GlobeIcon />
          <AlertDescription>Your time zone {localZone} is not known to the gateway; showing UTC.</AlertDescription>
        </Alert>
      )}

      {totals.isError ? (
        // One outage, one message: its retry asks for the series and the breakdown again too (they failed with it).
        <ErrorState error={totals.error} retry={() => { void totals.refetch(); void series.refetch(); void breakdown.refetch() }} service="analytics" />
      ) : (
        <div className="space-y-6">
          <div className="grid grid-cols-2 gap-3 lg:grid-cols-4">
            <Stat label="Requests" value={formatCount(total?.requests ?? 0)} hint={total ? `${formatPercent(total.error_rate)} errors` : undefined} loading={totals.isPending} />
            <Stat label="Tokens" value={formatCount(total?.total_tokens ?? 0)} hint={total ? `${formatCount(total.prompt_tokens)} in · ${formatCount(total.completion_tokens)} out` : undefined} loading={totals.isPending} />
            <Stat label="Cost" value={total ? <CostFigure row={total} /> : formatUsd(0)} hint={total?.unpriced_requests ? `${formatCount(total.unpriced_requests)} unpriced not counted` : undefined} loading={totals.isPending} />
            <Stat label="Latency p50 / p95" value={total && total.requests ? <>{/* A phone wraps between the two, never inside one ("1.23 / s"). */}<span className="whitespace-nowrap">{formatLatency(total.latency_p50_ms)}</span> / <span className="whitespace-nowrap">{formatLatency(total.latency_p95_ms)}</span></> : '—'} loading={totals.isPending} />
          </div>

          <UnpricedNote total={total} />

          <Card>
            <CardHeader className="flex-col gap-3 sm:flex-row sm:items-center sm:justify-between">
              <Tabs value={metric} onValueChange={(v) => update({ metric: v })}>
                {/* A phone's width holds the four when they share it (at their own padding "Latency p95" was cut off at the edge). */}
                <TabsList aria-label="Metric" className="flex w-full overflow-x-auto sm:inline-flex sm:w-auto">
                  {(Object.keys(METRICS) as Metric[]).map((m) => <TabsTrigger key={m} value={m} className="flex-1 px-2 sm:flex-none sm:px-3">{METRICS[m].label}</TabsTrigger>)}
                </TabsList>
              </Tabs>
              <div className="flex items-center gap-2">
                <span className="text-sm text-muted-foreground">by</span>
                <Select value={groupBy} onValueChange={(v) => update({ by: v })}>
                  <SelectTrigger className="w-36" aria-label="Group by"><SelectValue /></SelectTrigger>
                  <SelectContent>
                    {groups.map((g) => <SelectItem key={g} value={g}>{GROUP_LABELS[g]}</SelectItem>)}
                  </SelectContent>
                </Select>
              </div>
            </CardHeader>
            <CardContent>
              {series.isPending && <Skeleton className="h-72 w-full" />}
              {series.isError && <ErrorState error={series.error} retry={() => void series.refetch()} />}
              {series.data && (total?.requests ?? 0) === 0 && (
                <>
                  <EmptyState icon={<BarChart3Icon />} title="No requests in this range">Requests through /v1 show up here within seconds.</EmptyState>
                  {/* The zone decides the range's edges: it can be switched with nothing in it too. */}
                  <div className="mt-3 flex items-center justify-end gap-2 text-xs text-muted-foreground">{zoneNote}</div>
                </>
              )}
              {series.data && (total?.requests ?? 0) > 0 && (
                <UsageChart rows={series.data.rows} buckets={series.data.buckets} window={window} metric={metric} label={label} note={zoneNote} />
              )}
            </CardContent>
          </Card>

          <Card className="overflow-hidden">
            <CardHeader>
              <CardTitle>By {GROUP_LABELS[groupBy].toLowerCase()}</CardTitle>
              {drill && <p className="text-xs text-muted-foreground">Select a row to see its {GROUP_LABELS[drill.next].toLowerCase()}s.</p>}
            </CardHeader>
            {breakdown.isPending && <CardContent><LoadingRows rows={3} /></CardContent>}
            {breakdown.isError && <CardContent><ErrorState error={breakdown.error} retry={() => void breakdown.refetch()} /></CardContent>}
            {breakdown.data && breakdown.data.rows.length === 0 && <CardContent><p className="py-6 text-center text-sm text-muted-foreground">Nothing in this range.</p></CardContent>}
            {breakdown.data && breakdown.data.rows.length > 0 && (
              <Table>
                <TableHeader>
                  <TableRow>
                    <TableHead>{GROUP_LABELS[groupBy]}</TableHead>
                    <TableHead className="text-right">Requests</TableHead>
                    <TableHead className="text-right">Errors</TableHead>
                    {/* A phone's width holds the group, requests, errors and cost: tokens (a chart tab of their own) give way, or cost ran off the edge. */}
                    <TableHead className="hidden text-right sm:table-cell">Tokens</TableHead>
                    <TableHead className="text-right">Cost</TableHead>
                    <TableHead className="hidden text-right sm:table-cell">p50</TableHead>
                    <TableHead className="hidden text-right sm:table-cell">p95</TableHead>
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {[...breakdown.data.rows].sort((a, b) => b.requests - a.requests).map((row) => {
                    const open = drill && row.group !== null ? () => update({ [drill.filter]: row.group!, by: drill.next }, true) : undefined
                    return (
                      <TableRow key={row.group ?? ''} className={open ? 'cursor-pointer' : undefined} onClick={open} data-group={row.group ?? ''}>
                        <TableCell className="max-w-64 font-medium whitespace-normal break-all sm:truncate sm:break-normal" title={label(row.group)}>{open ? <button type="button" className="hover:underline">{label(row.group)}</button> : label(row.group)}</TableCell>
                        <TableCell className="text-right tabular-nums">{formatCount(row.requests)}</TableCell>
                        <TableCell className="text-right tabular-nums">{row.errors ? <span className="text-destructive">{formatCount(row.errors)}</span> : 0}</TableCell>
                        <TableCell className="hidden text-right tabular-nums sm:table-cell">{formatCount(row.total_tokens)}</TableCell>
                        <TableCell className="text-right tabular-nums"><CostFigure row={row} /></TableCell>
                        <TableCell className="hidden text-right tabular-nums sm:table-cell">{formatLatency(row.latency_p50_ms)}</TableCell>
                        <TableCell className="hidden text-right tabular-nums sm:table-cell">{formatLatency(row.latency_p95_ms)}</TableCell>
                      </TableRow>
                    )
                  })}
                </TableBody>
              </Table>
            )}
          </Card>
        </div>
      )}
    </PageBody>
  )
}
