/** store.postgres: its block in gateway.yaml. */
export interface PostgresStoreConfig {
  url: string
  pool_size: number
  statement_timeout_ms: number
  query_timeout_ms: number
  connect_timeout_ms: number
  idle_timeout_ms: number
  schema?: string
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: {
      type: 'string', minLength: 1,
      description: 'Connection string, e.g. ${DATABASE_URL} (postgres://user:password@host:5432/db?sslmode=require). Keep the password in the environment.',
    },
    pool_size: { type: 'integer', minimum: 1, maximum: 1000, default: 10, description: 'Most connections open at once.' },
    statement_timeout_ms: { type: 'integer', minimum: 0, default: 30000, description: 'Server-side limit on one statement (0: none). Migrations are exempt.' },
    query_timeout_ms: {
      type: 'integer', minimum: 0, default: 35000,
      description: 'Client-side limit on one query, waiting for a hung server or connection included; the connection is then closed (0: none). Keep it above statement_timeout_ms so the server gives up first. Migrations are exempt.',
    },
    connect_timeout_ms: { type: 'integer', minimum: 100, default: 5000, description: 'How long to wait for a new connection before failing.' },
    idle_timeout_ms: {
      type: 'integer', minimum: 1000, maximum: 3_600_000, default: 30000,
      description: 'How long a connection may sit idle before it is closed. One stays open through any pause, so the first query after a quiet spell does not wait for a new connection.',
    },
    schema: {
      type: 'string', pattern: '^[a-z_][a-z0-9_]{0,62}$',
      description: 'Keep the gateway\'s tables in this schema (created if missing); by default the database\'s search_path decides (usually public).',
    },
  },
} as const
