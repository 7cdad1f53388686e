/**
 * Mistral fine-tuning on its REST wire (https://docs.mistral.ai/api/#tag/fine-tuning): upload the
 * JSONL files (`POST /v1/files`, purpose `fine-tune`), create a job with `auto_start`
 * (`POST /v1/fine_tuning/jobs`), read it (`GET /v1/fine_tuning/jobs/{id}`: its status, events and
 * checkpoints with train/valid loss per step), cancel (`POST .../cancel`); delete a fine-tuned
 * model (`DELETE /v1/models/{model_id}`). Plain fetch: the job
 * endpoints are few, and the SDK's strict response models would refuse fields it does not know.
 */
import { badRequest, upstreamError } from '../../../plugin-api/index.ts'
import type { FineTuneEvent, FineTuneHyperparameter, FineTuneState, FineTuner } from '../../contracts/fine-tuning.ts'
import { boundedUpstreamFetch } from '../kit/answer-limit.ts'
import { transportError } from '../kit/wire-client.ts'

const STATES: Readonly<Record<string, FineTuneState>> = {
  QUEUED: 'queued', VALIDATING: 'queued', VALIDATED: 'queued', STARTED: 'running', RUNNING: 'running', CANCELLATION_REQUESTED: 'running',
  SUCCESS: 'succeeded', FAILED: 'failed', FAILED_VALIDATION: 'failed', CANCELLED: 'cancelled',
}
/**
 * What Mistral's job takes (`hyperparameters`: training_steps, learning_rate, weight_decay,
 * warmup_fraction, epochs, seq_len, fim_ratio): no batch size, so a job asking for one is refused.
 */
const HYPERPARAMETERS: readonly FineTuneHyperparameter[] = ['n_epochs', 'learning_rate_multiplier']
/** Mistral's default learning rate: OpenAI-style multipliers scale it. */
const BASE_LEARNING_RATE = 1e-4

interface MistralJob {
  id: string
  status: string
  fine_tuned_model?: string | null
  trained_tokens?: number | null
  events?: { name: string; data?: Record<string, unknown> | null; created_at: number }[]
  checkpoints?: { metrics?: Record<string, unknown>; step_number: number; created_at: number }[]
}

export function mistralFineTuner(options: { baseUrl: string; apiKey: string; headers?: Record<string, string>; maxAnswerMb?: number }): FineTuner {
  const fetchBounded = boundedUpstreamFetch(options.maxAnswerMb)
  const base = options.baseUrl.replace(/\/+$/, '')
  const auth = { ...options.headers, authorization: `Bearer ${options.apiKey}` }

  async function send<T>(path: string, init: RequestInit, signal?: AbortSignal): Promise<T> {
    let res: Response
    let text: string
    try {
      res = await fetchBounded(`${base}${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string> | undefined) }, signal })
      text = await res.text()
    } catch (err) {
      throw transportError(err, 'mistral') ?? err
    }
    if (!res.ok) {
      let message = text.slice(0, 500)
      try { message = (JSON.parse(text) as { message?: string; detail?: unknown }).message ?? JSON.stringify((JSON.parse(text) as { detail?: unknown }).detail) ?? message } catch { /* not JSON */ }
      throw upstreamError(res.status, `fine-tuning: ${message}`, { provider: "mistral" })
    }
    return JSON.parse(text) as T
  }

  const upload = async (file: { filename: string; data: Buffer }, signal?: AbortSignal): Promise<string> => {
    const form = new FormData()
    form.set('purpose', 'fine-tune')
    form.set('file', new Blob([new Uint8Array(file.data)], { type: 'application/jsonl' }), file.filename)
    return (await send<{ id: string }>('/v1/files', { method: 'POST', body: form }, signal)).id
  }

  return {
    hyperparameters: HYPERPARAMETERS,
    async start(request, signal) {
      // The training service refuses it when the job is created; a direct caller is refused here.
      if (request.hyperparameters.batch_size !== undefined) throw badRequest('Mistral fine-tuning has no batch size; leave `batch_size` out or \'auto\'.', 'hyperparameters.batch_size', 'unsupported_hyperparameter')
      const training = await upload(request.training, signal)
      const validation = request.validation ? await upload(request.validation, signal) : undefined
      const { n_epochs, learning_rate_multiplier } = request.hyperparameters
      const job = await send<MistralJob>('/v1/fine_tuning/jobs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: request.model,
          training_files: [{ file_id: training, weight: 1 }],
          ...(validation ? { validation_files: [validation] } : {}),
          hyperparameters: { learning_rate: BASE_LEARNING_RATE * (learning_rate_multiplier ?? 1), ...(n_epochs ? { epochs: n_epochs } : {}) },
          ...(request.suffix ? { suffix: request.suffix } : {}),
          auto_start: true,
        }),
      }, signal)
      return job.id
    },

    async progress(jobId, signal) {
      const job = await send<MistralJob>(`/v1/fine_tuning/jobs/${encodeURIComponent(jobId)}`, { method: 'GET' }, signal)
      const events: FineTuneEvent[] = [
        ...(job.events ?? []).map((e) => ({
          id: `event-${e.created_at}-${e.name}`,
          createdAt: e.created_at,
          level: /fail|error/i.test(e.name) ? ('error' as const) : ('info' as const),
          message: `${e.name}${e.data && Object.keys(e.data).length ? ` ${JSON.stringify(e.data)}` : ''}`,
        })),
        ...(job.checkpoints ?? []).map((c) => ({
          id: `checkpoint-${c.step_number}`,
          createdAt: c.created_at,
          level: 'info' as const,
          message: `Step ${c.step_number}`,
          metrics: { step: c.step_number, ...numbers(c.metrics ?? {}) },
        })),
      ]
      const state = STATES[job.status] ?? 'running'
      return {
        state,
        fineTunedModel: job.fine_tuned_model ?? null,
        error: state === 'failed' ? `Mistral job ${job.status}` : null,
        trainedTokens: job.trained_tokens ?? null,
        events,
      }
    },

    async cancel(jobId, signal) {
      await send(`/v1/fine_tuning/jobs/${encodeURIComponent(jobId)}/cancel`, { method: 'POST' }, signal)
    },

    async deleteModel(model, signal) {
      try {
        await send(`/v1/models/${encodeURIComponent(model)}`, { method: 'DELETE' }, signal)
      } catch (err) {
        // Already gone there (a delete retried after its answer was lost): what was asked is true.
        if ((err as { status?: unknown }).status !== 404) throw err
      }
    },
  }
}

function numbers(data: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, value] of Object.entries(data)) if (typeof value === 'number' && Number.isFinite(value)) out[key] = value
  return out
}
