/**
 * Calendar dates and hours in an IANA time zone, for the analytics page's range edges (where it
 * starts: a local date, or a local hour's start). The buckets within it are the API's
 * (`meta.buckets`): the page does not list them itself.
 */

const HOUR_MS = 3_600_000
const formats = new Map<string, Intl.DateTimeFormat>()

function wallFormat(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
    formats.set(timeZone, format)
  }
  return format
}

/** The wall clock in `timeZone` at `instant`, as if it were UTC (milliseconds, to the second). */
function wallClock(instant: number, timeZone: string): number {
  const parts = wallFormat(timeZone).formatToParts(instant)
  const part = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value)
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'))
}

/** The viewer's time zone, from the browser; UTC when the browser cannot say (`Etc/Unknown`). */
export function browserTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone
  return zone && zone !== 'Etc/Unknown' ? zone : 'UTC'
}

const REFUSED_KEY = 'analytics.refused-zone'

/**
 * The viewer's zone the gateway answered 400 `invalid_timezone` for this browser session (its time
 * zone data is older than the browser's), if it did: the page shows UTC instead of asking again.
 */
export function refusedZone(): string | undefined {
  try { return sessionStorage.getItem(REFUSED_KEY) ?? undefined } catch { return undefined }
}

/** Remember that the gateway does not know `zone`, for this session (this page view only where storage is off). */
export function rememberRefusedZone(zone: string): void {
  try { sessionStorage.setItem(REFUSED_KEY, zone) } catch { /* storage off: the page's state still has it */ }
}

/** The calendar date (YYYY-MM-DD) in `timeZone` at `instant`. */
export const localDate = (instant: number, timeZone: string): string => new Date(wallClock(instant, timeZone)).toISOString().slice(0, 10)

/** The date `days` after `date` (YYYY-MM-DD; negative for before). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

/** The start of the local hour `instant` is in: its wall clock's minutes and seconds taken off. */
export function hourStart(instant: number, timeZone: string): number {
  const offset = Math.round((wallClock(instant, timeZone) - Math.floor(instant / 1000) * 1000) / 60_000) * 60_000
  return instant - ((((instant + offset) % HOUR_MS) + HOUR_MS) % HOUR_MS)
}
