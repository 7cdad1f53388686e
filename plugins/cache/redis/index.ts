/**
 * cache.redis: answers in Redis, shared by every gateway process and replica. An answer is one
 * string key (its JSON) that expires with the kernel's ttl_s. Every command is bounded by
 * `timeout_ms` and none is queued while Redis is down, so an outage costs a miss, never a wait.
 */
import type { ChatResponse } from '../../../plugin-api/index.ts'
import { definePlugin, withDeadline } from '../../../plugin-api/index.ts'
import { CACHE_OPTIONS_SCHEMA, type Cache } from '../../contracts/cache.ts'

export interface RedisCacheConfig {
  url: string
  key_prefix: string
  timeout_ms: number
  connect_timeout_ms: number
  max_entry_bytes: number
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...CACHE_OPTIONS_SCHEMA,
    url: { type: 'string', minLength: 1, default: 'redis://127.0.0.1:6379', description: 'redis[s]://[[user][:password]@]host[:port][/db], e.g. ${REDIS_URL}.' },
    key_prefix: { type: 'string', default: 'gw:cache:', description: 'Put before every key.' },
    timeout_ms: { type: 'integer', minimum: 1, maximum: 10_000, default: 200, description: 'A command Redis has not answered in this time fails (a lookup then counts as a miss).' },
    connect_timeout_ms: { type: 'integer', minimum: 1, maximum: 60_000, default: 1000 },
    max_entry_bytes: { type: 'integer', minimum: 1, default: 1024 * 1024, description: 'A larger answer is not kept.' },
  },
} as const

const MAX_RECONNECT_DELAY_MS = 2000

export default definePlugin<RedisCacheConfig, Cache>({
  id: 'cache.redis',
  kind: 'cache',
  description: 'Chat answers in Redis, shared by every gateway process.',
  configSchema,
  async setup(ctx, config) {
    // Imported here: node-redis (some 700 modules) is loaded only by a gateway that uses this cache.
    const { createClient } = await import('redis')
    const client = createClient({
      url: config.url,
      socket: { connectTimeout: config.connect_timeout_ms, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS) },
      disableOfflineQueue: true,
      commandOptions: { timeout: config.timeout_ms },
    })
    let down = false
    client.on('error', (err: Error) => {
      if (!down) ctx.logger.error({ err: err.message }, 'Redis is unreachable: cache lookups miss until it is back (reconnecting)')
      down = true
    })
    client.on('ready', () => {
      if (down) ctx.logger.info('Redis is reachable again')
      down = false
    })
    if (!(await withDeadline(client.connect(), config.connect_timeout_ms).then(() => true, () => false))) {
      ctx.logger.warn('Redis did not answer at start: the cache misses until it does')
    }
    const keyOf = (fingerprint: string): string => config.key_prefix + fingerprint
    return {
      async get(key) {
        const text = await client.get(keyOf(key.fingerprint))
        return text ? (JSON.parse(text) as ChatResponse) : undefined
      },
      async set(key, answer, ttlSeconds) {
        const text = JSON.stringify(answer)
        if (Buffer.byteLength(text) > config.max_entry_bytes) return
        await client.set(keyOf(key.fingerprint), text, { expiration: { type: 'EX', value: ttlSeconds } })
      },
      async ready() {
        if (!client.isReady) throw new Error('not connected to Redis')
        await client.ping()
      },
      dispose() {
        client.destroy()
      },
    }
  },
})
