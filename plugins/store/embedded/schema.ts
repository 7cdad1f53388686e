/** store.embedded: its block in gateway.yaml. */
export interface EmbeddedStoreConfig {
  path: string
  memory: boolean
  vector: boolean
  shared_buffers_mb: number
}

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    path: {
      type: 'string', minLength: 1, default: './data',
      description: 'Directory holding the database, relative to gateway.yaml; `memory://` keeps it in memory.',
    },
    memory: { type: 'boolean', default: false, description: 'Keep the database in memory (tests, demos): nothing survives a restart.' },
    vector: { type: 'boolean', default: true, description: 'Load pgvector, for RAG similarity search.' },
    shared_buffers_mb: {
      type: 'integer', minimum: 1, maximum: 1024, default: 16,
      description: 'PostgreSQL\'s buffer pool in the gateway\'s memory, in MB: it grows to this size under load and is never given back (WASM memory), so it bounds the store\'s share of RSS.',
    },
  },
} as const
