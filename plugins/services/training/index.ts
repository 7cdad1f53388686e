/**
 * Training: fine-tuning datasets and jobs.
 *
 *   services: { files: {}, training: { default_epochs: 3 } }     # needs a store and a queue
 *
 * - Datasets are rows of training_datasets over files of purpose `fine-tune`: every upload of
 *   that purpose (here or on /v1/files) is checked line by line first (dataset-check.ts) and
 *   refused whole with every problem, or recorded (dataset-routes.ts). `/api/v1/training/datasets`
 *   uploads one (optionally split into train and validation files) and lists them.
 * - After training, a job is evaluated through the pipeline before it succeeds (evaluator.ts).
 * - Jobs (`/api/v1/training/jobs`, and OpenAI's `/v1/fine_tuning/jobs` through surface.fine-tuning)
 *   are rows in training_jobs, moved by queued steps (worker.ts) through the provider's optional
 *   `FineTuning` capability: pending → queued → running → succeeded | failed | cancelled, with events.
 * - A job's model is deleted with OpenAI's `DELETE /v1/models/{model}` (model-deletion.ts): at its
 *   provider, and here no longer listed or routed (`DeletedModels`, stage.deleted-models).
 */
import { METADATA_SCHEMA, metadataFilter } from '../../contracts/metadata.ts'
import { fileURLToPath } from 'node:url'
import {
  GatewayError, RouteOverlay, Store, Tokenizer, badRequest, capabilityOf, conflict, definePlugin, forbidden, notFound, reply, token,
  type Caller, type JsonSchema, type GatewayCalls, type Principal, type RouteSpec, type Service, type Surface,
} from '../../../plugin-api/index.ts'
import { EMPTY_BODY_SCHEMA, listOf } from '../kit/schema.ts'
import { unknownCursor } from '../kit/cursor.ts'
import { Queue } from '../../contracts/queue.ts'
import { AuditLog, Identity, type JsonObject } from '../../contracts/capabilities.ts'
import { auditTo, type Audit } from '../../contracts/audit.ts'
import { currentPrincipal } from '../../contracts/principals.ts'
import { Files, ownerFilter, ownerOf, type StoredFile } from '../../contracts/files.ts'
import { DeletedModels, FineTuning, type FineTuneHyperparameter, type FineTuner } from '../../contracts/fine-tuning.ts'
import { PURPOSE, datasetRoutes, purposeHooks, reachableDataset } from './dataset-routes.ts'
import { datasetRepository, type DatasetRepository } from './datasets.ts'
import { deployments, type Deployment, type Deployments } from './deployments.ts'
import type { EvaluationSettings } from './evaluate.ts'
import { deleteModelRoute, deletedModelSet, deletedModelsStage, type DeletedModelSet } from './model-deletion.ts'
import { jobRepository, type Hyperparameters, type JobRecord, type JobRepository, type JobStatus } from './jobs.ts'
import {
  CHECKPOINT_SCHEMA, DEPLOYMENT_SCHEMA, EVENT_SCHEMA, JOB_SCHEMA, REMOVED_DEPLOYMENT_SCHEMA, deploymentView, managedJob, openAICheckpoint, openAIEvent, openAIJob,
} from './views.ts'
import { TOPIC, queueStep, trainingWorker, type StepMessage, type WorkerSettings } from './worker.ts'

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))
const PERMISSION = 'manage_training'

interface TrainingConfig extends WorkerSettings, EvaluationSettings {
  eval_route_wait_ms: number
  default_epochs: number
  max_example_tokens: number
  prefetch: number
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    default_epochs: { type: 'integer', minimum: 1, maximum: 50, default: 3, description: 'Epochs a cost estimate assumes when the job does not say.' },
    max_example_tokens: { type: 'integer', minimum: 1, default: 65_536, description: 'The longest example when the base model\'s context window is not in the catalog.' },
    poll_min_ms: { type: 'integer', minimum: 10, default: 5000, description: 'First wait between polls of a provider\'s job (again after each status change).' },
    poll_max_ms: { type: 'integer', minimum: 10, default: 120_000, description: 'Longest wait between polls (the wait doubles while nothing changes).' },
    lease_ms: { type: 'integer', minimum: 100, default: 60_000, description: 'How long a worker holds a job for one step; another worker may take it after.' },
    sweep_ms: { type: 'integer', minimum: 100, default: 60_000, description: 'How often a worker looks for jobs whose queued step was lost (a restart of the in-process queue).' },
    prefetch: { type: 'integer', minimum: 1, default: 4, description: 'Job steps one worker runs at once.' },
    start_attempts: { type: 'integer', minimum: 1, maximum: 100, default: 5, description: 'Tries to start a job at its provider that may crash (an outage) before the job ends failed; a refusal (a 400: too few examples) fails it at once.' },
    eval_examples: { type: 'integer', minimum: 0, maximum: 1000, default: 20, description: 'Held-out examples (the validation file, else the first of the training file) the fine-tuned model answers through the gateway after training, scored by exact match and token F1; 0 records the provider\'s losses only.' },
    eval_max_tokens: { type: 'integer', minimum: 1, default: 512, description: 'The longest answer an evaluation call asks for.' },
    eval_concurrency: { type: 'integer', minimum: 1, maximum: 32, default: 4, description: 'Evaluation calls in flight at once per job.' },
    eval_route_wait_ms: { type: 'integer', minimum: 100, default: 15_000, description: 'How long the evaluation waits for the model\'s temporary route to be served before it gives up.' },
  },
}

/** This folder's own: the service's parts, for surface.fine-tuning. */
interface Training {
  jobs: JobRepository
  datasets: DatasetRepository
  files: Files
  queue: Queue
  config: TrainingConfig
  /** The named provider's fine-tuner, when it is configured and offers one. */
  fineTunerOf: (name: string) => FineTuner | undefined
  logger: { warn(obj: object, msg: string): void }
  deployed: Deployments
  /** Models deleted through DELETE /v1/models/{model}. */
  deleted: DeletedModelSet
  /** The current config's flags (read per request: a reload may flip one). */
  features: () => Readonly<Record<string, boolean>>
  rebuild: (reason: string) => Promise<void>
  /** Deploys and removals go to the audit trail (service.audit), when the gateway keeps one. */
  audit: Audit
}
const TrainingParts = token<Training>('TrainingParts')

const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } }

async function reachableJob(jobs: JobRepository, caller: Caller, id: string): Promise<JobRecord> {
  const job = await jobs.get(id)
  // Someone else's job is no job: a 403 would confirm the id exists.
  if (!job || !caller.reaches(job)) throw notFound(`No such fine-tuning job: ${id}`, 'job_not_found', 'id')
  return job
}

/**
 * Pause a running job or resume a paused one on its provider, then here: `paused`, or `queued`
 * until the worker's next poll reads the provider's status (as OpenAI answers a resume).
 */
async function pauseOrResume(t: Training, req: Parameters<Audit>[0], id: string, action: 'pause' | 'resume'): Promise<JobRecord> {
  const job = await reachableJob(t.jobs, req.caller, id)
  const from: readonly JobStatus[] = action === 'pause' ? ['queued', 'running'] : ['paused']
  if (!from.includes(job.status) || !job.providerJobId) {
    throw action === 'pause'
      ? conflict(`Only a job that is training can be paused; this one is ${job.providerJobId ? job.status : 'not started on its provider yet'}.`, 'job_not_running', 'id')
      : conflict(`Only a paused job can be resumed; this one is ${job.status}.`, 'job_not_paused', 'id')
  }
  const tuner = t.fineTunerOf(job.provider)
  const move = tuner?.[action]
  if (!tuner || !move) throw badRequest(`The provider '${job.provider}' cannot ${action} a fine-tuning job.`, 'id', `${action}_unsupported`)
  try {
    await move.call(tuner, job.providerJobId)
  } catch (err) {
    const status = (err as { status?: unknown }).status
    // A refusal (the job moved on meanwhile) is a conflict; no answer at all, the provider failing.
    throw new GatewayError(`The provider '${job.provider}' did not ${action} the job: ${(err as Error).message}`, { status: typeof status === 'number' && status < 500 ? 409 : 502, code: `${action}_failed`, param: 'id' })
  }
  const moved = await t.jobs.transition(job.id, from, action === 'pause' ? 'paused' : 'queued')
  if (!moved) throw conflict(`The job has ${(await t.jobs.get(job.id))?.status ?? 'gone'} meanwhile.`, 'job_finished', 'id')
  await t.jobs.addEvent(job.id, { level: 'info', message: action === 'pause' ? 'The job was paused.' : 'The job was resumed.' })
  await t.audit(req, jobEntry(`training_job.${action}`, moved, { previous_status: job.status }))
  return moved
}

async function trainingFile(files: Files, caller: Caller, id: string, param: string): Promise<StoredFile> {
  const file = await files.get(id)
  if (!file || !caller.reaches(file)) throw notFound(`No such file: ${id}`, 'file_not_found', param)
  if (file.purpose !== PURPOSE) throw badRequest(`The file ${id} has purpose '${file.purpose}'; a training file needs purpose '${PURPOSE}'.`, param, 'invalid_file_purpose')
  return file
}

/**
 * Which provider trains `model`: a target of the route that answers it for the caller (the route
 * table with the caller's department and key rules applied, as for a chat), the one `provider`
 * names, else the first. A model the caller may not use is not trained, provider named or not:
 * naming one must not step around the model rules (and the spending) every other call keeps to.
 */
function trainerOf(gateway: GatewayCalls, model: string, provider: string | undefined): { provider: string; model: string } {
  const route = gateway.routes(model)
  if (!route) throw badRequest(`No route answers the model '${model}' for you.`, 'model', 'model_not_found')
  const target = provider === undefined ? route.targets[0] : route.targets.find((t) => t.provider === provider)
  if (!target) {
    const providers = [...new Set(route.targets.map((t) => t.provider))].join(', ')
    throw badRequest(`The route answering '${model}' has no target on the provider '${provider}' (its providers: ${providers}).`, 'provider', 'provider_not_routed')
  }
  return { provider: target.provider, model: target.model ?? model }
}

/** OpenAI's bounds on each hyperparameter (its API reference): a value outside them is refused here, not by the provider later. */
const HYPERPARAMETER_MAX: Readonly<Record<keyof Hyperparameters, number>> = { n_epochs: 50, batch_size: 256, learning_rate_multiplier: Infinity }

function hyperparametersOf(body: Record<string, unknown>): Hyperparameters {
  const method = body.method as { supervised?: { hyperparameters?: Record<string, unknown> } } | undefined
  const inMethod = method?.supervised?.hyperparameters !== undefined
  const raw = (method?.supervised?.hyperparameters ?? body.hyperparameters ?? {}) as Record<string, unknown>
  const out: Hyperparameters = {}
  for (const key of ['n_epochs', 'batch_size', 'learning_rate_multiplier'] as const) {
    const v = raw[key]
    if (v === undefined || v === 'auto') continue
    const whole = key !== 'learning_rate_multiplier'
    const max = HYPERPARAMETER_MAX[key]
    if (typeof v !== 'number' || !(v > 0) || v > max || (whole && !Number.isInteger(v))) {
      const param = `${inMethod ? 'method.supervised.' : ''}hyperparameters.${key}`
      throw badRequest(`\`${param}\` must be 'auto' or a positive ${whole ? `whole number up to ${max}` : 'number'}.`, param, 'invalid_hyperparameter')
    }
    out[key] = v
  }
  return out
}

/** A hyperparameter the provider cannot set is a 400 naming it, never silently dropped. */
function refuseUnsupported(tuner: Pick<FineTuner, 'hyperparameters'> | undefined, provider: string, hyperparameters: Hyperparameters): void {
  if (!tuner?.hyperparameters) return
  for (const key of Object.keys(hyperparameters) as FineTuneHyperparameter[]) {
    if (!tuner.hyperparameters.includes(key)) throw badRequest(`The provider '${provider}' cannot set \`${key}\` for fine-tuning (it sets: ${tuner.hyperparameters.join(', ')}); leave it out or 'auto'.`, `hyperparameters.${key}`, 'unsupported_hyperparameter')
  }
}

/** OpenAI's methods other than supervised and its integrations (W&B) are not run here: refused, not ignored. */
function refuseUnrun(body: Record<string, unknown>): void {
  const method = body.method as { type?: unknown } | null | undefined
  if (method && method.type === undefined) throw badRequest('`method.type` is required: `supervised` (the method this gateway runs).', 'method.type', 'missing_required_parameter')
  if (method && method.type !== 'supervised') throw badRequest(`Only the \`supervised\` method is run by this gateway, not ${JSON.stringify(method.type)}.`, 'method.type', 'unsupported_method')
  if (Array.isArray(body.integrations) && body.integrations.length > 0) throw badRequest('Integrations (e.g. Weights and Biases) are not supported; leave `integrations` out.', 'integrations', 'unsupported_integration')
}

/** A job's training and validation files: from `dataset` (management API) or named as files. */
async function filesOfJob(t: Training, caller: Caller, b: Record<string, unknown>): Promise<{ training: StoredFile; validation?: StoredFile }> {
  let trainingId = b.training_file as string | undefined
  let validationId = typeof b.validation_file === 'string' ? b.validation_file : undefined
  if (typeof b.dataset === 'string') {
    const d = await reachableDataset(t.datasets, caller, b.dataset, 'dataset')
    trainingId = d.fileId
    validationId ??= d.validationFileId ?? undefined
  }
  if (!trainingId) throw badRequest('Name the `training_file` (or, on /api/v1/training/jobs, a `dataset`).', 'training_file', 'missing_training_file')
  const training = await trainingFile(t.files, caller, trainingId, 'training_file')
  const validation = validationId ? await trainingFile(t.files, caller, validationId, 'validation_file') : undefined
  return { training, ...(validation ? { validation } : {}) }
}

/** OpenAI's hyperparameters: a misspelt one is a 400 naming it, not trained with the provider's default. */
const HYPER = {
  type: ['object', 'null'], additionalProperties: false,
  properties: { n_epochs: { type: ['integer', 'string'] }, batch_size: { type: ['integer', 'string'] }, learning_rate_multiplier: { type: ['number', 'string'] } },
}
/** OpenAI's methods: `supervised` is run (its hyperparameters as HYPER); `dpo` and `reinforcement` are refused by refuseUnrun. */
const METHOD = {
  type: ['object', 'null'], additionalProperties: false,
  properties: { type: { type: 'string' }, supervised: { type: 'object', additionalProperties: false, properties: { hyperparameters: HYPER } }, dpo: { type: 'object' }, reinforcement: { type: 'object' } },
}
const CREATE_PROPERTIES = {
    model: { type: 'string', minLength: 1, maxLength: 200 },
    training_file: { type: 'string', minLength: 1 },
    validation_file: { type: ['string', 'null'] },
    provider: { type: 'string', minLength: 1, description: 'Which of the providers of the route answering `model` trains (default: its first target\'s).' },
    hyperparameters: HYPER,
    method: METHOD,
    suffix: { type: ['string', 'null'], minLength: 1, maxLength: 64 },
    seed: { type: ['integer', 'null'], minimum: 0, maximum: 2147483647 },
    integrations: { type: ['array', 'null'] },
    metadata: METADATA_SCHEMA,
}
const OPENAI_CREATE_BODY = { type: 'object', additionalProperties: false, required: ['model', 'training_file'], properties: CREATE_PROPERTIES }
const MANAGED_CREATE_BODY = {
  type: 'object',
  additionalProperties: false,
  required: ['model'],
  properties: { ...CREATE_PROPERTIES, dataset: { type: 'string', minLength: 1, description: 'A dataset id: its training file, and its validation file unless `validation_file` names one.' } },
}

/** A fine-tuning job as the audit trail names it: where it trains and on which files (by id). */
const jobEntry = (action: string, job: JobRecord, more: JsonObject = {}) => ({
  action, target: { type: 'training_job', id: job.id }, department: job.department,
  details: { provider: job.provider, model: job.model, training_file: job.trainingFile, validation_file: job.validationFile, suffix: job.suffix, status: job.status, ...more },
})

function jobRoutes(t: Training, base: string, openAI: boolean): RouteSpec[] {
  const view = openAI ? openAIJob : managedJob
  // The management API's answers are documented here; /v1's are OpenAI's (its SDK's types).
  const answers = (schema: JsonSchema) => (openAI ? {} : { response: schema })
  return [
    {
      method: 'POST', path: base, summary: 'Create a fine-tuning job (queued for a worker).', permission: PERMISSION, body: openAI ? OPENAI_CREATE_BODY : MANAGED_CREATE_BODY, status: openAI ? 200 : 201, ...answers(JOB_SCHEMA),
      async handle(req) {
        const { caller, body, gateway } = req
        const b = body as Record<string, unknown>
        refuseUnrun(b)
        const { training, validation } = await filesOfJob(t, caller, b)
        const trainer = trainerOf(gateway, b.model as string, b.provider as string | undefined)
        const hyperparameters = hyperparametersOf(b)
        refuseUnsupported(t.fineTunerOf(trainer.provider), trainer.provider, hyperparameters)
        const job = await t.jobs.create({
          ...ownerOf(caller), provider: trainer.provider, model: trainer.model, trainingFile: training.id, validationFile: validation?.id ?? null,
          hyperparameters, suffix: typeof b.suffix === 'string' ? b.suffix : null,
          ownerRole: caller.role.name, ownerKey: caller.principal.keyId ?? null,
          seed: typeof b.seed === 'number' ? b.seed : null, metadata: (b.metadata as Record<string, string> | null | undefined) ?? null,
        })
        await t.jobs.addEvent(job.id, { level: 'info', message: `Created fine-tuning job ${job.id} on ${trainer.provider} (${trainer.model}).` })
        await queueStep(t.queue, job)
        await t.audit(req, jobEntry('training_job.create', job))
        return view(job)
      },
    },
    {
      method: 'GET', path: base, summary: 'List fine-tuning jobs, newest first.', permission: PERMISSION, ...answers(listOf(JOB_SCHEMA)),
      query: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 }, after: { type: 'string' }, status: { type: 'string' } } },
      async handle({ caller, query }) {
        const q = query as { limit: number; after?: string; status?: string }
        if (q.after !== undefined) {
          const cursor = await t.jobs.get(q.after)
          if (!cursor || !caller.reaches(cursor)) throw unknownCursor('fine-tuning job', q.after)
        }
        const found = await t.jobs.list({ ...ownerFilter(caller), status: q.status, after: q.after, limit: q.limit + 1, metadata: metadataFilter(query) })
        const page = found.slice(0, q.limit).map(view)
        return openAI ? { object: 'list', data: page, has_more: found.length > q.limit } : reply(page, { meta: { has_more: found.length > q.limit } })
      },
    },
    {
      method: 'GET', path: `${base}/:id`, summary: 'One fine-tuning job.', permission: PERMISSION, params: ID_PARAMS, ...answers(JOB_SCHEMA),
      handle: async ({ caller, params }) => view(await reachableJob(t.jobs, caller, (params as { id: string }).id)),
    },
    {
      method: 'POST', path: `${base}/:id/cancel`, summary: 'Cancel a job that has not ended.', permission: PERMISSION, params: ID_PARAMS, ...answers(JOB_SCHEMA),
      body: EMPTY_BODY_SCHEMA,
      async handle(req) {
        const { caller, params, requestId } = req
        const job = await reachableJob(t.jobs, caller, (params as { id: string }).id)
        const cancelled = await t.jobs.cancel(job.id)
        if (!cancelled) throw conflict(`The job has already ${job.status}.`, 'job_finished', 'id')
        await t.audit(req, jobEntry('training_job.cancel', cancelled, { previous_status: job.status }))
        await t.jobs.addEvent(job.id, { level: 'info', message: 'The job was cancelled.' })
        if (cancelled.providerJobId) {
          // The provider's job stops too; the worker stops polling a cancelled job.
          const tuner = t.fineTunerOf(cancelled.provider)
          await tuner?.cancel(cancelled.providerJobId).catch((err: Error) => t.logger.warn({ job: job.id, requestId, err: err.message }, 'provider cancel failed'))
        }
        return view(cancelled)
      },
    },
    ...(['pause', 'resume'] as const).map((action): RouteSpec => ({
      method: 'POST', path: `${base}/:id/${action}`, permission: PERMISSION, params: ID_PARAMS, body: EMPTY_BODY_SCHEMA, ...answers(JOB_SCHEMA),
      summary: action === 'pause' ? 'Pause a running job where its provider can (it keeps its progress).' : 'Go on with a paused job.',
      handle: async (req) => view(await pauseOrResume(t, req, (req.params as { id: string }).id, action)),
    })),
    {
      method: 'GET', path: `${base}/:id/checkpoints`, summary: 'The models the provider saved during training (newest step first), once the job trained; one deleted (DELETE /v1/models/{model}) is left out.', permission: PERMISSION, params: ID_PARAMS, ...answers(listOf(CHECKPOINT_SCHEMA)),
      query: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 100, default: 10 }, after: { type: 'string' } } },
      async handle({ caller, params, query }) {
        const job = await reachableJob(t.jobs, caller, (params as { id: string }).id)
        const q = query as { limit: number; after?: string }
        const sorted = [...job.checkpoints].sort((a, b) => b.step - a.step)
        // OpenAI lists the checkpoints that are ready to use: a deleted one is not (it is no longer
        // listed, retrieved or routed either). A cursor naming it still pages on from its place.
        const from = q.after === undefined ? 0 : sorted.findIndex((c) => c.id === q.after) + 1
        if (q.after !== undefined && from === 0) throw unknownCursor('checkpoint', q.after)
        const deleted = await t.jobs.deletedCheckpoints(job.id)
        const rest = sorted.slice(from).filter((c) => !deleted.has(c.model))
        const page = rest.slice(0, q.limit).map((c) => openAICheckpoint(job, c))
        const hasMore = q.limit < rest.length
        return openAI ? { object: 'list', data: page, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null, has_more: hasMore } : reply(page, { meta: { has_more: hasMore } })
      },
    },
    {
      method: 'GET', path: `${base}/:id/events`, summary: 'The job\'s events (status changes, provider messages, metrics), newest first.', permission: PERMISSION, params: ID_PARAMS, ...answers(listOf(EVENT_SCHEMA)),
      query: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 20 }, after: { type: 'string' } } },
      async handle({ caller, params, query }) {
        const job = await reachableJob(t.jobs, caller, (params as { id: string }).id)
        const q = query as { limit: number; after?: string }
        const found = await t.jobs.events(job.id, q.limit + 1, q.after)
        const page = found.slice(0, q.limit).map(openAIEvent)
        return openAI ? { object: 'list', data: page, has_more: found.length > q.limit } : reply(page, { meta: { has_more: found.length > q.limit } })
      },
    },
  ]
}

const ROUTE_NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$', description: 'The model name clients will send.' }

/** Deploying changes what every caller may route to: admins only, and only with `features.custom_models`. */
function requireDeployer(t: Training, caller: Caller): void {
  if (t.features().custom_models !== true) throw new GatewayError('Deploying fine-tuned models is off: set `features: { custom_models: true }` in gateway.yaml.', { status: 403, code: 'feature_disabled', param: 'custom_models' })
  if (caller.role.name !== 'admin') throw forbidden('Only an admin may deploy or remove a model.', 'admin_only')
}

function deployRoutes(t: Training): RouteSpec[] {
  return [
    {
      method: 'POST', path: '/jobs/:id/deploy', summary: 'Make a succeeded job\'s model routable under a route name (no gateway.yaml edit; every replica picks it up).', permission: PERMISSION,
      params: ID_PARAMS, body: { type: 'object', additionalProperties: false, required: ['route'], properties: { route: ROUTE_NAME } }, status: 201, response: DEPLOYMENT_SCHEMA,
      async handle(req) {
        const { caller, params, body, gateway } = req
        requireDeployer(t, caller)
        const job = await reachableJob(t.jobs, caller, (params as { id: string }).id)
        if (job.status !== 'succeeded' || !job.fineTunedModel) throw conflict(`The job is ${job.status}: only a succeeded job has a model to deploy.`, 'job_not_succeeded', 'id')
        if (job.modelDeletedAt) throw conflict(`The job's model ${job.fineTunedModel} was deleted.`, 'model_deleted', 'id')
        const route = (body as { route: string }).route
        if (gateway.routes(route) && !t.deployed.list().some((d) => d.route === route)) throw conflict(`A route already answers '${route}'.`, 'route_exists', 'route')
        let added: Deployment
        try {
          added = await t.deployed.add({ route, jobId: job.id, provider: job.provider, model: job.fineTunedModel, createdBy: caller.principal.userId })
        } catch (err) {
          if ((err as { exists?: boolean }).exists) throw conflict(`'${route}' is already deployed.`, 'route_exists', 'route')
          throw err
        }
        await t.jobs.addEvent(job.id, { level: 'info', message: `Deployed as route ${route}.` })
        // Answered once this replica routes it (others follow within sweep_ms).
        await t.rebuild(`deployed ${route}`)
        await t.audit(req, { action: 'model.deploy', target: { type: 'route', id: route }, details: { job_id: job.id, provider: job.provider, model: job.fineTunedModel } })
        return deploymentView(added)
      },
    },
    {
      method: 'GET', path: '/deployments', summary: 'Deployed fine-tuned models.', permission: PERMISSION, response: listOf(DEPLOYMENT_SCHEMA),
      handle: () => t.deployed.list().map(deploymentView),
    },
    {
      method: 'DELETE', path: '/deployments/:route', summary: 'Stop routing a deployed model.', permission: PERMISSION, response: REMOVED_DEPLOYMENT_SCHEMA,
      params: { type: 'object', required: ['route'], properties: { route: { type: 'string', minLength: 1 } } },
      async handle(req) {
        const { caller, params } = req
        requireDeployer(t, caller)
        const route = (params as { route: string }).route
        const was = t.deployed.list().find((d) => d.route === route)
        if (!(await t.deployed.remove(route))) throw notFound(`No deployed route '${route}'.`, 'deployment_not_found', 'route')
        await t.rebuild(`removed ${route}`)
        await t.audit(req, { action: 'model.undeploy', target: { type: 'route', id: route }, details: { job_id: was?.jobId ?? null, provider: was?.provider ?? null, model: was?.model ?? null } })
        return { route, deleted: true }
      },
    },
  ]
}

const service = definePlugin<TrainingConfig, Service>({
  id: 'service.training',
  kind: 'service',
  description: 'Fine-tuning datasets (checked JSONL, stats, cost estimate) and jobs run by queue workers through providers\' FineTuning capability.',
  configSchema,
  needs: [Store, Queue, Files, Tokenizer],
  uses: [Identity, AuditLog],
  provides: [TrainingParts, RouteOverlay, DeletedModels],
  async setup(ctx, config) {
    const store = ctx.get(Store)
    const queue = ctx.get(Queue)
    const files = ctx.get(Files)
    const tokenizer = ctx.get(Tokenizer)
    await store.migrate({ owner: 'training', dir: MIGRATIONS })
    const jobs = jobRepository(store.sql)
    const datasets = datasetRepository(store.sql)
    const deployed = deployments(store.sql)
    const deleted = deletedModelSet(jobs)
    await Promise.all([deployed.refresh(), deleted.refresh()])
    ctx.provide(RouteOverlay, deployed)
    ctx.provide(DeletedModels, deleted)
    const parts: Training = { jobs, datasets, files, queue, config, fineTunerOf: (name) => capabilityOf(ctx.provider(name), FineTuning), logger: ctx.logger, deployed, deleted, features: () => ctx.features, rebuild: (reason) => ctx.rebuild(reason), audit: auditTo(ctx.tryGet(AuditLog), ctx.logger) }
    ctx.provide(TrainingParts, parts)
    // Another replica's deploy, removal or model deletion: seen here within sweep_ms, then this process rebuilds too.
    const watcher = setInterval(() => {
      deployed.refresh().then((changed) => { if (changed) void ctx.rebuild('deployments changed') }, (err: Error) => ctx.logger.warn({ err: err.message }, 'reading deployments failed'))
      deleted.refresh().catch((err: Error) => ctx.logger.warn({ err: err.message }, 'reading deleted models failed'))
    }, config.sweep_ms)
    watcher.unref()
    // Every fine-tune upload, on any surface, is checked before it is stored.
    const datasetDeps = { files, datasets, tokenizer, config, permission: PERMISSION, audit: parts.audit }
    const hooks = purposeHooks(datasetDeps)
    const uncheck = files.checkPurpose(PURPOSE, hooks.check, hooks.stored)
    let stop: (() => Promise<void>) | undefined
    let sweeper: NodeJS.Timeout | undefined
    if (ctx.runsJobs) {
      const identity = ctx.tryGet(Identity)
      const evaluator = {
        jobs, files, overlay: deployed, callsAs: (p: Principal) => ctx.callsAs(p), rebuild: (reason: string) => ctx.rebuild(reason), settings: config,
        currentPrincipal: async (p: Principal) => (identity ? currentPrincipal(identity, p) : p),
      }
      const worker = trainingWorker({ ctx, jobs, files, queue, settings: config, logger: ctx.logger, evaluator })
      // A step evaluates on a route it reads through callsAs (calls.routes reads the serving config): a step of a job resumed at start (the sweep below) waits for it.
      stop = await queue.consume<StepMessage>(TOPIC, (msg) => ctx.serving.then(() => worker.step(msg.body, msg.attempts)), { prefetch: config.prefetch })
      const idle = config.poll_max_ms + config.lease_ms
      const sweep = () => worker.sweep(idle).catch((err: Error) => ctx.logger.warn({ err: err.message }, 'training sweep failed'))
      // At start, any job not stepped lately lost its step with the process that held it.
      void worker.sweep(0).catch((err: Error) => ctx.logger.warn({ err: err.message }, 'training sweep failed'))
      sweeper = setInterval(sweep, config.sweep_ms)
      sweeper.unref()
    }
    return {
      routes: [...datasetRoutes(datasetDeps), ...jobRoutes(parts, '/jobs', false), ...deployRoutes(parts)],
      async dispose() {
        uncheck()
        clearInterval(sweeper)
        clearInterval(watcher)
        await stop?.()
      },
    }
  },
})

const surface = definePlugin<Record<string, never>, Surface>({
  id: 'surface.fine-tuning',
  kind: 'surface',
  enabledByDefault: true,
  description: 'OpenAI\'s /v1/fine_tuning/jobs, and DELETE /v1/models/{model} for the models they trained, when service.training is configured.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  uses: [TrainingParts],
  setup(ctx) {
    const parts = ctx.tryGet(TrainingParts)
    return { endpoints: parts ? [...jobRoutes(parts, '/v1/fine_tuning/jobs', true), deleteModelRoute(parts, PERMISSION)] : [] }
  },
})

export default [service, surface, deletedModelsStage]
