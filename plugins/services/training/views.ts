/** Jobs and events in OpenAI's fine-tuning shape, and in the management API's. */
import type { FineTuneCheckpoint } from '../../contracts/fine-tuning.ts'
import type { EventRecord, JobRecord, JobStatus } from './jobs.ts'

const OPENAI_STATUS: Readonly<Record<JobStatus, string>> = {
  pending: 'validating_files', queued: 'queued', running: 'running', evaluating: 'running', succeeded: 'succeeded', failed: 'failed', cancelled: 'cancelled',
}
const unix = (d: Date | null) => (d ? Math.floor(d.getTime() / 1000) : null)

export function openAIJob(job: JobRecord): Record<string, unknown> {
  const hyperparameters = {
    n_epochs: job.hyperparameters.n_epochs ?? 'auto',
    batch_size: job.hyperparameters.batch_size ?? 'auto',
    learning_rate_multiplier: job.hyperparameters.learning_rate_multiplier ?? 'auto',
  }
  return {
    object: 'fine_tuning.job',
    id: job.id,
    model: job.model,
    created_at: unix(job.createdAt),
    finished_at: unix(job.finishedAt),
    fine_tuned_model: job.fineTunedModel,
    organization_id: job.department ?? 'gateway',
    result_files: job.resultFile ? [job.resultFile] : [],
    status: OPENAI_STATUS[job.status],
    training_file: job.trainingFile,
    validation_file: job.validationFile,
    hyperparameters,
    trained_tokens: job.trainedTokens,
    error: job.status === 'failed' ? { code: 'fine_tune_failed', message: job.error ?? 'The job failed.', param: null } : null,
    seed: job.seed ?? 0,
    estimated_finish: null,
    integrations: null,
    metadata: job.metadata,
    user_provided_suffix: job.suffix,
    method: { type: 'supervised', supervised: { hyperparameters } },
  }
}

export function managedJob(job: JobRecord): Record<string, unknown> {
  return {
    id: job.id,
    status: job.status,
    provider: job.provider,
    model: job.model,
    training_file: job.trainingFile,
    validation_file: job.validationFile,
    hyperparameters: job.hyperparameters,
    suffix: job.suffix,
    provider_job_id: job.providerJobId,
    fine_tuned_model: job.fineTunedModel,
    error: job.error,
    trained_tokens: job.trainedTokens,
    result_files: job.resultFile ? [job.resultFile] : [],
    evaluation: job.evaluation,
    seed: job.seed,
    metadata: job.metadata,
    user_id: job.userId,
    department: job.department,
    created_at: job.createdAt.toISOString(),
    finished_at: job.finishedAt?.toISOString() ?? null,
  }
}

export function openAIEvent(event: EventRecord): Record<string, unknown> {
  return {
    object: 'fine_tuning.job.event',
    id: event.id,
    created_at: unix(event.createdAt),
    level: event.level,
    message: event.message,
    type: event.metrics ? 'metrics' : 'message',
    data: event.metrics ?? {},
  }
}

/** A provider's named checkpoint as OpenAI lists it (`client.fineTuning.jobs.checkpoints.list`). */
export function openAICheckpoint(job: JobRecord, c: FineTuneCheckpoint): Record<string, unknown> {
  return {
    object: 'fine_tuning.job.checkpoint',
    id: c.id,
    created_at: c.createdAt,
    fine_tuned_model_checkpoint: c.model,
    fine_tuning_job_id: job.id,
    metrics: { step: c.step, ...c.metrics },
    step_number: c.step,
  }
}
