/**
 * Replicas of a Deployment start together on one PostgreSQL schema: two `gateway start` processes,
 * every service that keeps data on, both come up and serve, and each plugin's migrations are
 * applied exactly once (the store kit's advisory locks, across processes rather than pools).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { startCli } from '../helpers/cli.ts'
import { DATABASE_URL, dropSchema, POSTGRES_ENABLED, uniqueSchema } from '../store/helpers.ts'

/** The versions a plugin's migrations folder holds, as its ledger records them (`<owner>/<NNNN>`). */
const shipped = (owner: string, folder: string): string[] => readdirSync(folder).filter((f) => /^\d{4}_.*\.sql$/.test(f)).map((f) => `${owner}/${f.slice(0, 4)}`)
/** Services whose migrations need no extension the shared test database may lack (pgvector, TimescaleDB). */
const OWNERS: Record<string, string> = {
  identity: 'plugins/services/identity/data/migrations', auth: 'plugins/services/auth/migrations', conversations: 'plugins/services/conversations/migrations',
  training: 'plugins/services/training/migrations', files: 'plugins/services/files/migrations', batches: 'plugins/services/batches/migrations',
}

describe.runIf(POSTGRES_ENABLED)('two gateways starting at once on one fresh schema', () => {
  const schema = uniqueSchema('replicas')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-replicas-'))
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true })
    await dropSchema(schema)
  })

  it('both start and serve, and every migration is recorded once', async () => {
    // The shipped config (the services that keep data), on PostgreSQL; RAG needs pgvector, which the test database may not have.
    const config = readFileSync('gateway.yaml', 'utf8')
      .replace(/^store:\n(?:[ \t]+.*\n)+/m, `store: { plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }\n`)
      .replace(/^  rag: .*\n/m, '')
    expect(config).toContain(`schema: ${schema}`)
    expect(config).not.toMatch(/^  rag:/m)
    const files = [1, 2].map((n) => {
      const file = path.join(dir, `gateway-${n}.yaml`)
      writeFileSync(file, `${config}\nusage: { journal_dir: ./journal-${n} }\n`)
      return file
    })
    const gateways = await Promise.allSettled(files.map((file) => startCli(['--config', file, '--port', '0', '--no-watch'])))
    try {
      for (const g of gateways) expect(g.status, g.status === 'rejected' ? String(g.reason) : '').toBe('fulfilled')
      for (const g of gateways) {
        const { url } = (g as PromiseFulfilledResult<Awaited<ReturnType<typeof startCli>>>).value
        expect((await fetch(`${url}/ready`)).status).toBe(200)
        const chat = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }) })
        expect(chat.status).toBe(200)
      }
      const client = new pg.Client({ connectionString: DATABASE_URL })
      await client.connect()
      try {
        const { rows } = await client.query<{ version: string; n: string }>(`SELECT version, count(*) AS n FROM "${schema}".schema_migrations GROUP BY version`)
        expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([])
        const versions = rows.map((r) => r.version)
        for (const [owner, folder] of Object.entries(OWNERS)) expect(versions.filter((v) => v.startsWith(`${owner}/`)).sort(), owner).toEqual(shipped(owner, folder))
        expect(versions).toContain('usage/0001')
      } finally {
        await client.end()
      }
    } finally {
      const running = gateways.flatMap((g) => (g.status === 'fulfilled' ? [g.value] : []))
      for (const g of running) g.child.kill('SIGTERM')
      for (const g of running) expect(await g.exited).toBe(0)
    }
  }, 120_000)
})
