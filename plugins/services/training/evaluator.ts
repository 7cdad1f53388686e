/**
 * A job's evaluation step, after the provider's training succeeded and before the job does: the
 * fine-tuned model is routed for its owner alone (an `evaluation` route of the overlay, in this
 * process, for as long as the step runs), scored through the pipeline as the owner (so the calls
 * are limited, budgeted and accounted like theirs), and the provider's losses are written as
 * OpenAI's results CSV (a file of purpose `fine-tune-results`). A model that cannot be evaluated
 * still succeeds: the evaluation says why it was skipped or failed.
 */
import type { GatewayCalls, Principal } from '../../../plugin-api/index.ts'
import type { Files, StoredFile } from '../../contracts/files.ts'
import { withdrawal } from '../../contracts/principals.ts'
import type { Deployments } from './deployments.ts'
import { casesOf, generationEval, lastLosses, metricsCsv, type EvaluationSettings } from './evaluate.ts'
import type { Evaluation } from './evaluation.ts'
import type { JobRecord, JobRepository } from './jobs.ts'

export const RESULTS_PURPOSE = 'fine-tune-results'

export interface EvaluatorDeps {
  readonly jobs: JobRepository
  readonly files: Files
  readonly overlay: Pick<Deployments, 'addEvaluation' | 'removeEvaluation'>
  readonly callsAs: (principal: Principal) => GatewayCalls
  /** The job's owner as it stands now (contracts/principals.ts): undefined once its key is revoked or expired, or its user deleted. */
  readonly currentPrincipal: (principal: Principal) => Promise<Principal | undefined>
  readonly rebuild: (reason: string) => Promise<void>
  readonly settings: EvaluationSettings & { readonly eval_route_wait_ms: number }
}

export interface EvaluatedJob {
  readonly evaluation: Evaluation
  readonly resultFile: StoredFile
}

/** The job's owner as recorded: its key's (models, limits) or user's (role, department) current record is read through currentPrincipal. */
export const principalOf = (job: JobRecord): Principal | undefined =>
  job.userId && job.ownerRole ? { userId: job.userId, role: job.ownerRole, ...(job.department ? { department: job.department } : {}), ...(job.ownerKey ? { keyId: job.ownerKey } : {}), strategy: 'service.training' } : undefined

/** The route a job's model answers while it is evaluated. */
export const evaluationRoute = (job: Pick<JobRecord, 'id'>) => `evaluation:${job.id}`

async function routed(calls: GatewayCalls, route: string, waitMs: number): Promise<boolean> {
  const end = Date.now() + waitMs
  while (!calls.routes(route)) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 25))
  }
  return true
}

async function generation(deps: EvaluatorDeps, job: JobRecord): Promise<Evaluation> {
  const { settings } = deps
  if (settings.eval_examples === 0) return { status: 'skipped', reason: 'eval_examples is 0' }
  const recorded = principalOf(job)
  if (!recorded || !job.fineTunedModel) return { status: 'skipped', reason: 'the job records no owner to call the model as' }
  const principal = await deps.currentPrincipal(recorded)
  if (!principal) return { status: 'skipped', reason: withdrawal(recorded).reason }
  const source = job.validationFile ? 'validation_file' : 'training_sample'
  const data = await deps.files.content(job.validationFile ?? job.trainingFile)
  if (!data) return { status: 'skipped', reason: `the ${source === 'validation_file' ? 'validation' : 'training'} file is gone`, source }
  const cases = casesOf(data.toString('utf8'), settings.eval_examples)
  if (cases.length === 0) return { status: 'skipped', reason: 'no example ends with an assistant message that has text', source }
  const route = evaluationRoute(job)
  const calls = deps.callsAs(principal)
  deps.overlay.addEvaluation({ route, provider: job.provider, model: job.fineTunedModel, userId: job.userId })
  await deps.rebuild(`evaluating ${job.id}`)
  try {
    if (!(await routed(calls, route, settings.eval_route_wait_ms))) return { status: 'failed', reason: `the route ${route} did not become available to the job's owner`, source, route }
    const scored = await generationEval(calls, route, cases, settings)
    const { firstError, ...scores } = scored
    if (scored.examples === 0) return { status: 'failed', reason: `every call failed: ${firstError}`, source, route, ...scores }
    return { status: 'completed', source, route, ...scores }
  } finally {
    deps.overlay.removeEvaluation(route)
    // Awaited: when the job says it is done, its evaluation route is gone.
    await deps.rebuild(`evaluated ${job.id}`)
  }
}

/** Evaluate the job's model and store the results file (the caller records both on the job). */
export async function evaluateJob(deps: EvaluatorDeps, job: JobRecord): Promise<EvaluatedJob> {
  const points = (await deps.jobs.metrics(job.id))
  const evaluation = { ...lastLosses(points), ...(await generation(deps, job)) }
  const resultFile = await deps.files.put({
    filename: `${job.id}-results.csv`, purpose: RESULTS_PURPOSE, contentType: 'text/csv', data: Buffer.from(metricsCsv(points)),
    owner: { userId: job.userId, department: job.department },
  })
  return { evaluation, resultFile }
}

/** The event line summarising an evaluation. */
export function evaluationMessage(e: Evaluation): string {
  const losses = [e.train_loss != null ? `train loss ${e.train_loss}` : '', e.valid_loss != null ? `valid loss ${e.valid_loss}` : ''].filter(Boolean).join(', ')
  const scored = e.status === 'completed' ? `exact match ${e.exact_match}, similarity ${e.similarity} on ${e.examples} ${e.source === 'validation_file' ? 'validation' : 'training'} examples${e.errors ? ` (${e.errors} failed)` : ''}` : `generation eval ${e.status}: ${e.reason}`
  return `Evaluation: ${[scored, losses].filter(Boolean).join('; ')}.`
}
