/**
 * Routes that can never answer, said by `gateway validate` and a reload at the route's line: the
 * kernel refuses a name an earlier unconditional route takes exactly; these are the two it does
 * not see. A name an earlier unconditional glob route already covers (`gpt-4o` below `gpt-*`: the
 * first match wins, so its traffic goes to the glob's targets), and a route behind a feature flag
 * that `features:` does not list (an unlisted flag is off: a typo in its name hides the route).
 * (They sit with the strategies because the kernel's config checks have no room to grow.)
 */
import { globCovers, isGlob, type ConfigCheckIssue } from '../../../plugin-api/index.ts'

interface RouteBlock { model?: unknown; aliases?: unknown; when?: { feature?: unknown } | null }

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [])

export function unreachableRoutes(config: Readonly<Record<string, unknown>>): ConfigCheckIssue[] {
  const routes = Array.isArray(config.routes) ? (config.routes as (RouteBlock | null)[]) : []
  const features = typeof config.features === 'object' && config.features !== null ? Object.keys(config.features) : []
  const issues: ConfigCheckIssue[] = []
  /** Unconditional glob routes seen so far: they answer every name they cover. */
  const globs: { glob: string; index: number }[] = []
  routes.forEach((route, i) => {
    if (typeof route !== 'object' || route === null) return
    const flag = route.when?.feature
    if (typeof flag === 'string' && !features.includes(flag)) {
      issues.push({ path: ['routes', i, 'when', 'feature'], message: `no flag '${flag}' under features: (have: ${features.join(', ') || 'none'}); a route behind an unlisted flag is never served (to keep it off for now, list it: features: { ${flag}: false })` })
    }
    const names = typeof route.model === 'string' ? [route.model, ...strings(route.aliases)] : []
    names.forEach((name, k) => {
      // The same glob twice is the kernel's to say.
      const earlier = globs.find((g) => g.glob !== name && globCovers(g.glob, name))
      if (earlier) issues.push({ path: k === 0 ? ['routes', i, 'model'] : ['routes', i, 'aliases', k - 1], message: `unreachable: routes[${earlier.index}] ('${earlier.glob}') already answers '${name}' unconditionally; the first match wins, so put this route above it` })
    })
    if (!route.when) for (const name of names) if (isGlob(name)) globs.push({ glob: name, index: i })
  })
  return issues
}
