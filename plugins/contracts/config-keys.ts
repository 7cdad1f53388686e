/**
 * The config keys (gateway.yaml's `auth.strategies[api-key].keys`) as the config being served has
 * them, provided by auth.api-key on every build, so that what a config key started (a console
 * session) follows gateway.yaml: the key removed, it ends; its role or department changed, it acts
 * with the new ones. A plugin that uses it is rebuilt with the strategy, so it always holds the
 * directory of its own snapshot's config; with no api-key strategy, use NO_CONFIG_KEYS.
 */
import { token, type Principal, type Token } from '../../plugin-api/index.ts'

/** The keyIds of config keys: `config:<name>` (the name defaults to the key's user). Virtual keys' are UUIDs. */
export const CONFIG_KEY_ID_PREFIX = 'config:'

export const isConfigKeyId = (keyId: string | undefined): keyId is string => keyId?.startsWith(CONFIG_KEY_ID_PREFIX) === true

export interface ConfigKeyDirectory {
  /**
   * The principal of the configured key with this keyId and secret (its `secretPrefix`, a
   * fingerprint of the key: several keys may share a keyId, e.g. an old and a new one for the same
   * user), as the config has it now, with its user's store id once recorded; undefined when no such
   * key is configured. Without a secret (a principal recorded before config keys carried one), the
   * only key with that keyId, if there is exactly one.
   */
  principal(keyId: string, secret: string | undefined): Principal | Promise<Principal> | undefined
}

/** The directory of a config with no api-key strategy: no config key is configured. */
export const NO_CONFIG_KEYS: ConfigKeyDirectory = Object.freeze({ principal: () => undefined })

export const ConfigKeyDirectory: Token<ConfigKeyDirectory> = token<ConfigKeyDirectory>('ConfigKeyDirectory')
