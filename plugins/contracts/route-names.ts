/**
 * A setting that names a route of this gateway (`embedding_route`, `title_route`, ...) must name
 * one the file's `routes:` answer (by name, alias or glob), or the gateway refuses the config when
 * it starts or reloads. A plugin checks the built route table at that point (its instance's
 * `check`); from its manifest's `checkConfig` this says the same for `gateway validate`, at the
 * setting's line, so CI fails rather than the rollout. With `features: { custom_models: true }`
 * deployed fine-tuned models are routes too, which no file lists: the setting is left to the check
 * at start.
 */
import { NamePatterns, type ConfigCheckContext, type ConfigCheckIssue } from '../../plugin-api/index.ts'

/** Paths are within the plugin's block; values that are not strings are the schema's to report. */
export function unansweredRoutes(config: Readonly<Record<string, unknown>>, at: ConfigCheckContext, keys: readonly string[]): ConfigCheckIssue[] {
  if ((config.features as Record<string, unknown> | undefined)?.custom_models === true) return []
  const routes = Array.isArray(config.routes) ? (config.routes as ({ model?: unknown; aliases?: unknown } | null)[]) : []
  const names = routes.flatMap((route) => [route?.model, ...(Array.isArray(route?.aliases) ? route.aliases : [])]).filter((n): n is string => typeof n === 'string')
  const answered = new NamePatterns(names)
  return keys.flatMap((key) => {
    const name = at.block[key]
    return typeof name === 'string' && !answered.matches(name) ? [{ path: [...at.path, key], message: `no route answers '${name}' (add it under routes:)` }] : []
  })
}
