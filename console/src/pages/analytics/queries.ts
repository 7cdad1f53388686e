import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { ApiError, api } from '@/api/client'
import type { UsageGroupBy, UsageInterval, UsageRow } from '@/api/types'
import { personName } from '@/lib/format'
import { keysQuery } from '../keys/queries'
import { addDays, hourStart, localDate } from './zone'

export const RANGES = { '24h': { hours: 24 }, '7d': { days: 7 }, '30d': { days: 30 }, '90d': { days: 90 } } as const
export type Range = keyof typeof RANGES

export interface UsageFilter {
  readonly department?: string
  readonly user_id?: string
}

/**
 * What the page asks the API for, in `timeZone`: `from` a local date (the API reads it as that
 * day's midnight there) or an hour's start, `to` now. The API answers the range's buckets
 * (`meta.buckets`), so the page never works out the zone's calendar itself.
 */
export interface Window {
  readonly from: string
  readonly to: string
  readonly interval: UsageInterval
  readonly timeZone: string
}

const HOUR_MS = 3_600_000

/**
 * The range ending now (to the minute, so repeated renders share one cache entry) in `timeZone`:
 * 24h is the hours since this hour yesterday, by hour; 7d, 30d and 90d are today and the days
 * before it, by day, whole local days however long (a DST change's 23 or 25 hours).
 */
export function windowOf(range: Range, now: number, timeZone: string): Window {
  const to = Math.ceil(now / 60_000) * 60_000
  const spec: { hours?: number; days?: number } = RANGES[range]
  if (spec.days === undefined) {
    // Whole buckets: the first one starts at the hour after this one yesterday.
    const from = hourStart(to - (spec.hours ?? 24) * HOUR_MS, timeZone) + HOUR_MS
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), interval: 'hour', timeZone }
  }
  const first = addDays(localDate(to - 1, timeZone), 1 - spec.days)
  return { from: first, to: new Date(to).toISOString(), interval: 'day', timeZone }
}

/** The gateway does not know the zone the page asked in (its time zone data lacks it): asking again cannot help. */
export const isZoneRefusal = (error: unknown): boolean => error instanceof ApiError && error.code === 'invalid_timezone'

/** Rows of the range, and every bucket of it (those without requests too) when asked by interval. */
export interface Usage {
  readonly rows: readonly UsageRow[]
  readonly buckets: readonly string[]
}

function useUsage(key: string, window: Window, filter: UsageFilter, groupBy: UsageGroupBy | undefined, interval: UsageInterval | undefined) {
  return useQuery({
    queryKey: ['analytics', key, window.from, window.to, window.timeZone, filter, groupBy, interval],
    queryFn: async ({ signal }): Promise<Usage> => {
      const { data, meta } = await api('/analytics/usage', { query: { from: window.from, to: window.to, timezone: window.timeZone, group_by: groupBy, interval, ...filter }, signal })
      return { rows: data, buckets: meta.buckets ?? [] }
    },
    placeholderData: keepPreviousData,
    retry: (failures, error) => failures < 1 && !isZoneRefusal(error),
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
