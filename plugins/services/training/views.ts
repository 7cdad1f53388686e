/**
 * Jobs, events, checkpoints, datasets and deployments in OpenAI's fine-tuning shape, and in the
 * management API's, with the schema of each management view beside it (what /api/v1/training
 * answers, for the OpenAPI document and the console's generated types).
 */
import type { JsonSchema } from '../../../plugin-api/index.ts'
import { nullable, NULLABLE_STRING_SCHEMA as NULLABLE_STRING, NULLABLE_TIME_SCHEMA as NULLABLE_TIME, objectSchema, recordSchema, TIME_SCHEMA as TIME } from '../kit/schema.ts'
import type { DatasetRecord } from './datasets.ts'
import { yamlSnippet, type Deployment } from './deployments.ts'
import { EVALUATION_SCHEMA } from './evaluation.ts'
import type { FineTuneCheckpoint } from '../../contracts/fine-tuning.ts'
import type { EventRecord, Hyperparameters, JobRecord, JobStatus } from './jobs.ts'

const NULLABLE_NUMBER: JsonSchema = { type: ['number', 'null'] }
const COUNT: JsonSchema = { type: 'integer', minimum: 0 }
const NUMBER_MAP: JsonSchema = { type: 'object', additionalProperties: { type: 'number' } }
const STRING_MAP: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } }

const OPENAI_STATUS: Readonly<Record<JobStatus, string>> = {
  pending: 'validating_files', queued: 'queued', running: 'running', paused: 'paused', evaluating: 'running', succeeded: 'succeeded', failed: 'failed', cancelled: 'cancelled',
}
const unix = (d: Date | null) => (d ? Math.floor(d.getTime() / 1000) : null)

/** What the job runs with: the provider's resolved values once it reported them, over what the caller asked. */
const hyperparametersOf = (job: JobRecord): Hyperparameters => ({ ...job.hyperparameters, ...job.resolvedHyperparameters })

export function openAIJob(job: JobRecord): Record<string, unknown> {
  const asRun = hyperparametersOf(job)
  const hyperparameters = {
    n_epochs: asRun.n_epochs ?? 'auto',
    batch_size: asRun.batch_size ?? 'auto',
    learning_rate_multiplier: asRun.learning_rate_multiplier ?? 'auto',
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
    error: job.status === 'failed' ? { code: job.errorCode ?? 'fine_tune_failed', message: job.error ?? 'The job failed.', param: job.errorParam } : null,
    seed: job.seed ?? 0,
    estimated_finish: null,
    integrations: null,
    metadata: job.metadata,
    user_provided_suffix: job.suffix,
    method: { type: 'supervised', supervised: { hyperparameters } },
  }
}

const JOB_STATUSES: readonly JobStatus[] = ['pending', 'queued', 'running', 'paused', 'evaluating', 'succeeded', 'failed', 'cancelled']
export const JOB_SCHEMA: JsonSchema = recordSchema({
  id: { type: 'string' },
  status: { enum: JOB_STATUSES, description: '`evaluating`: trained; the gateway scores the model before the job ends.' },
  provider: { type: 'string' }, model: { type: 'string' }, training_file: { type: 'string' }, validation_file: NULLABLE_STRING,
  hyperparameters: {
    ...objectSchema({ n_epochs: { type: 'integer' }, batch_size: { type: 'integer' }, learning_rate_multiplier: { type: 'number' } }),
    description: 'What the job runs with: the values the provider resolved once it reported them, else those asked for (one left out is `auto`).',
  },
  suffix: NULLABLE_STRING, provider_job_id: NULLABLE_STRING, fine_tuned_model: NULLABLE_STRING,
  model_deleted_at: { ...NULLABLE_TIME, description: 'When the fine-tuned model was deleted (`DELETE /v1/models/{model}`): no longer listed or routed.' },
  error: { ...NULLABLE_STRING, description: 'Why it failed (the provider\'s message).' },
  error_code: { ...NULLABLE_STRING, description: 'The provider\'s code for the failure (`invalid_n_examples`), `provider_error` for a start that kept crashing.' },
  error_param: { ...NULLABLE_STRING, description: 'The parameter at fault (`training_file`), when the provider names one.' },
  trained_tokens: { type: ['integer', 'null'] },
  result_files: { type: 'array', items: { type: 'string' }, description: 'The results file (a CSV of the provider\'s metrics per step), once evaluated.' },
  evaluation: nullable(EVALUATION_SCHEMA),
  seed: { type: ['integer', 'null'], description: 'The seed asked for, then the one the provider reports it used.' }, metadata: nullable(STRING_MAP), user_id: NULLABLE_STRING, department: NULLABLE_STRING,
  created_at: TIME, finished_at: NULLABLE_TIME,
})

export function managedJob(job: JobRecord): Record<string, unknown> {
  return {
    id: job.id,
    status: job.status,
    provider: job.provider,
    model: job.model,
    training_file: job.trainingFile,
    validation_file: job.validationFile,
    hyperparameters: hyperparametersOf(job),
    suffix: job.suffix,
    provider_job_id: job.providerJobId,
    fine_tuned_model: job.fineTunedModel,
    model_deleted_at: job.modelDeletedAt?.toISOString() ?? null,
    error: job.error,
    error_code: job.errorCode,
    error_param: job.errorParam,
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

/** A job's event, as both APIs show it (`created_at` in Unix seconds). */
export const EVENT_SCHEMA: JsonSchema = recordSchema({
  object: { const: 'fine_tuning.job.event' }, id: { type: 'string' }, created_at: { type: 'integer', description: 'Unix seconds.' },
  level: { type: 'string' }, message: { type: 'string' }, type: { enum: ['message', 'metrics'] },
  data: { ...NUMBER_MAP, description: 'A metrics event\'s numbers (step, train_loss, valid_loss ...).' },
})

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

export const CHECKPOINT_SCHEMA: JsonSchema = recordSchema({
  object: { const: 'fine_tuning.job.checkpoint' }, id: { type: 'string' }, created_at: { type: 'integer', description: 'Unix seconds.' },
  fine_tuned_model_checkpoint: { type: 'string', description: 'The checkpoint\'s model, callable like the final one.' }, fine_tuning_job_id: { type: 'string' },
  metrics: NUMBER_MAP, step_number: { type: 'integer' },
})

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

const DATASET_STATS_SCHEMA: JsonSchema = recordSchema({
  examples: COUNT, tokens: COUNT, max_example_tokens: COUNT,
  model: { ...NULLABLE_STRING, description: 'The base model the estimate is for.' }, epochs: { type: 'integer', minimum: 1 },
  estimated_cost_usd: { ...NULLABLE_NUMBER, description: 'Catalog price × tokens × epochs; null when the catalog has no training price for the model.' },
})
const SPLIT_SIDE: JsonSchema = recordSchema({ examples: COUNT, tokens: { type: ['integer', 'null'] } })
export const DATASET_SCHEMA: JsonSchema = recordSchema({
  id: { type: 'string' }, name: { type: 'string' }, filename: { type: 'string' },
  file_id: { type: 'string', description: 'The training file (what a job\'s training_file names).' },
  validation_file_id: { ...NULLABLE_STRING, description: 'The held-out side of a split.' },
  model: NULLABLE_STRING, user_id: NULLABLE_STRING, department: NULLABLE_STRING, created_at: TIME,
  stats: DATASET_STATS_SCHEMA,
  validation: objectSchema({
    status: { const: 'valid' }, lines: { ...COUNT, description: 'Examples checked.' }, blank_lines: COUNT,
    token_limit: { type: 'integer', description: 'The longest example allowed, in tokens.' },
  }),
  split: nullable(recordSchema({ fraction: { type: 'number' }, train: SPLIT_SIDE, validation: SPLIT_SIDE })),
})

export const datasetView = (d: DatasetRecord) => ({
  id: d.id, name: d.name, filename: d.name, file_id: d.fileId, validation_file_id: d.validationFileId, model: d.model,
  user_id: d.userId, department: d.department, created_at: d.createdAt.toISOString(), stats: d.stats, validation: d.validation, split: d.split,
})

/** A succeeded job's model, routable under `route`. */
export const DEPLOYMENT_SCHEMA: JsonSchema = recordSchema({
  route: { type: 'string', description: 'The model name clients send.' }, job_id: { type: 'string' }, provider: { type: 'string' }, model: { type: 'string' },
  created_by: NULLABLE_STRING, created_at: TIME, yaml: { type: 'string', description: 'The same route as gateway.yaml lines, to make it permanent.' },
})
export const REMOVED_DEPLOYMENT_SCHEMA: JsonSchema = recordSchema({ route: { type: 'string' }, deleted: { const: true } })

export const deploymentView = (d: Deployment) => ({
  route: d.route, job_id: d.jobId, provider: d.provider, model: d.model, created_by: d.createdBy, created_at: d.createdAt.toISOString(), yaml: yamlSnippet(d),
})
