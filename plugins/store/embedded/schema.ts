/** store.embedded: its block in gateway.yaml. */
export interface EmbeddedStoreConfig {
  path: string
  memory: boolean
  vector: boolean
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
  },
} as const
