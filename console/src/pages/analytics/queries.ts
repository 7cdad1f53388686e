import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { api } from '@/api/client'
import type { UsageGroupBy, UsageInterval } from '@/api/types'
import { personName } from '@/lib/format'
import { keysQuery } from '../keys/queries'

export const RANGES = { '24h': 24, '7d': 24 * 7, '30d': 24 * 30, '90d': 24 * 90 } as const
export type Range = keyof typeof RANGES

export interface UsageFilter {
  readonly department?: string
  readonly user_id?: string
}

export interface Window {
  readonly from: string
  readonly to: string
  readonly interval: UsageInterval
}

const HOUR_MS = 3_600_000

/** The range ending now (to the minute, so repeated renders share one cache entry), by hour up to two days, else by day. */
export function windowOf(range: Range, now: number): Window {
  const to = Math.ceil(now / 60_000) * 60_000
  const hours = RANGES[range]
  const interval: UsageInterval = hours <= 48 ? 'hour' : 'day'
  // Whole buckets: the first one starts at its hour or day.
  const step = interval === 'hour' ? HOUR_MS : 24 * HOUR_MS
  const from = Math.floor((to - hours * HOUR_MS) / step) * step + step
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), interval }
}

/** Every bucket start in the window, so buckets without requests show as zero. */
export function bucketsOf(window: Window): string[] {
  const step = window.interval === 'hour' ? HOUR_MS : 24 * HOUR_MS
  const out: string[] = []
  for (let t = new Date(window.from).getTime(); t < new Date(window.to).getTime(); t += step) out.push(new Date(t).toISOString())
  return out
}

function useUsage(key: string, window: Window, filter: UsageFilter, groupBy: UsageGroupBy | undefined, interval: UsageInterval | undefined) {
  return useQuery({
    queryKey: ['analytics', key, window.from, window.to, filter, groupBy, interval],
    queryFn: async ({ signal }) =>
      (await api('/analytics/usage', { query: { from: window.from, to: window.to, group_by: groupBy, interval, ...filter }, signal })).data,
    placeholderData: keepPreviousData,
    // New requests show up without a click; the Refresh button asks at once.
    refetchInterval: 30_000,
  })
}

export const useTotals = (window: Window, filter: UsageFilter) => useUsage('totals', window, filter, undefined, undefined)
export const useSeries = (window: Window, filter: UsageFilter, groupBy: UsageGroupBy) => useUsage('series', window, filter, groupBy, window.interval)
export const useBreakdown = (window: Window, filter: UsageFilter, groupBy: UsageGroupBy) => useUsage('breakdown', window, filter, groupBy, undefined)

/** User names for user ids, when the caller may list users. */
export function useUserNames(enabled: boolean) {
  return useQuery({
    queryKey: ['users'],
    queryFn: async ({ signal }) => (await api('/users', { query: { limit: 1000 }, signal })).data,
    enabled,
    select: (users) => new Map(users.map((u) => [u.id, personName(u)])),
    retry: false,
  })
}

/**
 * Key names for key ids (a usage row's group when grouped by key), revoked keys too, when the
 * caller may list keys. A name two keys share gets each one's prefix, so the chart does not add
 * two keys up as one.
 */
export function useKeyNames(enabled: boolean) {
  return useQuery({
    ...keysQuery(true),
    enabled,
    select: (keys) => {
      const count = new Map<string, number>()
      for (const k of keys) if (k.name) count.set(k.name, (count.get(k.name) ?? 0) + 1)
      return new Map(keys.map((k) => [k.id, k.name && count.get(k.name) === 1 ? k.name : k.name ? `${k.name} (${k.prefix}…)` : `${k.prefix}…`]))
    },
    retry: false,
  })
}
