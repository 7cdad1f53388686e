/**
 * OpenAI fine-tuning through the official SDK: upload the JSONL files (purpose `fine-tune`),
 * create a supervised job, read it and its events (metrics events carry step and losses) and the
 * hyperparameters and seed it resolved, cancel, pause and resume; delete a fine-tuned model.
 */
import type OpenAI from 'openai'
import type { FineTuneEvent, FineTuneRequest, FineTuneState, FineTuner } from '../../contracts/fine-tuning.ts'

const STATES: Readonly<Record<string, FineTuneState>> = {
  validating_files: 'queued', queued: 'queued', running: 'running', paused: 'paused', succeeded: 'succeeded', failed: 'failed', cancelled: 'cancelled',
}

/** `sdk` gives the client (and the SDK's toFile) when fine-tuning is first used: the SDK loads only then. */
export function openAIFineTuner(sdk: () => Promise<{ client: OpenAI; toFile: typeof import('openai').toFile }>): FineTuner {
  const upload = async (file: { filename: string; data: Buffer }, signal?: AbortSignal): Promise<string> => {
    const { client, toFile } = await sdk()
    return (await client.files.create({ file: await toFile(file.data, file.filename, { type: 'application/jsonl' }), purpose: 'fine-tune' }, { signal })).id
  }

  return {
    async start(request, signal) {
      const trainingFile = await upload(request.training, signal)
      const validationFile = request.validation ? await upload(request.validation, signal) : undefined
      const { n_epochs, batch_size, learning_rate_multiplier } = request.hyperparameters
      const { client } = await sdk()
      const job = await client.fineTuning.jobs.create({
        model: request.model,
        training_file: trainingFile,
        ...(validationFile ? { validation_file: validationFile } : {}),
        ...(request.suffix ? { suffix: request.suffix } : {}),
        ...(request.seed !== undefined ? { seed: request.seed } : {}),
        method: { type: 'supervised', supervised: { hyperparameters: { ...(n_epochs ? { n_epochs } : {}), ...(batch_size ? { batch_size } : {}), ...(learning_rate_multiplier ? { learning_rate_multiplier } : {}) } } },
      }, { signal })
      return job.id
    },

    async progress(jobId, signal) {
      const { client } = await sdk()
      const job = await client.fineTuning.jobs.retrieve(jobId, { signal })
      const page = await client.fineTuning.jobs.listEvents(jobId, { limit: 100 }, { signal })
      const events: FineTuneEvent[] = page.data.map((e) => ({
        id: e.id,
        createdAt: e.created_at,
        level: e.level,
        message: e.message,
        ...(e.type === 'metrics' && e.data && typeof e.data === 'object' ? { metrics: numbers(e.data as Record<string, unknown>) } : {}),
      }))
      const state = STATES[job.status] ?? 'running'
      // Checkpoints are complete once the job is: read them then, not at every poll.
      const checkpoints = state === 'succeeded'
        ? (await client.fineTuning.jobs.checkpoints.list(jobId, { limit: 100 }, { signal })).data.map((c) => ({
          id: c.id, model: c.fine_tuned_model_checkpoint, step: c.step_number, metrics: numbers(c.metrics as Record<string, unknown>), createdAt: c.created_at,
        }))
        : undefined
      return {
        state,
        ...(checkpoints ? { checkpoints } : {}),
        fineTunedModel: job.fine_tuned_model ?? null,
        error: job.error?.message ?? null,
        errorCode: job.error?.code || null,
        errorParam: job.error?.param ?? null,
        trainedTokens: job.trained_tokens ?? null,
        events,
        // What the job runs with: `auto` resolved to numbers once OpenAI has chosen them.
        hyperparameters: resolved(job.method?.supervised?.hyperparameters ?? job.hyperparameters),
        ...(typeof job.seed === 'number' ? { seed: job.seed } : {}),
      }
    },

    async cancel(jobId, signal) {
      const { client } = await sdk()
      await client.fineTuning.jobs.cancel(jobId, { signal })
    },

    async pause(jobId, signal) {
      const { client } = await sdk()
      await client.fineTuning.jobs.pause(jobId, { signal })
    },

    async resume(jobId, signal) {
      const { client } = await sdk()
      await client.fineTuning.jobs.resume(jobId, { signal })
    },

    async deleteModel(model, signal) {
      const { client } = await sdk()
      try {
        await client.models.delete(model, { signal })
      } catch (err) {
        // Already gone there (a delete retried after its answer was lost): what was asked is true.
        if ((err as { status?: unknown }).status !== 404) throw err
      }
    },
  }
}

/** The hyperparameters OpenAI reports as numbers (an `auto` it has not resolved yet is left out). */
function resolved(h: { n_epochs?: unknown; batch_size?: unknown; learning_rate_multiplier?: unknown } | null | undefined): FineTuneRequest['hyperparameters'] {
  const { n_epochs, batch_size, learning_rate_multiplier } = numbers({ ...h })
  return { ...(n_epochs !== undefined ? { n_epochs } : {}), ...(batch_size !== undefined ? { batch_size } : {}), ...(learning_rate_multiplier !== undefined ? { learning_rate_multiplier } : {}) }
}

/** The numeric fields of a metrics event (step, train_loss, valid_loss...). */
export function numbers(data: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, value] of Object.entries(data)) if (typeof value === 'number' && Number.isFinite(value)) out[key] = value
  return out
}
