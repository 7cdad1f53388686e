/** Numbers and dates as the console shows them. */
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 })
const whole = new Intl.NumberFormat()

export const formatCount = (n: number): string => (Math.abs(n) >= 10_000 ? compact.format(n) : whole.format(Math.round(n)))

export function formatUsd(n: number): string {
  if (n === 0) return '$0'
  if (Math.abs(n) < 0.01) return `$${n.toPrecision(2)}`
  return n.toLocaleString(undefined, { style: 'currency', currency: 'USD', maximumFractionDigits: 2 })
}

export const formatMs = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`)

/** A latency figure, or a dash where none was measured (every request refused before going upstream). */
export const formatLatency = (n: number | null): string => (n === null ? '—' : formatMs(n))

export const formatPercent = (n: number): string => `${(n * 100).toFixed(n < 0.1 && n > 0 ? 1 : 0)}%`

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '—'
  return new Date(value).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

export function formatRelative(value: string | null | undefined): string {
  if (!value) return 'never'
  const seconds = Math.round((Date.now() - new Date(value).getTime()) / 1000)
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
  if (Math.abs(seconds) < 60) return rtf.format(-seconds, 'second')
  if (Math.abs(seconds) < 3600) return rtf.format(-Math.round(seconds / 60), 'minute')
  if (Math.abs(seconds) < 86400) return rtf.format(-Math.round(seconds / 3600), 'hour')
  return rtf.format(-Math.round(seconds / 86400), 'day')
}

/** A user as lists name them: their name, else email, else the subject their sign-in or key gave. */
export const personName = (p: { readonly name: string | null; readonly email: string | null; readonly external_subject: string }): string =>
  p.name ?? p.email ?? p.external_subject

/** `n` things, the noun in the singular for one: "1 message", "3 messages". */
export const formatCountOf = (n: number, one: string, many = `${one}s`): string => `${formatCount(n)} ${n === 1 ? one : many}`
