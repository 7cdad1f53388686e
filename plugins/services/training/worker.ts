/**
 * The fine-tuning worker: a job moves in steps, each one queued message `{ jobId, token }`. A
 * step starts the provider's job (uploading the dataset) or polls it once, records new events
 * and status changes, then queues the next step after the poll delay (doubling up to the
 * maximum while nothing changes). Two workers never run one job: a step runs only with the job's
 * current token and a lease on its row, renewed while the step runs; a redelivered older step is stale and dropped. A step
 * message lost with a process (the memory queue at a restart) is found by the sweep and queued again.
 */
import { capabilityOf, type Logger, type PluginContext } from '../../../plugin-api/index.ts'
import type { Queue } from '../../contracts/queue.ts'
import { FineTuning, type FineTuneProgress } from '../../contracts/fine-tuning.ts'
import type { Files } from '../../contracts/files.ts'
import { withdrawal } from '../../contracts/principals.ts'
import { evaluateJob, evaluationMessage, principalOf, type EvaluatorDeps } from './evaluator.ts'
import { TERMINAL, newToken, type JobRecord, type JobRepository, type JobStatus, type StepFields } from './jobs.ts'

export const TOPIC = 'training.jobs'

export interface StepMessage { readonly jobId: string; readonly token: string }

export interface WorkerSettings {
  readonly poll_min_ms: number
  readonly poll_max_ms: number
  readonly lease_ms: number
  readonly sweep_ms: number
  /** Tries to start a job at its provider that may crash before the job ends failed. */
  readonly start_attempts: number
}

/** Why a job failed, as OpenAI shows it: the provider's code and the parameter at fault, when known. */
interface Failure { readonly code: string | null; readonly param: string | null }

/**
 * A provider's answer no retry changes: the job as asked is refused (400, 404, 413, 422; a limit,
 * a conflict or an outage is tried again). Its message, code and param, as the provider's SDK
 * reports them (OpenAI's APIError: `error.message`, `code`, `param`).
 */
function refusal(err: unknown): (Failure & { message: string }) | undefined {
  const e = err as { status?: unknown; statusCode?: unknown; code?: unknown; param?: unknown; error?: { message?: unknown } | null; message?: unknown }
  const status = typeof e.status === 'number' ? e.status : e.statusCode
  if (typeof status !== 'number' || ![400, 404, 413, 422].includes(status)) return undefined
  const message = typeof e.error?.message === 'string' ? e.error.message : String(e.message ?? `The provider refused the job (${status}).`)
  return { message, code: typeof e.code === 'string' ? e.code : null, param: typeof e.param === 'string' ? e.param : null }
}

export function stepMessageId(job: Pick<JobRecord, 'id' | 'stepToken'>): string {
  return `${job.id}:${job.stepToken}`
}

export async function queueStep(queue: Queue, job: Pick<JobRecord, 'id' | 'stepToken'>, delayMs = 0): Promise<void> {
  await queue.publish<StepMessage>(TOPIC, { jobId: job.id, token: job.stepToken }, { id: stepMessageId(job), delayMs })
}

/** What the provider reports the job runs with, for the job's view: hyperparameters it resolved, the seed it used. */
function reported(progress: FineTuneProgress): StepFields {
  const resolved = progress.hyperparameters && Object.keys(progress.hyperparameters).length ? { resolvedHyperparameters: progress.hyperparameters } : {}
  return { ...resolved, ...(progress.seed !== undefined ? { seed: progress.seed } : {}) }
}

export function trainingWorker(deps: { ctx: PluginContext; jobs: JobRepository; files: Files; queue: Queue; settings: WorkerSettings; logger: Logger; evaluator: EvaluatorDeps }) {
  const { ctx, jobs, files, queue, settings, logger } = deps

  async function record(job: JobRecord, progress: FineTuneProgress): Promise<void> {
    const events = [...progress.events].sort((a, b) => a.createdAt - b.createdAt)
    for (const e of events) {
      await jobs.addEvent(job.id, { providerEventId: e.id, level: e.level, message: e.message, metrics: e.metrics ?? null, createdAt: new Date(e.createdAt * 1000) })
    }
  }

  async function step(msg: StepMessage, attempts = 1): Promise<void> {
    const current = await jobs.get(msg.jobId)
    if (!current || TERMINAL.includes(current.status) || current.stepToken !== msg.token) return // done, or a stale step
    const job = await jobs.claim(msg.jobId, msg.token, settings.lease_ms)
    if (!job) {
      // Another worker holds it now: look again when its lease runs out (it may have died).
      await queue.publish<StepMessage>(TOPIC, msg, { id: `${msg.jobId}:${msg.token}:retry-${Date.now()}`, delayMs: settings.lease_ms })
      return
    }
    // The lease outlives a step that runs longer than it (an evaluation of many slow calls): no sweep hands the job to a second worker meanwhile.
    const heartbeat = setInterval(() => {
      jobs.extendLease(job.id, msg.token, settings.lease_ms).catch((err: Error) => logger.warn({ job: job.id, err: err.message }, 'extending the training lease failed'))
    }, Math.max(50, Math.floor(settings.lease_ms / 3)))
    heartbeat.unref()
    try {
      await (job.status === 'evaluating' ? evaluate(job, msg.token) : advance(job, msg, attempts))
    } finally {
      clearInterval(heartbeat)
    }
  }

  /** Start the provider's job, or poll it once, and queue the next step. */
  async function advance(job: JobRecord, msg: StepMessage, attempts: number): Promise<void> {
    const provider = ctx.provider(job.provider)
    const tuner = capabilityOf(provider, FineTuning)
    const next = newToken()
    if (!tuner && attempts < 3) {
      // At a first start the config's providers may still be setting up: try again shortly.
      await jobs.finishStep(job.id, msg.token, {}, msg.token)
      throw new Error(`provider '${job.provider}' not available yet`)
    }
    if (!tuner) {
      await end(job, next, 'failed', `The provider '${job.provider}' ${provider ? 'does not fine-tune' : 'is not configured'}.`)
      return
    }
    try {
      if (!job.providerJobId) {
        const training = await files.content(job.trainingFile)
        const validation = job.validationFile ? await files.content(job.validationFile) : undefined
        if (!training) return void (await end(job, next, 'failed', `The training file ${job.trainingFile} is gone.`, undefined, { code: 'file_not_found', param: 'training_file' }))
        // Nothing is started (or billed) for a key revoked, or a user deleted, since it asked.
        const owner = principalOf(job)
        if (owner && !(await deps.evaluator.currentPrincipal(owner))) return void (await end(job, next, 'cancelled', `The job was cancelled before it started: ${withdrawal(owner).reason}.`))
        const providerJobId = await tuner.start({
          model: job.model,
          training: { filename: `${job.trainingFile}.jsonl`, data: training },
          ...(validation ? { validation: { filename: `${job.validationFile}.jsonl`, data: validation } } : {}),
          hyperparameters: job.hyperparameters,
          ...(job.suffix ? { suffix: job.suffix } : {}),
          ...(job.seed !== null ? { seed: job.seed } : {}),
        })
        await jobs.addEvent(job.id, { level: 'info', message: `Started on ${job.provider} as ${providerJobId}.` })
        const saved = await jobs.finishStep(job.id, msg.token, { status: 'queued', providerJobId, pollDelayMs: settings.poll_min_ms }, next)
        if (saved) await queueStep(queue, saved, settings.poll_min_ms)
        else await tuner.cancel(providerJobId).catch(() => undefined) // cancelled meanwhile
        return
      }
      const progress = await tuner.progress(job.providerJobId)
      await record(job, progress)
      const state: JobStatus = progress.state
      if (state === 'succeeded') {
        // Trained: evaluate before the job ends (the next step, so a failure there is retried alone).
        const saved = await jobs.finishStep(job.id, msg.token, { status: 'evaluating', fineTunedModel: progress.fineTunedModel, trainedTokens: progress.trainedTokens, ...(progress.checkpoints ? { checkpoints: progress.checkpoints } : {}), ...reported(progress) }, next)
        if (saved) {
          await jobs.addEvent(job.id, { level: 'info', message: `Trained on ${job.provider}: ${progress.fineTunedModel ?? 'no model name'}. Evaluating it.` })
          await queueStep(queue, saved)
        }
        return
      }
      if (TERMINAL.includes(state)) {
        await end(job, next, state, progress.error, progress)
        return
      }
      const changed = state !== job.status
      if (changed) await jobs.addEvent(job.id, { level: 'info', message: `Status: ${state}.` })
      const delay = changed ? settings.poll_min_ms : Math.min(settings.poll_max_ms, Math.max(settings.poll_min_ms, job.pollDelayMs * 2))
      const saved = await jobs.finishStep(job.id, msg.token, { status: state, pollDelayMs: delay, trainedTokens: progress.trainedTokens, ...reported(progress) }, next)
      if (saved) await queueStep(queue, saved, delay)
    } catch (err) {
      // Refused as asked (too few examples, a model it does not tune): no retry changes that, the job fails with the provider's reason.
      const refused = refusal(err)
      if (refused) return void (await end(job, next, 'failed', refused.message, undefined, refused))
      const message = (err as Error).message
      if (!job.providerJobId) {
        // A start that keeps crashing (each try uploads the files again) ends the job, bounded, rather than being retried and swept forever.
        const tries = await jobs.startFailed(job.id, msg.token)
        if (tries >= settings.start_attempts) {
          return void (await end(job, next, 'failed', `The provider '${job.provider}' did not start the job in ${tries} tries: ${message}`, undefined, { code: 'provider_error', param: null }))
        }
      } else {
        // The provider failed this time: give the lease back and let the queue retry the same step.
        await jobs.finishStep(job.id, msg.token, {}, msg.token).catch(() => undefined)
      }
      logger.warn({ job: job.id, err: message }, 'training step failed; the queue retries it')
      throw err
    }
  }

  async function end(job: JobRecord, token: string, status: JobStatus, error: string | null, progress?: FineTuneProgress, failure?: Failure): Promise<void> {
    const cause = failure ?? (progress ? { code: progress.errorCode ?? null, param: progress.errorParam ?? null } : undefined)
    const saved = await jobs.finishStep(job.id, job.stepToken, {
      status, error, fineTunedModel: progress?.fineTunedModel ?? null, trainedTokens: progress?.trainedTokens ?? null, ...(progress ? reported(progress) : {}),
      ...(cause ? { errorCode: cause.code, errorParam: cause.param } : {}),
    }, token)
    if (saved) await jobs.addEvent(job.id, { level: status === 'succeeded' ? 'info' : 'error', message: status === 'succeeded' ? `The job succeeded: ${progress?.fineTunedModel ?? 'no model name'}.` : `The job ${status}${error ? `: ${error}` : ''}.` })
  }

  async function evaluate(job: JobRecord, token: string): Promise<void> {
    let evaluated
    try {
      evaluated = await evaluateJob(deps.evaluator, job)
    } catch (err) {
      await jobs.finishStep(job.id, token, {}, token).catch(() => undefined)
      logger.warn({ job: job.id, err: (err as Error).message }, 'evaluation step failed; the queue retries it')
      throw err
    }
    const { evaluation, resultFile } = evaluated
    const saved = await jobs.finishStep(job.id, token, { status: 'succeeded', resultFile: resultFile.id, evaluation }, newToken())
    if (!saved) return void (await files.delete(resultFile.id).catch(() => undefined)) // cancelled meanwhile, or another worker's
    await jobs.addEvent(job.id, { level: evaluation.status === 'failed' ? 'warn' : 'info', message: evaluationMessage(evaluation) })
    await jobs.addEvent(job.id, { level: 'info', message: `The job succeeded: ${saved.fineTunedModel ?? 'no model name'}.` })
  }

  /** Queue a step for jobs whose step message is gone (the process that held it stopped). */
  async function sweep(idleMs: number): Promise<number> {
    const stalled = await jobs.stalled(idleMs)
    for (const job of stalled) await queueStep(queue, job)
    return stalled.length
  }

  return { step, sweep }
}
