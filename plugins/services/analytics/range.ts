/**
 * The time range an analytics query names, read as an admin means it: a date (2026-11-30) is the
 * whole of that day in the query's time zone, so `from=2026-11-01&to=2026-11-30` is November and
 * `from=2026-12-07&to=2026-12-07` is one day; a time (2026-11-30T12:00:00Z) is that instant.
 */
import { badRequest } from '../../../plugin-api/index.ts'

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/

/** The IANA time zone `name` (e.g. Europe/Paris), checked; 400 `invalid_timezone` for one the runtime does not know. */
export function checkTimeZone(name: string | undefined): string {
  if (name === undefined || name === '') return 'UTC'
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
  } catch {
    throw badRequest(`\`timezone\` must be an IANA time zone, e.g. UTC, Europe/Paris or America/New_York; '${name}' is not one.`, 'timezone', 'invalid_timezone')
  }
}

/**
 * `text` as an instant: a time as written, a date as the start of that day in `timeZone` (for `to`,
 * the start of the next day: the range's end is exclusive). undefined for text that is neither.
 */
export function rangeEdge(text: string, edge: 'from' | 'to', timeZone: string): Date | undefined {
  const day = DATE_ONLY.exec(text)
  if (!day) {
    const d = new Date(text)
    return Number.isNaN(d.getTime()) ? undefined : d
  }
  const [year, month, date] = [Number(day[1]), Number(day[2]), Number(day[3])]
  const wall = Date.UTC(year, month - 1, date + (edge === 'to' ? 1 : 0))
  // Not a real date (2026-02-30 rolls over to March): refused, as new Date() refuses it.
  if (new Date(Date.UTC(year, month - 1, date)).getUTCDate() !== date) return undefined
  // The zone's offset at midnight, looked up twice: once near the day, once at the instant found (a DST change that day).
  const first = wall - offsetMs(wall, timeZone)
  return new Date(wall - offsetMs(first, timeZone))
}

/** How far `timeZone`'s wall clock is ahead of UTC at `instant`, in milliseconds. */
function offsetMs(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(instant)
  const part = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value)
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'))
  return Math.round((wall - Math.floor(instant / 1000) * 1000) / 60_000) * 60_000
}
