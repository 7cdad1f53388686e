/**
 * service.identity: the users and api_keys tables (owned here, migrated at setup) and the
 * Identity capability over them, which the auth strategies and the keys/users services use.
 * Implied whenever a store is configured; it mounts no routes of its own.
 */
import { fileURLToPath } from 'node:url'
import { Store, definePlugin, type Service } from '../../../../plugin-api/index.ts'
import { Identity, type IdentityEvent, type IdentityEvents } from '../../../contracts/capabilities.ts'
import { apiKeyRepository } from './api-keys.ts'
import { userRepository } from './users.ts'

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))

/** Listeners per gateway: the events travel with the tables, so two gateways in one process never hear each other. */
function eventChannel(): IdentityEvents {
  const listeners = new Set<(event: IdentityEvent) => void>()
  return {
    emit: (event) => { for (const listener of listeners) listener(event) },
    subscribe: (listener) => {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
  }
}

export default definePlugin<Record<string, never>, Service>({
  id: 'service.identity',
  kind: 'service',
  description: 'Users and API keys in the store: the Identity capability the auth strategies and the keys/users services use.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  // Whenever there is a store to keep users and keys in.
  enabledByDefault: { requires: ['store'] },
  uses: [Store],
  provides: [Identity],
  async setup(ctx) {
    const store = ctx.get(Store)
    await store.migrate({ owner: 'identity', dir: MIGRATIONS })
    // The channel outlives reloads, so a cache subscribed before a reload still hears of a revoke after it.
    const events = ctx.keep('events', eventChannel)
    ctx.provide(Identity, {
      users: userRepository(store.sql),
      apiKeys: apiKeyRepository(store.sql),
      events,
      transaction: (fn) => store.transaction((tx) => fn({ users: userRepository(tx), apiKeys: apiKeyRepository(tx) })),
    })
    return {}
  },
})
