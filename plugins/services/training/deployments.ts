/**
 * Deployed fine-tuned models: rows in training_deployments, offered to the kernel as a route
 * overlay (RouteOverlay). The overlay is a cache of the table, read when a snapshot is built;
 * after a deploy or a removal here, or a change another replica made (seen by polling the
 * table's signature), the cache is refreshed and the snapshot rebuilt.
 */
import type { OverlayRoute, RouteOverlay, SqlClient } from '../../../plugin-api/index.ts'

export interface Deployment {
  readonly route: string
  readonly jobId: string
  readonly provider: string
  readonly model: string
  readonly createdBy: string | null
  readonly createdAt: Date
}

/** A fine-tuned model routable while the evaluation runs: only its job's owner may call it. */
export interface EvaluationRoute {
  readonly route: string
  readonly provider: string
  readonly model: string
  readonly userId: string | null
}

export interface Deployments extends RouteOverlay {
  /** Route a model being evaluated (in this process only: the evaluation runs here). */
  addEvaluation(e: EvaluationRoute): void
  removeEvaluation(route: string): void
  list(): readonly Deployment[]
  add(d: Omit<Deployment, 'createdAt'>): Promise<Deployment>
  remove(route: string): Promise<boolean>
  /** Remove every deployment of the job's model; the routes removed. */
  removeJob(jobId: string): Promise<string[]>
  /** Re-read the table; true when it changed since the last read. */
  refresh(): Promise<boolean>
}

export const SOURCE = 'deployed'
export const EVALUATION_SOURCE = 'evaluation'

export function deployments(sql: SqlClient): Deployments {
  let cache: Deployment[] = []
  const evaluations = new Map<string, EvaluationRoute>()
  let signature = ''
  const read = async (): Promise<boolean> => {
    const { rows } = await sql.query('SELECT route, job_id, provider, model, created_by, created_at FROM training_deployments ORDER BY route')
    const next = rows.map((r) => ({ route: r.route as string, jobId: r.job_id as string, provider: r.provider as string, model: r.model as string, createdBy: (r.created_by as string | null) ?? null, createdAt: new Date(r.created_at as string) }))
    const sig = JSON.stringify(next.map((d) => [d.route, d.provider, d.model]))
    const changed = sig !== signature
    cache = next
    signature = sig
    return changed
  }
  return {
    routes: (): OverlayRoute[] => [
      ...cache.map((d) => ({ model: d.route, targets: [{ provider: d.provider, model: d.model }], source: SOURCE })),
      ...[...evaluations.values()].map((e) => ({ model: e.route, targets: [{ provider: e.provider, model: e.model }], source: EVALUATION_SOURCE, ...(e.userId ? { when: { users: [e.userId] } } : {}) })),
    ],
    addEvaluation: (e) => void evaluations.set(e.route, e),
    removeEvaluation: (route) => void evaluations.delete(route),
    list: () => cache,
    async add(d) {
      const { rows } = await sql.query(
        'INSERT INTO training_deployments (route, job_id, provider, model, created_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (route) DO NOTHING RETURNING created_at',
        [d.route, d.jobId, d.provider, d.model, d.createdBy],
      )
      if (rows.length === 0) throw Object.assign(new Error('exists'), { exists: true })
      await read()
      return { ...d, createdAt: new Date(rows[0].created_at as string) }
    },
    async remove(route) {
      const { rowCount } = await sql.query('DELETE FROM training_deployments WHERE route = $1', [route])
      await read()
      return rowCount > 0
    },
    async removeJob(jobId) {
      const { rows } = await sql.query('DELETE FROM training_deployments WHERE job_id = $1 RETURNING route', [jobId])
      await read()
      return rows.map((r) => r.route as string)
    },
    refresh: read,
  }
}

/** What a GitOps user commits instead. */
export function yamlSnippet(d: Pick<Deployment, 'route' | 'provider' | 'model'>): string {
  return `routes:\n  - model: ${JSON.stringify(d.route)}\n    targets: [ { provider: ${d.provider}, model: ${JSON.stringify(d.model)} } ]\n`
}
