/** limiter.redis: its block in gateway.yaml. */
export interface RedisLimiterConfig {
  url: string
  key_prefix: string
  timeout_ms: number
  connect_timeout_ms: number
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    url: {
      type: 'string', minLength: 1, default: 'redis://127.0.0.1:6379',
      description: 'redis[s]://[[user][:password]@]host[:port][/db], e.g. ${REDIS_URL}. Keep a password in the environment.',
    },
    key_prefix: { type: 'string', default: 'gw:rl:', description: 'Put before every bucket key (several gateways or tests may share one Redis).' },
    timeout_ms: {
      type: 'integer', minimum: 1, maximum: 10_000, default: 100,
      description: 'A check Redis has not answered in this time fails, and the policy\'s on_backend_failure decides (open: admit, closed: 503).',
    },
    connect_timeout_ms: { type: 'integer', minimum: 1, maximum: 60_000, default: 1000, description: 'How long a connection attempt may take; reconnects back off up to 2 s.' },
  },
} as const
