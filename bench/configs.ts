/** Gateway configs the bench starts in more than one script, written once so the figures compare, and their clean-up. */

/** The no-auth gateway: one route to the openai provider at the upstream, nothing else. */
export const noAuthConfig = (upstreamBase: string): string =>
  `version: 1\nproviders:\n  up: { plugin: openai, api_key: bench, base_url: "${upstreamBase}" }\nroutes:\n  - model: bench\n    targets: [ { provider: up, model: bench-model } ]\n`

/**
 * The full pipeline: a virtual API key (looked up, then cached), a rate limit checked on every
 * request, usage events written to PostgreSQL, the openai provider to the upstream.
 */
export function fullPipelineConfig(o: { database: string; schema: string; upstreamBase: string; adminKey: string; keyCacheTtlS?: number }): string {
  return `version: 1
store: { plugin: postgres, url: "${o.database}", schema: ${o.schema} }
services: { keys: {} }
auth:
  strategies:
    - { plugin: api-key, ${o.keyCacheTtlS === undefined ? '' : `cache_ttl_s: ${o.keyCacheTtlS}, `}keys: [ { key: ${o.adminKey}, user: bench, role: admin } ] }
limits:
  backend: { plugin: memory }
  policies: [ { scope: key, requests_per_minute: 100000000 } ]
providers:
  upstream: { plugin: openai, api_key: bench, base_url: "${o.upstreamBase}" }
routes:
  - model: bench
    targets: [ { provider: upstream, model: bench-model } ]
`
}

/** A virtual key of role user, made through the management API of the gateway on `port` with its admin key. */
export async function virtualKey(port: number, adminKey: string, name = 'bench'): Promise<string> {
  const created = await fetch(`http://127.0.0.1:${port}/api/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, role: 'user' }) })
  if (!created.ok) throw new Error(`the bench gateway made no key: ${created.status} ${await created.text()}`)
  return ((await created.json()) as { data: { key: string } }).data.key
}

/** Drop a PostgreSQL schema a bench gateway made. */
export async function dropSchema(database: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg')
  const client = new pg.Client(database)
  await client.connect()
  try {
    // Its gateway may still be writing usage into it: a deadlock with that writer is tried again.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
        return
      } catch (err) {
        if ((err as { code?: string }).code !== '40P01' || attempt === 5) throw err
      }
    }
  } finally {
    await client.end()
  }
}
