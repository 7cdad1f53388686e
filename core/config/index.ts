/** Read, interpolate and validate a gateway.yaml, loading the third-party plugins it lists. */
import path from 'node:path'
import { ConfigError, type ConfigIssue } from './issues.ts'
import { parseConfigText, readConfigFile, type LoadedConfig, type ParseOptions, type ParsedConfig } from './load.ts'
import { pluginSlots } from './slots.ts'
import { compileConfigSchema, validateConfig } from './validate.ts'
import { importManifests, resolvePluginModule } from '../plugins/loader.ts'
import { withPluginCode } from '../../plugin-api/listed-plugin.ts'
import type { PluginRegistry } from '../plugins/registry.ts'

export type ConfigSource = { file: string } | { text: string; label: string; dir: string }

export interface ConfigLoad {
  readonly loaded: LoadedConfig
  readonly registry: PluginRegistry
  readonly configDir: string
}

export async function loadConfig(source: ConfigSource, builtins: PluginRegistry, env: NodeJS.ProcessEnv = process.env, options: ParseOptions = {}): Promise<ConfigLoad> {
  const parsed: ParsedConfig = 'file' in source ? await readConfigFile(source.file, env, options) : parseConfigText(source.text, source.label, env, options)
  const configDir = 'file' in source ? path.dirname(path.resolve(source.file)) : source.dir
  const { loaded, registry } = await validateConfig(parsed, async (config) => {
    const registry = builtins.extend()
    const issues: ConfigIssue[] = []
    for (const [i, spec] of (config.plugins ?? []).entries()) {
      try {
        const file = resolvePluginModule(spec, configDir)
        for (const manifest of await importManifests(file, true)) { registry.register(manifest, spec); compileConfigSchema(manifest) }
      } catch (err) {
        issues.push(parsed.issue(['plugins', i], `cannot load plugin '${spec}': ${(err as Error).message.split('\n')[0]}`))
      }
    }
    if (issues.length) throw new ConfigError(issues)
    // Only the plugins this config uses are imported (a build's built-ins are known by summary until then).
    await registry.load(pluginSlots(config, registry.enabledByDefault()))
    return registry
  })
  // A listed plugin's code is part of the version: an edit to it, then a reload, builds a new snapshot (its instances anew: InstancePool.key).
  return { loaded: withPluginCode(loaded, (loaded.config.plugins ?? []).map((spec) => resolvePluginModule(spec, configDir))), registry, configDir }
}

export { ConfigError, formatIssue, type ConfigIssue } from './issues.ts'
export type { LoadedConfig } from './load.ts'
export type { GatewayConfig } from './types.ts'
