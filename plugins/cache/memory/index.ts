/**
 * cache.memory: answers in this process's memory, in an LRU bounded by bytes (each answer is
 * weighed by its JSON size) and by age (the kernel's ttl_s). For one process: several processes
 * each keep their own (use cache.redis to share).
 */
import { LRUCache } from 'lru-cache'
import type { ChatResponse } from '../../../plugin-api/index.ts'
import { definePlugin } from '../../../plugin-api/index.ts'
import { CACHE_OPTIONS_SCHEMA, type Cache } from '../../contracts/cache.ts'

export interface MemoryCacheConfig {
  max_bytes: number
  max_entry_bytes: number
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...CACHE_OPTIONS_SCHEMA,
    max_bytes: { type: 'integer', minimum: 1024, default: 64 * 1024 * 1024, description: 'Most bytes of answers kept (as JSON); the least recently used go first.' },
    max_entry_bytes: { type: 'integer', minimum: 1, default: 1024 * 1024, description: 'A larger answer is not kept.' },
  },
} as const

export function createMemoryCache(config: MemoryCacheConfig): Cache & { readonly bytes: number; readonly size: number } {
  const lru = new LRUCache<string, ChatResponse>({
    maxSize: config.max_bytes,
    maxEntrySize: config.max_entry_bytes,
    ttlAutopurge: false,
  })
  return {
    get(key) {
      return lru.get(key.fingerprint)
    },
    async set(key, answer, ttlSeconds) {
      // Weighed after the response has gone out: the JSON size is only needed for the bound.
      setImmediate(() => {
        const size = Buffer.byteLength(JSON.stringify(answer))
        if (size <= config.max_entry_bytes) lru.set(key.fingerprint, answer, { ttl: ttlSeconds * 1000, size })
      })
    },
    get bytes() {
      return lru.calculatedSize
    },
    get size() {
      return lru.size
    },
    dispose() {
      lru.clear()
    },
  }
}

export default definePlugin<MemoryCacheConfig, Cache>({
  id: 'cache.memory',
  kind: 'cache',
  description: 'Chat answers in process memory: an LRU bounded by bytes and age.',
  configSchema,
  setup: (_ctx, config) => createMemoryCache(config),
})
