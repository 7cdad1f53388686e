/**
 * `gateway config diff OLD NEW`: what a rollout changes, section by section: routes (by model name, and their order),
 * their targets, providers, departments, roles, limits, feature flags and every other top-level
 * section. Values of providers and other plugin blocks are not printed (they hold secrets); a
 * change is named, with the keys that changed.
 */
import { canonicalJson } from '../plugin-api/kit/canonical.ts'
import type { GatewayConfig, RouteConfig } from '../core/config/types.ts'

export interface ConfigChange {
  readonly section: string
  readonly name: string
  readonly change: 'added' | 'removed' | 'changed'
  /** What changed within it (keys, or for a route: targets added and removed). */
  readonly details: readonly string[]
}

/** Sections whose entries are compared one by one (a map of named entries). */
const NAMED_SECTIONS = ['providers', 'departments', 'roles', 'features', 'services', 'stages', 'surfaces', 'telemetry', 'pricing'] as const
/** Whose values may be shown in words (no secrets in them). */
const SHOWN = new Set(['departments', 'roles', 'features', 'limits', 'routes'])

const same = (a: unknown, b: unknown): boolean => canonicalJson(a ?? null) === canonicalJson(b ?? null)

export function configDiff(before: GatewayConfig, after: GatewayConfig): ConfigChange[] {
  const changes: ConfigChange[] = []
  changes.push(...routeChanges(before.routes ?? [], after.routes ?? []))
  for (const section of NAMED_SECTIONS) {
    const a = (before[section] ?? {}) as Record<string, unknown>
    const b = (after[section] ?? {}) as Record<string, unknown>
    for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(name in a)) changes.push({ section, name, change: 'added', details: SHOWN.has(section) ? [`= ${canonicalJson(b[name])}`] : [] })
      else if (!(name in b)) changes.push({ section, name, change: 'removed', details: [] })
      else if (!same(a[name], b[name])) changes.push({ section, name, change: 'changed', details: keyChanges(a[name], b[name], SHOWN.has(section)) })
    }
  }
  const handled = new Set<string>(['routes', ...NAMED_SECTIONS])
  const sections = new Set([...Object.keys(before), ...Object.keys(after)].filter((s) => !handled.has(s)))
  for (const section of sections) {
    const a = (before as unknown as Record<string, unknown>)[section]
    const b = (after as unknown as Record<string, unknown>)[section]
    if (same(a, b)) continue
    const change = a === undefined ? 'added' : b === undefined ? 'removed' : 'changed'
    changes.push({ section, name: section, change, details: change === 'changed' ? keyChanges(a, b, SHOWN.has(section)) : [] })
  }
  return changes
}

function routeChanges(before: readonly RouteConfig[], after: readonly RouteConfig[]): ConfigChange[] {
  // Routes are named by model; a name with `when:` conditions may have several, told apart by position.
  const keyed = (routes: readonly RouteConfig[]): Map<string, RouteConfig> => {
    const out = new Map<string, RouteConfig>()
    for (const route of routes) {
      let key = route.model
      for (let n = 2; out.has(key); n++) key = `${route.model} #${n}`
      out.set(key, route)
    }
    return out
  }
  const a = keyed(before)
  const b = keyed(after)
  const changes: ConfigChange[] = []
  const target = (t: RouteConfig['targets'][number]): string => `${t.provider}${t.model ? `/${t.model}` : ''}`
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const old = a.get(name)
    const now = b.get(name)
    if (!old) changes.push({ section: 'routes', name, change: 'added', details: [`targets: ${now!.targets.map(target).join(', ')}`] })
    else if (!now) changes.push({ section: 'routes', name, change: 'removed', details: [] })
    else if (!same(old, now)) {
      const details: string[] = []
      const oldTargets = old.targets.map(target)
      const newTargets = now.targets.map(target)
      for (const t of newTargets) if (!oldTargets.includes(t)) details.push(`target added: ${t}`)
      for (const t of oldTargets) if (!newTargets.includes(t)) details.push(`target removed: ${t}`)
      if (details.length === 0 && !same(oldTargets, newTargets)) details.push(`targets reordered: ${newTargets.join(', ')}`)
      const { targets: _o, ...oldRest } = old
      const { targets: _n, ...newRest } = now
      if (!same(old.targets, now.targets) && details.length === 0) details.push('targets changed (settings)')
      details.push(...keyChanges(oldRest, newRest, true))
      changes.push({ section: 'routes', name, change: 'changed', details })
    }
  }
  return [...changes, ...orderChanges([...a.keys()].filter((k) => b.has(k)), [...b.keys()].filter((k) => a.has(k)))]
}

/** The first matching route answers: routes that trade places (two globs a name matches both of) route differently though none of them changed. */
function orderChanges(before: readonly string[], after: readonly string[]): ConfigChange[] {
  const first = before.findIndex((name, i) => after[i] !== name)
  if (first === -1) return []
  let last = before.length - 1
  while (before[last] === after[last]) last--
  const span = (names: readonly string[]): string => names.slice(first, last + 1).join(', ')
  return [{ section: 'routes', name: '(order)', change: 'changed', details: [`first match wins: ${span(before)} → ${span(after)}`] }]
}

/** The keys of two objects whose values differ, with the values when they may be shown. */
function keyChanges(a: unknown, b: unknown, show: boolean): string[] {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) || Array.isArray(b)) {
    return show ? [`${canonicalJson(a)} → ${canonicalJson(b)}`] : ['value changed']
  }
  const out: string[] = []
  const x = a as Record<string, unknown>
  const y = b as Record<string, unknown>
  for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
    if (same(x[key], y[key])) continue
    if (!show) out.push(`${key} changed`)
    // A plugin block inside a shown section (`limits.backend`: a Redis URL with its password) is named by its keys only.
    else if (holdsPluginBlock(x[key]) || holdsPluginBlock(y[key])) out.push(...keyChanges(x[key] ?? {}, y[key] ?? {}, false).map((change) => change === 'plugin changed' ? `${key}.plugin: ${pluginOf(x[key])} → ${pluginOf(y[key])}` : `${key}.${change}`))
    else if (!(key in x)) out.push(`${key} added: ${canonicalJson(y[key])}`)
    else if (!(key in y)) out.push(`${key} removed`)
    else out.push(`${key}: ${canonicalJson(x[key])} → ${canonicalJson(y[key])}`)
  }
  return out
}

const pluginOf = (block: unknown): string => String((block as { plugin?: unknown } | undefined)?.plugin ?? 'none')

/** Whether `value` is or holds a plugin's block (`{ plugin: redis, url: ... }`), whose values may be secrets. */
function holdsPluginBlock(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  return typeof (value as { plugin?: unknown }).plugin === 'string' || Object.values(value).some(holdsPluginBlock)
}

/** One line per change, as a person reads a rollout. */
export function describeChanges(changes: readonly ConfigChange[]): string {
  if (changes.length === 0) return 'no change'
  return changes.map((c) => `${c.section} ${c.name}: ${c.change}${c.details.length ? ` (${c.details.join('; ')})` : ''}`).join('\n')
}
