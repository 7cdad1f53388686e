/** The training_jobs and training_job_events tables: rows in, records out. */
import { randomBytes } from 'node:crypto'
import { type SqlClient } from '../../../plugin-api/index.ts'
import type { FineTuneCheckpoint } from '../../contracts/fine-tuning.ts'
import type { Evaluation } from './evaluation.ts'
import { jsonParam } from '../../store/kit/sql.ts'
import { unknownCursor } from '../kit/cursor.ts'

/** `evaluating`: the provider's training succeeded; the gateway is scoring the model before the job ends. */
export type JobStatus = 'pending' | 'queued' | 'running' | 'paused' | 'evaluating' | 'succeeded' | 'failed' | 'cancelled'
export const TERMINAL: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled']
/** The statuses of a job a worker still moves, as SQL. */
const OPEN = `('pending', 'queued', 'running', 'paused', 'evaluating')`

export interface Hyperparameters { n_epochs?: number; batch_size?: number; learning_rate_multiplier?: number }

export interface JobRecord {
  readonly id: string
  readonly userId: string | null
  readonly department: string | null
  readonly provider: string
  readonly model: string
  readonly trainingFile: string
  readonly validationFile: string | null
  /** What the caller asked for (a value left out is 'auto'). */
  readonly hyperparameters: Hyperparameters
  /** What the provider reported the job runs with, once it resolved them; null until then. */
  readonly resolvedHyperparameters: Hyperparameters | null
  readonly suffix: string | null
  readonly status: JobStatus
  readonly providerJobId: string | null
  readonly fineTunedModel: string | null
  /** When the fine-tuned model was deleted (it is no longer listed or routed). */
  readonly modelDeletedAt: Date | null
  readonly error: string | null
  /** The provider's code for the failure and the parameter at fault (OpenAI's `error.code`, `error.param`), when it gave them. */
  readonly errorCode: string | null
  readonly errorParam: string | null
  /** Tries to start the job at its provider that crashed (bounded by start_attempts). */
  readonly failedStarts: number
  readonly trainedTokens: number | null
  /** Who created the job: the evaluation calls the pipeline as them. */
  readonly ownerRole: string | null
  readonly ownerKey: string | null
  /** The seed asked for, then the one the provider reports it used. */
  readonly seed: number | null
  readonly metadata: Readonly<Record<string, string>> | null
  /** The results file (purpose fine-tune-results) and the evaluation, once evaluated. */
  readonly resultFile: string | null
  readonly evaluation: Evaluation | null
  /** The provider's named checkpoints, recorded when training succeeded. */
  readonly checkpoints: readonly FineTuneCheckpoint[]
  readonly stepToken: string
  readonly pollDelayMs: number
  readonly createdAt: Date
  readonly finishedAt: Date | null
}

export interface EventRecord {
  readonly id: string
  readonly level: string
  readonly message: string
  readonly metrics: Record<string, number> | null
  readonly createdAt: Date
}

const newId = (prefix: string) => `${prefix}-${randomBytes(12).toString('hex')}`
export const newToken = () => randomBytes(8).toString('hex')

const jsonOf = (v: unknown): unknown => (v === null || v === undefined ? null : typeof v === 'string' ? JSON.parse(v) : v)

const toJob = (r: Record<string, unknown>): JobRecord => ({
  id: r.id as string,
  userId: (r.user_id as string | null) ?? null,
  department: (r.department as string | null) ?? null,
  provider: r.provider as string,
  model: r.model as string,
  trainingFile: r.training_file as string,
  validationFile: (r.validation_file as string | null) ?? null,
  hyperparameters: jsonOf(r.hyperparameters) as Hyperparameters,
  resolvedHyperparameters: jsonOf(r.resolved_hyperparameters) as Hyperparameters | null,
  suffix: (r.suffix as string | null) ?? null,
  status: r.status as JobStatus,
  providerJobId: (r.provider_job_id as string | null) ?? null,
  fineTunedModel: (r.fine_tuned_model as string | null) ?? null,
  modelDeletedAt: r.model_deleted_at ? new Date(r.model_deleted_at as string) : null,
  error: (r.error as string | null) ?? null,
  errorCode: (r.error_code as string | null) ?? null,
  errorParam: (r.error_param as string | null) ?? null,
  failedStarts: Number(r.failed_starts ?? 0),
  trainedTokens: r.trained_tokens === null || r.trained_tokens === undefined ? null : Number(r.trained_tokens),
  ownerRole: (r.owner_role as string | null) ?? null,
  ownerKey: (r.owner_key as string | null) ?? null,
  seed: r.seed === null || r.seed === undefined ? null : Number(r.seed),
  metadata: jsonOf(r.metadata) as Record<string, string> | null,
  resultFile: (r.result_file as string | null) ?? null,
  evaluation: jsonOf(r.evaluation) as Evaluation | null,
  checkpoints: (jsonOf(r.checkpoints) as FineTuneCheckpoint[] | null) ?? [],
  stepToken: r.step_token as string,
  pollDelayMs: Number(r.poll_delay_ms),
  createdAt: new Date(r.created_at as string),
  finishedAt: r.finished_at ? new Date(r.finished_at as string) : null,
})

export interface NewJob {
  userId: string | null; department: string | null; ownerRole: string | null; ownerKey: string | null
  provider: string; model: string; trainingFile: string; validationFile: string | null
  hyperparameters: Hyperparameters; suffix: string | null; seed: number | null; metadata: Record<string, string> | null
}

export interface JobFilter {
  userId?: string; department?: string; status?: string; limit: number; after?: string
  /** Jobs whose metadata holds every one of these pairs. */
  metadata?: Readonly<Record<string, string>>
}

export interface StepFields {
  status?: JobStatus; providerJobId?: string; fineTunedModel?: string | null; error?: string | null; errorCode?: string | null; errorParam?: string | null; trainedTokens?: number | null; pollDelayMs?: number
  resultFile?: string; evaluation?: Evaluation; checkpoints?: readonly FineTuneCheckpoint[]
  /** What the provider reports the job runs with (hyperparameters resolved, the seed used). */
  resolvedHyperparameters?: Hyperparameters; seed?: number
}

export function jobRepository(sql: SqlClient) {
  return {
    async create(input: NewJob): Promise<JobRecord> {
      const { rows } = await sql.query(
        `INSERT INTO training_jobs (id, user_id, department, provider, model, training_file, validation_file, hyperparameters, suffix, step_token, owner_role, owner_key, seed, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14::jsonb) RETURNING *`,
        [newId('ftjob'), input.userId, input.department, input.provider, input.model, input.trainingFile, input.validationFile, jsonParam(input.hyperparameters), input.suffix, newToken(),
          input.ownerRole, input.ownerKey, input.seed, jsonParam(input.metadata)],
      )
      return toJob(rows[0])
    },
    async get(id: string): Promise<JobRecord | undefined> {
      const { rows } = await sql.query('SELECT * FROM training_jobs WHERE id = $1', [id])
      return rows[0] && toJob(rows[0])
    },
    async list(filter: JobFilter): Promise<JobRecord[]> {
      const where: string[] = []
      const params: unknown[] = []
      const add = (clause: string, value: unknown) => { params.push(value); where.push(clause.replace('?', `$${params.length}`)) }
      if (filter.userId !== undefined) add('user_id = ?', filter.userId)
      if (filter.department !== undefined) add('department = ?', filter.department)
      if (filter.status !== undefined) add('status = ?', filter.status)
      if (filter.metadata !== undefined) add('metadata @> ?::jsonb', jsonParam(filter.metadata))
      if (filter.after !== undefined) add('seq < (SELECT seq FROM training_jobs WHERE id = ?)', filter.after)
      const { rows } = await sql.query(`SELECT * FROM training_jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ${Math.min(Math.max(filter.limit, 1), 1000)}`, params)
      return rows.map(toJob)
    },
    /** Take the job for one worker step: only with the step's token and no live lease elsewhere. */
    async claim(id: string, token: string, leaseMs: number): Promise<JobRecord | undefined> {
      const { rows } = await sql.query(
        `UPDATE training_jobs SET lease_until = now() + ($3 || ' milliseconds')::interval
         WHERE id = $1 AND step_token = $2 AND status IN ${OPEN} AND (lease_until IS NULL OR lease_until < now())
         RETURNING *`,
        [id, token, String(leaseMs)],
      )
      return rows[0] && toJob(rows[0])
    },
    /** Keep the step's lease while it runs (a long evaluation): false once the step is no longer this token's. */
    async extendLease(id: string, token: string, leaseMs: number): Promise<boolean> {
      const { rowCount } = await sql.query(
        `UPDATE training_jobs SET lease_until = now() + ($3 || ' milliseconds')::interval
         WHERE id = $1 AND step_token = $2 AND status IN ${OPEN} AND lease_until IS NOT NULL`,
        [id, token, String(leaseMs)],
      )
      return (rowCount ?? 0) > 0
    },
    /** End a step: new fields, a new token for the next step, the lease released. Not over a cancel that came meanwhile. */
    async finishStep(id: string, token: string, fields: StepFields, nextToken: string): Promise<JobRecord | undefined> {
      const terminal = fields.status !== undefined && TERMINAL.includes(fields.status)
      const { rows } = await sql.query(
        `UPDATE training_jobs SET
           status = COALESCE($3, status), provider_job_id = COALESCE($4, provider_job_id), fine_tuned_model = COALESCE($5, fine_tuned_model),
           error = COALESCE($6, error), trained_tokens = COALESCE($7, trained_tokens), poll_delay_ms = COALESCE($8, poll_delay_ms),
           result_file = COALESCE($11, result_file), evaluation = COALESCE($12::jsonb, evaluation), checkpoints = COALESCE($13::jsonb, checkpoints),
           resolved_hyperparameters = COALESCE($14::jsonb, resolved_hyperparameters), seed = COALESCE($15, seed),
           error_code = COALESCE($16, error_code), error_param = COALESCE($17, error_param),
           step_token = $9, lease_until = NULL, updated_at = now(), finished_at = CASE WHEN $10 THEN now() ELSE finished_at END
         WHERE id = $1 AND step_token = $2 AND status IN ${OPEN} RETURNING *`,
        [id, token, fields.status ?? null, fields.providerJobId ?? null, fields.fineTunedModel ?? null, fields.error ?? null, fields.trainedTokens ?? null, fields.pollDelayMs ?? null, nextToken, terminal,
          fields.resultFile ?? null, jsonParam(fields.evaluation ?? null), jsonParam(fields.checkpoints ?? null), jsonParam(fields.resolvedHyperparameters ?? null), fields.seed ?? null,
          fields.errorCode ?? null, fields.errorParam ?? null],
      )
      return rows[0] && toJob(rows[0])
    },
    /** Count a crashed try to start the job and give its lease back (the queue retries the step): the tries so far. */
    async startFailed(id: string, token: string): Promise<number> {
      const { rows } = await sql.query(
        `UPDATE training_jobs SET failed_starts = failed_starts + 1, lease_until = NULL WHERE id = $1 AND step_token = $2 RETURNING failed_starts`, [id, token],
      )
      return rows[0] ? Number(rows[0].failed_starts) : 0
    },
    /** The newest job that made `model`, deleted or not. */
    async byModel(model: string): Promise<JobRecord | undefined> {
      const { rows } = await sql.query('SELECT * FROM training_jobs WHERE fine_tuned_model = $1 ORDER BY seq DESC LIMIT 1', [model])
      return rows[0] && toJob(rows[0])
    },
    /** Record the job's model as deleted; undefined when it already was (a delete at the same time). */
    async markModelDeleted(id: string): Promise<JobRecord | undefined> {
      const { rows } = await sql.query('UPDATE training_jobs SET model_deleted_at = now(), updated_at = now() WHERE id = $1 AND model_deleted_at IS NULL RETURNING *', [id])
      return rows[0] && toJob(rows[0])
    },
    /** The job one of whose checkpoints is `model`, and whether that checkpoint was deleted here. */
    async byCheckpoint(model: string): Promise<{ job: JobRecord; deleted: boolean } | undefined> {
      const { rows } = await sql.query(
        `SELECT j.*, d.model IS NOT NULL AS checkpoint_deleted FROM training_jobs j LEFT JOIN training_deleted_checkpoints d ON d.model = $2
         WHERE j.checkpoints @> $1::jsonb ORDER BY j.seq DESC LIMIT 1`,
        [jsonParam([{ model }]), model],
      )
      return rows[0] && { job: toJob(rows[0]), deleted: rows[0].checkpoint_deleted === true }
    },
    /** Record a job's checkpoint model as deleted; false when it already was (a delete at the same time). */
    async markCheckpointDeleted(jobId: string, model: string): Promise<boolean> {
      const { rowCount } = await sql.query('INSERT INTO training_deleted_checkpoints (model, job_id) VALUES ($1, $2) ON CONFLICT (model) DO NOTHING', [model, jobId])
      return rowCount > 0
    },
    /** The job's checkpoint models deleted here. */
    async deletedCheckpoints(jobId: string): Promise<Set<string>> {
      const { rows } = await sql.query('SELECT model FROM training_deleted_checkpoints WHERE job_id = $1', [jobId])
      return new Set(rows.map((r) => r.model as string))
    },
    /** Every fine-tuned model deleted here: jobs' final models and their checkpoints. */
    async deletedModels(): Promise<string[]> {
      const { rows } = await sql.query(
        `SELECT fine_tuned_model AS model FROM training_jobs WHERE model_deleted_at IS NOT NULL AND fine_tuned_model IS NOT NULL
         UNION ALL SELECT model FROM training_deleted_checkpoints`,
      )
      return rows.map((r) => r.model as string)
    },
    /** Cancel a job that has not ended; undefined when it had. */
    async cancel(id: string): Promise<JobRecord | undefined> {
      const { rows } = await sql.query(
        `UPDATE training_jobs SET status = 'cancelled', updated_at = now(), finished_at = now() WHERE id = $1 AND status IN ${OPEN} RETURNING *`, [id],
      )
      return rows[0] && toJob(rows[0])
    },
    /** Move a job from one of `from` to `to` (a pause, a resume); undefined when it was in none of them. */
    async transition(id: string, from: readonly JobStatus[], to: JobStatus): Promise<JobRecord | undefined> {
      const { rows } = await sql.query(`UPDATE training_jobs SET status = $3, updated_at = now() WHERE id = $1 AND status = ANY($2::text[]) RETURNING *`, [id, from, to])
      return rows[0] && toJob(rows[0])
    },
    /** Jobs no worker holds and none has stepped for `idleMs`: their step message may be lost (a restart). */
    async stalled(idleMs: number): Promise<JobRecord[]> {
      const { rows } = await sql.query(
        `SELECT * FROM training_jobs WHERE status IN ${OPEN} AND (lease_until IS NULL OR lease_until < now())
         AND updated_at < now() - ($1 || ' milliseconds')::interval ORDER BY seq LIMIT 1000`, [String(idleMs)],
      )
      return rows.map(toJob)
    },
    async addEvent(jobId: string, event: { level: string; message: string; metrics?: Record<string, number> | null; providerEventId?: string; createdAt?: Date }): Promise<void> {
      await sql.query(
        `INSERT INTO training_job_events (id, job_id, provider_event_id, level, message, metrics, created_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, COALESCE($7, now())) ON CONFLICT (job_id, provider_event_id) DO NOTHING`,
        [newId('ftevent'), jobId, event.providerEventId ?? null, event.level, event.message, jsonParam(event.metrics ?? null), event.createdAt ?? null],
      )
    },
    /** The metrics points the provider reported (step, losses...), in the order recorded. */
    async metrics(jobId: string): Promise<Record<string, number>[]> {
      const { rows } = await sql.query('SELECT metrics FROM training_job_events WHERE job_id = $1 AND metrics IS NOT NULL ORDER BY seq', [jobId])
      return rows.map((r) => jsonOf(r.metrics) as Record<string, number>)
    },
    /** Newest first, as OpenAI lists them. */
    async events(jobId: string, limit: number, after?: string): Promise<EventRecord[]> {
      if (after !== undefined && !(await sql.query('SELECT 1 FROM training_job_events WHERE id = $1 AND job_id = $2', [after, jobId])).rows[0]) throw unknownCursor('event', after)
      const { rows } = await sql.query(
        `SELECT id, level, message, metrics, created_at FROM training_job_events WHERE job_id = $1 ${after ? 'AND seq < (SELECT seq FROM training_job_events WHERE id = $2)' : ''}
         ORDER BY seq DESC LIMIT ${Math.min(Math.max(limit, 1), 1000)}`,
        after ? [jobId, after] : [jobId],
      )
      return rows.map((r) => ({
        id: r.id as string, level: r.level as string, message: r.message as string,
        metrics: (typeof r.metrics === 'string' ? JSON.parse(r.metrics) : r.metrics) as Record<string, number> | null,
        createdAt: new Date(r.created_at as string),
      }))
    },
  }
}

export type JobRepository = ReturnType<typeof jobRepository>
