/**
 * Deleting a fine-tuned model the gateway trained, or one of its job's checkpoint models
 * (`ft:...:ckpt-step-N`, callable like it): OpenAI's `DELETE /v1/models/{model}`
 * (`client.models.delete`), on surface.fine-tuning. Only the model of a job the caller may manage
 * (its owner, or within their role's data scope, as for the job itself) is deleted: at its
 * provider where the provider can (`FineTuner.deleteModel`), then here. From then on the model is
 * in the set offered as `DeletedModels`: /v1/models no longer lists or retrieves it, and
 * stage.deleted-models refuses calls to it, whatever route takes its name (a glob such as `ft:*`);
 * its deployments are removed. The set is read from training_jobs at start and with the
 * deployments every `sweep_ms`, so other replicas follow.
 */
import {
  GatewayError, conflict, definePlugin, forbidden, notFound,
  type Caller, type GatewayCalls, type RouteSpec, type Stage,
} from '../../../plugin-api/index.ts'
import { DeletedModels, type FineTuneCheckpoint, type FineTuner } from '../../contracts/fine-tuning.ts'
import type { Audit } from '../../contracts/audit.ts'
import type { Deployments } from './deployments.ts'
import { TERMINAL, type JobRecord, type JobRepository } from './jobs.ts'

/** The deleted models, in memory: read on every model call. */
export interface DeletedModelSet extends DeletedModels {
  add(model: string): void
  /** Re-read them from the jobs (another replica's deletes). */
  refresh(): Promise<void>
}

export function deletedModelSet(jobs: JobRepository): DeletedModelSet {
  let models = new Set<string>()
  return {
    has: (model) => models.has(model),
    add: (model) => void models.add(model),
    async refresh() { models = new Set(await jobs.deletedModels()) },
  }
}

export interface ModelDeletionParts {
  readonly jobs: JobRepository
  readonly deployed: Deployments
  readonly deleted: DeletedModelSet
  readonly fineTunerOf: (name: string) => FineTuner | undefined
  readonly rebuild: (reason: string) => Promise<void>
  readonly audit: Audit
}

/** OpenAI's answer for a model that is not there, or not the caller's to see. */
const noSuchModel = (model: string) => notFound(`The model '${model}' does not exist or you do not have access to it.`, 'model_not_found', 'model')

/** A model the caller may delete: a job's final model, or one of its checkpoints (`ft:...:ckpt-step-N`). */
interface Deletable {
  readonly job: JobRecord
  readonly checkpoint: FineTuneCheckpoint | undefined
}

/** What the caller may delete as `model`: 404 for a name no job made (or one deleted, or out of the caller's reach and not routed for them), 403 for a model a route answers but no job here made, or one out of the caller's reach that a route answers for them. */
async function deletableModel(t: ModelDeletionParts, caller: Caller, gateway: GatewayCalls, model: string): Promise<Deletable> {
  const job = await t.jobs.byModel(model)
  const saved = job ? undefined : await t.jobs.byCheckpoint(model)
  const found = job ?? saved?.job
  if (!found) {
    // A base model or a route's name: there, but not the caller's to delete (OpenAI: 403 for a model the organization does not own).
    if (gateway.models().includes(model) || gateway.routes(model)) throw forbidden(`The model '${model}' was not fine-tuned through this gateway; only such models can be deleted.`, 'model_not_deletable')
    throw noSuchModel(model)
  }
  if (!caller.reaches(found)) {
    // Someone else's model is no model to the caller (a 403 would confirm the name), unless a route answers it for them anyway.
    if (!gateway.models().includes(model) && !gateway.routes(model)) throw noSuchModel(model)
    caller.requireReach(found, 'job')
  }
  if (job ? job.modelDeletedAt : saved!.deleted) throw noSuchModel(model)
  if (!TERMINAL.includes(found.status)) throw conflict(`The job ${found.id} that made '${model}' is ${found.status}; its model can be deleted once the job has ended.`, 'job_not_finished', 'model')
  return { job: found, checkpoint: job ? undefined : found.checkpoints.find((c) => c.model === model) }
}

export function deleteModelRoute(t: ModelDeletionParts, permission: string): RouteSpec {
  return {
    method: 'DELETE',
    path: '/v1/models/:model',
    summary: 'Delete a fine-tuned model a job here trained, or one of its checkpoints, at its provider too where it can: no longer listed or routed.',
    permission,
    params: { type: 'object', required: ['model'], properties: { model: { type: 'string', minLength: 1, maxLength: 256 } } },
    async handle(req) {
      const { caller, params, gateway } = req
      const model = (params as { model: string }).model
      const { job, checkpoint } = await deletableModel(t, caller, gateway, model)
      const tuner = t.fineTunerOf(job.provider)
      if (tuner?.deleteModel) {
        try {
          // Not the client's signal: once asked, the provider's answer is recorded even if the client left.
          await tuner.deleteModel(model)
        } catch (err) {
          // Nothing is recorded here, so the delete can be asked again.
          throw new GatewayError(`The provider '${job.provider}' did not delete the model: ${(err as Error).message}`, { status: 502, code: 'model_delete_failed', param: 'model' })
        }
      }
      const marked = checkpoint ? await t.jobs.markCheckpointDeleted(job.id, model) : await t.jobs.markModelDeleted(job.id)
      if (!marked) throw noSuchModel(model) // deleted meanwhile
      t.deleted.add(model)
      const what = checkpoint ? `The checkpoint model ${model} (step ${checkpoint.step})` : `The model ${model}`
      await t.jobs.addEvent(job.id, {
        level: 'info',
        message: tuner?.deleteModel
          ? `${what} was deleted, here and on ${job.provider}.`
          : `${what} was deleted here; the provider '${job.provider}' ${tuner ? 'cannot delete models and keeps it' : 'is not configured and was not asked'}.`,
      })
      // Deployments are of the job's final model: a checkpoint's deletion leaves them.
      const routes = checkpoint ? [] : await t.deployed.removeJob(job.id)
      if (routes.length) await t.rebuild(`deleted ${model} (deployed as ${routes.join(', ')})`)
      await t.audit(req, {
        action: 'model.delete', target: { type: 'model', id: model }, department: job.department,
        details: {
          job_id: job.id, provider: job.provider, deleted_at_provider: tuner?.deleteModel !== undefined, routes_removed: routes,
          ...(checkpoint ? { checkpoint: { id: checkpoint.id, step: checkpoint.step } } : {}),
        },
      })
      return { id: model, object: 'model', deleted: true }
    },
  }
}

/** stage.deleted-models: a call naming a deleted model is a 404, before limits count it or a provider is asked. */
export const deletedModelsStage = definePlugin<Record<string, never>, Stage>({
  id: 'stage.deleted-models',
  kind: 'stage',
  enabledByDefault: true,
  description: 'Refuses calls to a fine-tuned model deleted through DELETE /v1/models/{model}, whatever route takes its name.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  uses: [DeletedModels],
  setup(ctx) {
    const deleted = ctx.tryGet(DeletedModels)
    if (!deleted) return {}
    return {
      // Before limits (1000): a refused call takes nothing from the caller's buckets.
      priority: 2000,
      operations: ['chat', 'embeddings', 'native', 'media'],
      access(x) {
        if (deleted.has(x.requestedModel)) throw noSuchModel(x.requestedModel)
      },
    }
  },
})
