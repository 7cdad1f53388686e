/**
 * What each kind's instance must have, checked once its setup has returned it: a plugin written in
 * JavaScript (or typed loosely) that misses a member fails the config load at its block, saying
 * what is missing, instead of answering every request with a 502 or a 500 later (a provider
 * without `chat` was "upstream unreachable: instance.chat is not a function"; a stage whose only
 * phase was misspelt never ran). A limiter's, a cache's and a queue's are their families' contracts.
 */
import { closest } from './kit/closest.ts'
import type { PluginKind, RouteSpec, Service } from './types.ts'

const STAGE_PHASES = ['http', 'request', 'access', 'targets', 'response', 'log'] as const
const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']
const LIFECYCLE = ['dispose', 'ready', 'check'] as const

type Members = Readonly<Record<string, unknown>>

/** Throws an Error saying what `instance`, set up as a plugin of `kind`, lacks (the kernel adds the plugin's id and block). */
export function checkInstanceShape(kind: PluginKind, instance: unknown): void {
  if (typeof instance !== 'object' || instance === null) throw new Error(`its setup returned ${instance === null ? 'null' : typeof instance}, not an instance object`)
  const members = instance as Members
  for (const name of LIFECYCLE) optionalFunction(members, name)
  if (kind === 'provider') {
    requiredFunction(members, 'chat', 'chat(req, call)', 'every provider')
    for (const name of ['embed', 'listModels']) optionalFunction(members, name)
  } else if (kind === 'auth') {
    requiredFunction(members, 'authenticate', 'authenticate(req)', 'every auth strategy')
  } else if (kind === 'stage') {
    for (const name of STAGE_PHASES) optionalFunction(members, name)
    // A stage with no phase is a no-op (a built-in's answer to a config that asks nothing of it); one named like a phase, misspelt, is a mistake.
    const own = Object.keys(members).filter((key) => typeof members[key] === 'function' && !(LIFECYCLE as readonly string[]).includes(key))
    const near = own.map((key) => [key, closest(key, [...STAGE_PHASES])] as const).find(([key, phase]) => phase && members[phase] === undefined && key !== phase)
    if (near) throw new Error(`its \`${near[0]}\` is no stage phase, so it would never run: did you mean '${near[1]}'? (phases: ${STAGE_PHASES.join(', ')})`)
  } else if (kind === 'surface') {
    if (!Array.isArray(members.endpoints)) throw new Error('it has no `endpoints` list, which every surface needs')
    for (const endpoint of members.endpoints as RouteSpec[]) checkRoute(endpoint, 'endpoint', 'decode' in Object(endpoint))
  } else if (kind === 'service') {
    for (const list of ['routes', 'pages'] as const) {
      const routes = (members as Service)[list]
      if (routes === undefined) continue
      if (!Array.isArray(routes)) throw new Error(`its \`${list}\` is not a list of routes`)
      for (const route of routes) checkRoute(route, list === 'routes' ? 'route' : 'page', false)
    }
    checkPages(members as Service)
  }
}

/** A service's pages stay out of /v1 and /api/v1 (but for a dotted document at its root, /api/v1/openapi.json), and only public ones need no permission. */
function checkPages(service: Service): void {
  for (const page of service.pages ?? []) {
    if (/^\/(v1|api\/v1)(\/|$)/.test(page.path) && !/^\/api\/v1\/[\w-]+\.json$/.test(page.path)) throw new Error(`its page ${page.path} is under /v1 or /api/v1, which belong to surfaces and services`)
  }
  for (const route of [...(service.routes ?? []), ...(service.pages ?? [])]) {
    if (route.public && route.permission !== null) throw new Error(`its public route ${route.path} asks for the permission '${route.permission}', which nobody has without credentials`)
  }
}

function checkRoute(route: RouteSpec, what: string, modelEndpoint: boolean): void {
  if (typeof route !== 'object' || route === null) throw new Error(`one of its ${what}s is ${String(route)}, not a route`)
  const name = `${what} ${String(route.method)} ${String(route.path)}`
  if (!HTTP_METHODS.includes(route.method)) throw new Error(`its ${name} has method ${JSON.stringify(route.method)}: one of ${HTTP_METHODS.join(', ')}`)
  if (typeof route.path !== 'string' || !route.path.startsWith('/')) throw new Error(`its ${name} needs a \`path\` beginning with /`)
  if (modelEndpoint) {
    for (const member of ['decode', 'encode']) requiredFunction(route as unknown as Members, member, `${member}()`, `its ${name}`)
    return
  }
  requiredFunction(route as unknown as Members, 'handle', 'handle(req)', `its ${name}`)
  if (route.permission !== null && typeof route.permission !== 'string') {
    throw new Error(`its ${name} has no \`permission\`: the permission a caller's role needs, or null for any authenticated caller`)
  }
}

function requiredFunction(members: Members, name: string, signature: string, who: string): void {
  if (typeof members[name] !== 'function') throw new Error(`it has no ${signature} function, which ${who} needs${members[name] === undefined ? '' : ` (its \`${name}\` is ${typeof members[name]})`}`)
}

function optionalFunction(members: Members, name: string): void {
  if (members[name] !== undefined && typeof members[name] !== 'function') throw new Error(`its \`${name}\` is ${typeof members[name]}, not a function`)
}
