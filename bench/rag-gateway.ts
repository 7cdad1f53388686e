/**
 * The RAG benches' gateway: in this process (they read its store directly to bulk-load chunks,
 * which the process-per-server gateways of bench/procs.ts do not allow), on the embedded store in
 * a scratch directory unless `store` names another, with the mock provider as the embeddings
 * route. Also: its RAG API, a collection seeded with one document (a bulk load attaches its
 * chunks to that document's ready ingest), and the percentiles the benches print.
 */
import os from 'node:os'
import path from 'node:path'
import { mkdtemp, rm } from 'node:fs/promises'
import { startGateway, type RunningGateway } from '../core/gateway.ts'
import { createLogger } from '../core/logger.ts'
import { Store } from '../plugin-api/index.ts'

export interface RagBenchGateway {
  readonly gw: RunningGateway
  readonly store: Store
  /** `/api/v1/rag<p>`: the envelope's data, or a thrown error naming the call. */
  api(method: string, p: string, body?: unknown): Promise<any>
  /** A new collection holding one small completed document. */
  seededCollection(name: string): Promise<{ collection: any; document: any; readyIngest: string }>
  close(): Promise<void>
}

export async function startRagGateway(options: { label: string; dims: number; store?: string; rag?: string }): Promise<RagBenchGateway> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `gw-${options.label}-`))
  const rag = ['embedding_route: embedder', ...(options.rag ? [options.rag] : [])].join(', ')
  const gw = await startGateway({
    source: {
      label: `${options.label}.yaml`, dir,
      text: `version: 1
store: ${options.store ?? `{ plugin: embedded, path: ${JSON.stringify(path.join(dir, 'data'))} }`}
providers: { mock: { plugin: mock, embedding_dimensions: ${options.dims} } }
routes: [ { model: embedder, targets: [ { provider: mock } ] } ]
services: { rag: { ${rag} } }
usage: { journal_dir: ${JSON.stringify(path.join(dir, 'journal'))} }
`,
    },
    port: 0, host: '127.0.0.1', env: process.env, logger: createLogger('warn'), watch: false,
  })
  const store = gw.controller.current.container.resolve<Store>(Store.key)

  const api = async (method: string, p: string, body?: unknown): Promise<any> => {
    const send = () => fetch(`${gw.url}/api/v1/rag${p}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
    // A kept-alive connection idle through the index build has been closed by the server: once more on a new one.
    const res = await send().catch(() => send())
    const json = await res.json() as { data: unknown }
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`)
    return json.data
  }

  return {
    gw,
    store,
    api,
    async seededCollection(name) {
      const collection = await api('POST', '/collections', { name })
      const form = new FormData()
      form.append('file', new Blob(['seed document'], { type: 'text/plain' }), 'seed.txt')
      const [document] = (await (await fetch(`${gw.url}/api/v1/rag/collections/${collection.id}/documents`, { method: 'POST', body: form })).json() as { data: any[] }).data
      while ((await api('GET', `/collections/${collection.id}/documents/${document.id}`)).status !== 'completed') await new Promise((r) => setTimeout(r, 50))
      const { rows: [row] } = await store.sql.query<{ ready_ingest: string }>('SELECT ready_ingest FROM rag_documents WHERE id = $1', [document.id])
      return { collection, document, readyIngest: row.ready_ingest }
    },
    async close() {
      await gw.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** p50, p95 and p99 of the timings, in ms. */
export function percentiles(times: readonly number[]): string {
  const sorted = [...times].sort((a, b) => a - b)
  const at = (p: number): string => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(1)
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms`
}
