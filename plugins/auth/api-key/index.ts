/**
 * auth.api-key: API keys, from gateway.yaml (bootstrap and service keys, values from the
 * environment) and from the store (virtual keys made with /api/v1/keys). A key is presented as
 * `Authorization: Bearer <key>` or `x-api-key: <key>`; only its sha256 is ever compared or looked up.
 */
import { definePlugin, type AuthStrategy, type Principal } from '../../../plugin-api/index.ts'
import { Identity } from '../../contracts/capabilities.ts'
import { ConfigKeyDirectory } from '../../contracts/config-keys.ts'
import { undefinedRoles } from '../../contracts/roles.ts'
import { unauthorized } from '../../../plugin-api/index.ts'
import { ConfigKeys } from './config-keys.ts'
import { presentedKey } from './credential.ts'
import { sha256Hex } from './hash.ts'
import { configSchema, type ApiKeyConfig } from './schema.ts'
import { VirtualKeys } from './virtual-keys.ts'

export default definePlugin<ApiKeyConfig, AuthStrategy>({
  id: 'auth.api-key',
  kind: 'auth',
  description: 'API keys: from gateway.yaml (env vars) and virtual keys kept hashed in the store.',
  configSchema,
  uses: [Identity],
  provides: [ConfigKeyDirectory],
  checkConfig(config, at) {
    const keys = Array.isArray(at.block.keys) ? (at.block.keys as unknown[]) : []
    // The same secret twice would make one caller two users: refused at start, so `gateway validate` says so too.
    const seen = new Map<unknown, number>()
    const repeated = keys.flatMap((key, i) => {
      const secret = (key as { key?: unknown } | null)?.key
      const first = seen.get(secret)
      if (first === undefined) seen.set(secret, i)
      return first === undefined || typeof secret !== 'string' ? [] : [{ path: [...at.path, 'keys', i, 'key'], message: `the same key as keys[${first}]` }]
    })
    // Where keys come from, as setup decides it (virtual keys need the store's Identity, which a `store:` brings): said now, so CI fails rather than the start.
    const hasStore = config.store !== undefined && config.store !== null
    const virtualKeys = at.block.virtual_keys
    const source = virtualKeys === true && !hasStore ? [{ path: [...at.path, 'virtual_keys'], message: 'virtual_keys needs a store: add `store:` (e.g. store: { plugin: embedded })' }]
      : keys.length === 0 && !(virtualKeys ?? hasStore) ? [{ path: [...at.path, 'keys'], message: 'no keys to accept: list keys (e.g. { key: "${ADMIN_KEY}", user: admin, role: admin }), or use virtual keys (they need `store:`)' }]
      : []
    return [...undefinedRoles(keys.map((key, i) => [['keys', i, 'role'], (key as { role?: unknown } | null)?.role]), at), ...repeated, ...source]
  },
  setup(ctx, config) {
    const identity = ctx.tryGet(Identity)
    const useStore = config.virtual_keys ?? identity !== undefined
    if (useStore && !identity) throw new Error('virtual_keys needs a store: add `store:` to gateway.yaml (e.g. store: { plugin: embedded })')
    if (!useStore && config.keys.length === 0) throw new Error('no keys to accept: list keys: (e.g. { key: "${ADMIN_KEY}", user: admin, role: admin }) or configure a store for virtual keys')

    const configKeys = new ConfigKeys(config.keys, identity?.users, ctx.logger)
    // What a config key started (a console session) follows this config's keys: see contracts/config-keys.ts.
    ctx.provide(ConfigKeyDirectory, configKeys)
    const virtualKeys = useStore ? new VirtualKeys(identity!.apiKeys, { ttlMs: config.cache_ttl_s * 1000, max: config.cache_size }, ctx.logger) : undefined
    const unsubscribe = virtualKeys ? identity!.events.subscribe((event) => virtualKeys.forget(event)) : undefined

    return {
      async authenticate(req): Promise<Principal | null> {
        const key = presentedKey(req.headers)
        if (key === undefined) return null
        const hash = sha256Hex(key)
        const configured = configKeys.size > 0 ? configKeys.match(hash) : undefined
        if (configured) return configured
        if (!virtualKeys) throw unauthorized('Invalid API key.', 'invalid_api_key')
        return virtualKeys.authenticate(hash)
      },
      dispose() {
        unsubscribe?.()
        virtualKeys?.clear()
      },
    }
  },
})
