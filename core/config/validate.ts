/** Validate a parsed config (core schema, each plugin block against its configSchema, cross-references), every problem at once with its line. */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { ErrorObject } from 'ajv/dist/2020.js'
import { SchemaValidators } from './compiled-validators.ts'
import { ConfigError, type ConfigIssue, type ConfigPath } from './issues.ts'
import type { LoadedConfig, ParsedConfig } from './load.ts'
import { pluginSlots, valueAt, type PluginSlot } from './slots.ts'
import { didYouMean } from '../../plugin-api/kit/closest.ts'
import type { GatewayConfig } from './types.ts'
import { capabilitiesOf, providersOf, type PluginRegistry } from '../plugins/registry.ts'
import type { ConfigCheckIssue, JsonSchema, PluginManifest } from '../../plugin-api/types.ts'
import { BUILTIN_ROLES } from '../runtime/access.ts'
import { NamePatterns, compileGlob, isGlob } from '../../plugin-api/kit/glob.ts'

export { newAjv } from './compiled-validators.ts'

export const CORE_SCHEMA: JsonSchema = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../schemas/gateway.schema.json', import.meta.url)), 'utf8'),
) as JsonSchema

/** The gateway's validators (config blocks, route input): built by `npm run build` (compiled-validators.ts), else compiled on first use. */
export const validators = new SchemaValidators()
const pluginValidator = (manifest: Pick<PluginManifest, 'configSchema'>) => validators.get(manifest.configSchema, 'plugin')

/** A listed plugin's configSchema, compiled as it is loaded: one ajv refuses is said at its `plugins:` entry, with its id (not as the config's root). */
export function compileConfigSchema(manifest: PluginManifest): void {
  try { pluginValidator(manifest) } catch (err) { throw new Error(`plugin ${manifest.id}'s configSchema is not a valid JSON Schema: ${(err as Error).message.replace(/^schema is invalid: /, '').replace(/\bdata\//g, 'configSchema/')}`) }
}

/** Validate, or throw a ConfigError listing every problem. */
export async function validateConfig(
  parsed: ParsedConfig,
  pluginsFor: (config: GatewayConfig) => Promise<PluginRegistry>,
): Promise<{ loaded: LoadedConfig; registry: PluginRegistry }> {
  // Every problem at once: unset variables (unless allowed), then the schema's and the references'.
  const issues: ConfigIssue[] = parsed.allowMissingEnv ? [] : [...parsed.envIssues]
  if (typeof parsed.data !== 'object' || parsed.data === null || Array.isArray(parsed.data)) {
    throw new ConfigError([parsed.issue([], 'the config must be a YAML mapping (key: value)')])
  }
  const validateCore = validators.get(CORE_SCHEMA, 'core')
  issues.push(...timerIssues(parsed, parsed.data))
  if (!validateCore(parsed.data)) {
    issues.push(...ajvIssues(parsed, [], validateCore.errors ?? []))
    throw new ConfigError(unlessUnknown(parsed, issues))
  }
  const config = parsed.data as GatewayConfig
  const registry = await pluginsFor(config)
  const roles = definedRoles(config)

  const slots = pluginSlots(config, registry.enabledByDefault())
  for (const slot of slots) {
    const registered = registry.get(slot.kind, slot.plugin)
    if (!registered) {
      const known = registry.names(slot.kind)
      issues.push(parsed.issue([...slot.path, 'plugin'], `unknown ${slot.kind} plugin '${slot.plugin}'${didYouMean(slot.plugin, known)}; known: ${known.join(', ') || 'none'}`))
      continue
    }
    const validate = pluginValidator(registered.manifest)
    if (!validate(slot.block)) issues.push(...ajvIssues(parsed, slot.path, validate.errors ?? []))
    // The validator filled in the schema's defaults on the slot's copy: keep them in the config.
    else if (!slot.implied) Object.assign(valueAt(config, slot.path) as Record<string, unknown>, slot.block)
    const at = { path: slot.path, block: slot.block, roles }
    let checked: readonly ConfigCheckIssue[] = []
    try { checked = registered.manifest.checkConfig?.(config as unknown as Record<string, unknown>, at) ?? [] } catch (err) { checked = [{ path: slot.path, message: `plugin ${registered.manifest.id}: its checkConfig failed: ${(err as Error).message}` }] }
    for (const found of checked) issues.push(parsed.issue(found.path, found.message))
  }

  issues.push(...missingCapabilities(parsed, registry, slots))
  issues.push(...crossReferenceIssues(parsed, config))
  const remaining = unlessUnknown(parsed, issues)
  if (remaining.length) throw new ConfigError(remaining)
  return { loaded: { ...parsed, config }, registry }
}

/** Node runs a timer of more than 2^31-1 ms (24.8 days) after 1 ms: every `*_ms` setting is held to that. */
function timerIssues(parsed: ParsedConfig, node: unknown, path: ConfigPath = []): ConfigIssue[] {
  if (typeof node !== 'object' || node === null) return []
  return Object.entries(node).flatMap(([key, value]) => {
    const at = [...path, Array.isArray(node) ? Number(key) : key]
    return Number.isFinite(value) && key.endsWith('_ms') && (value as number) > 2 ** 31 - 1 ? [parsed.issue(at, 'must be at most 2147483647 (24.8 days)')] : timerIssues(parsed, value, at)
  })
}

/** How a config gets a backend kind's capability. */
const KIND_HINTS: Readonly<Record<string, string>> = {
  Store: ': add `store:` (e.g. store: { plugin: embedded })',
  Queue: ': add `queue:` (e.g. queue: { plugin: memory })',
}

/** Where gateway.yaml sets a plugin up, for a hint: `services: { files: {} }` for service.files. */
function blockOf(id: string): string {
  const [kind, name] = id.split('.')
  return kind === 'service' || kind === 'surface' ? `${kind}s: { ${name}: {} }` : id
}

/** A plugin whose `needs` nothing this config sets up provides would fail at start: said now, at its block. */
function missingCapabilities(parsed: ParsedConfig, registry: PluginRegistry, slots: readonly PluginSlot[]): ConfigIssue[] {
  const planned = slots.flatMap((slot) => {
    const registered = registry.get(slot.kind, slot.plugin)
    return registered ? [{ slot, manifest: registered.manifest }] : []
  })
  const provided = new Set(planned.flatMap(({ slot, manifest }) => capabilitiesOf(slot.kind, manifest).map((t) => t.key)))
  const issues: ConfigIssue[] = []
  for (const { slot, manifest } of planned) {
    for (const needed of manifest.needs ?? []) {
      if (provided.has(needed.key)) continue
      const by = providersOf(registry, needed)
      const hint = KIND_HINTS[needed.description] ?? (by.length ? `: add ${by.map(blockOf).join(' or ')}` : '')
      issues.push(parsed.issue(slot.path, `${manifest.id} needs ${needed.description}, which no plugin this config sets up provides${hint}`))
    }
  }
  return issues
}

/** A value read from an unset variable is unknown: the unset variable is the problem, its other checks are noise. */
function unlessUnknown(parsed: ParsedConfig, issues: ConfigIssue[]): ConfigIssue[] {
  if (parsed.unsetPaths.size === 0) return issues
  return issues.filter((issue) => parsed.envIssues.includes(issue) || !parsed.unsetPaths.has(issue.path))
}

/** `block` with its plugin's schema defaults filled in (it was validated when the config was loaded). */
export function withDefaults(manifest: PluginManifest, block: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(block)
  pluginValidator(manifest)(copy)
  return copy
}

/** Built-in roles first, then gateway.yaml's (the order the messages list them in). */
function definedRoles(config: GatewayConfig): ReadonlySet<string> {
  return new Set([...Object.keys(BUILTIN_ROLES), ...Object.keys(config.roles ?? {})])
}

function crossReferenceIssues(parsed: ParsedConfig, config: GatewayConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const providers = new Set(Object.keys(config.providers ?? {}))
  // A name answered by a route without conditions makes every later route for that name unreachable.
  const unconditional = new Map<string, number>()
  ;(config.routes ?? []).forEach((route, i) => {
    for (const [k, name] of [route.model, ...(route.aliases ?? [])].entries()) {
      const first = unconditional.get(name)
      const at = k === 0 ? ['routes', i, 'model'] : ['routes', i, 'aliases', k - 1]
      if (first !== undefined) issues.push(parsed.issue(at, first === i ? `'${name}' is already one of this route's names: remove it here` : `unreachable: routes[${first}] already answers '${name}' unconditionally`))
      else if (!route.when) unconditional.set(name, i)
    }
    route.targets.forEach((target, j) => {
      if (!providers.has(target.provider) && !parsed.disabledProviders.has(target.provider)) {
        issues.push(parsed.issue(['routes', i, 'targets', j, 'provider'], `no provider named '${target.provider}'${didYouMean(target.provider, [...providers])} under providers: (have: ${[...providers].join(', ') || 'none'})`))
      }
    })
  })
  issues.push(...accessIssues(parsed, config))
  return issues
}

/** A department's models and overrides must name something a route answers; `when` may only name departments and roles that exist. */
function accessIssues(parsed: ParsedConfig, config: GatewayConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const names = (config.routes ?? []).flatMap((route) => [route.model, ...(route.aliases ?? [])])
  const routeNames = new NamePatterns(names)
  const routable = (name: string): boolean => routeNames.matches(name)
  // A glob is useful when it matches a route's name, or a name a glob route answers (tried with its wildcards filled in).
  const globUseful = (glob: string): boolean => {
    const pattern = compileGlob(glob)
    return [...routeNames.exact].some((n) => pattern.test(n)) || [glob.replace(/\*/g, '').replace(/\?/g, 'x'), glob.replace(/[*?]/g, 'x')].some(routable)
  }
  for (const [dept, entry] of Object.entries(config.departments ?? {})) {
    entry.models?.forEach((model, i) => {
      if (isGlob(model) ? !globUseful(model) : !routable(model)) issues.push(parsed.issue(['departments', dept, 'models', i], `no route answers '${model}'`))
    })
    for (const [asked, route] of Object.entries(entry.route_overrides ?? {})) {
      if (isGlob(route) || !routable(route)) issues.push(parsed.issue(['departments', dept, 'route_overrides', asked], `no route named '${route}' (an override names one route, without globs)`))
    }
  }
  const departments = Object.keys(config.departments ?? {})
  const roles = definedRoles(config)
  ;(config.routes ?? []).forEach((route, i) => {
    route.when?.departments?.forEach((dept, j) => {
      if (departments.length > 0 && !departments.includes(dept)) issues.push(parsed.issue(['routes', i, 'when', 'departments', j], `no department '${dept}' under departments: (have: ${departments.join(', ')})`))
    })
    route.when?.roles?.forEach((role, j) => {
      if (!roles.has(role)) issues.push(parsed.issue(['routes', i, 'when', 'roles', j], `no role '${role}' (built in or under roles:; have: ${[...roles].join(', ')})`))
    })
  })
  return issues
}

function ajvIssues(parsed: ParsedConfig, prefix: ConfigPath, errors: ErrorObject[]): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const seen = new Set<string>()
  for (const error of errors) {
    // if/then and anyOf wrappers repeat what their branches say.
    if (error.keyword === 'if' || error.keyword === 'anyOf' || error.keyword === 'oneOf') continue
    const path = [...prefix, ...pointerToPath(error.instancePath)]
    let issue: ConfigIssue
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty: string }).additionalProperty)
      const allowed = Object.keys(((error.parentSchema as JsonSchema | undefined)?.properties as JsonSchema | undefined) ?? {})
      const hint = didYouMean(key, allowed)
      issue = parsed.issue([...path, key], `unknown key '${key}'${hint || (allowed.length ? ` (allowed: ${allowed.join(', ')})` : '')}`, true)
    } else if (error.keyword === 'required') {
      const key = String((error.params as { missingProperty: string }).missingProperty)
      issue = parsed.issue(path, `missing required key '${key}'`)
    } else if (error.keyword === 'enum') {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues
      issue = parsed.issue(path, `must be one of: ${allowed.map((v) => JSON.stringify(v)).join(', ')}`)
    } else if (error.keyword === 'const') {
      issue = parsed.issue(path, `must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`)
    } else {
      issue = parsed.issue(path, `${error.message ?? 'is invalid'}${error.keyword === 'pattern' && typeof error.parentSchema?.description === 'string' ? ` (${error.parentSchema.description})` : ''}`)
    }
    const id = `${issue.path}|${issue.message}`
    if (!seen.has(id)) {
      seen.add(id)
      issues.push(issue)
    }
  }
  return issues
}

export function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return []
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p))
}

