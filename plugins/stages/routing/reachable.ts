/**
 * Routes that can never answer, said by `gateway validate` and a reload at the route's line: the
 * kernel refuses a name an earlier unconditional route takes exactly; these are the two it does
 * not see. A name an earlier unconditional glob route already covers (`gpt-4o` below `gpt-*`: the
 * first match wins, so its traffic goes to the glob's targets), and a route behind a feature flag
 * that `features:` does not list (an unlisted flag is off: a typo in its name hides the route).
 * And the conditional twin of the kernel's check: a name an earlier route with the very same `when:`
 * answers (a pasted route whose condition was not changed).
 * (They sit with the strategies because the kernel's config checks have no room to grow.)
 */
import { canonicalJson, globCovers, isGlob, type ConfigCheckIssue } from '../../../plugin-api/index.ts'

interface RouteBlock { model?: unknown; aliases?: unknown; when?: { feature?: unknown } | null }

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [])

export function unreachableRoutes(config: Readonly<Record<string, unknown>>): ConfigCheckIssue[] {
  const routes = Array.isArray(config.routes) ? (config.routes as (RouteBlock | null)[]) : []
  const features = typeof config.features === 'object' && config.features !== null ? Object.keys(config.features) : []
  const issues: ConfigCheckIssue[] = []
  /** Unconditional glob routes seen so far: they answer every name they cover. */
  const globs: { glob: string; index: number }[] = []
  /** The names routes with conditions answer so far, with their `when:` as canonical JSON. */
  const conditional: { name: string; index: number; when: string }[] = []
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
      const at = k === 0 ? ['routes', i, 'model'] : ['routes', i, 'aliases', k - 1]
      if (earlier) issues.push({ path: at, message: `unreachable: routes[${earlier.index}] ('${earlier.glob}') already answers '${name}' unconditionally; the first match wins, so put this route above it` })
      const twin = route.when ? conditional.find((c) => c.when === canonicalJson(route.when) && (c.name === name || globCovers(c.name, name))) : undefined
      if (twin && !earlier) issues.push({ path: at, message: `unreachable: routes[${twin.index}] already answers '${name}' under the same when: conditions; the first match wins, so change one's conditions or remove this route` })
    })
    if (!route.when) globs.push(...names.filter(isGlob).map((glob) => ({ glob, index: i })))
    else conditional.push(...names.map((name) => ({ name, index: i, when: canonicalJson(route.when) })))
  })
  return issues
}
