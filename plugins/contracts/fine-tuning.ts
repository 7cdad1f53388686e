/**
 * Fine-tuning on a provider's platform: what the training service asks of a provider that offers
 * it (openai, mistral; a third-party provider the same way). A provider offers it among its
 * `capabilities` under the `FineTuning` token; the training service finds it with
 * `capabilityOf(ctx.provider(name), FineTuning)`. The kernel never calls it.
 */
import { token, type Token } from '../../plugin-api/index.ts'

/** Where a provider's fine-tuning job is. */
export type FineTuneState = 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled'

export interface FineTuneRequest {
  /** The provider's base model. */
  readonly model: string
  /** JSONL in the chat fine-tuning format. */
  readonly training: { readonly filename: string; readonly data: Buffer }
  readonly validation?: { readonly filename: string; readonly data: Buffer }
  readonly hyperparameters: { readonly n_epochs?: number; readonly batch_size?: number; readonly learning_rate_multiplier?: number }
  readonly suffix?: string
  /** The seed the caller asked for (providers without one ignore it, and report none). */
  readonly seed?: number
}

/** A message or a metrics point the provider reported (training/validation loss per step). */
export interface FineTuneEvent {
  /** The provider's id for it (stable across polls, so an event is recorded once). */
  readonly id: string
  /** Unix seconds. */
  readonly createdAt: number
  readonly level: 'info' | 'warn' | 'error'
  readonly message: string
  readonly metrics?: Readonly<Record<string, number>>
}

export interface FineTuneProgress {
  readonly state: FineTuneState
  readonly fineTunedModel: string | null
  readonly error: string | null
  /** The provider's machine-readable code for the failure, and the parameter at fault (`training_file`), when it gives them. */
  readonly errorCode?: string | null
  readonly errorParam?: string | null
  readonly trainedTokens: number | null
  /** The events the provider has (any order; already-seen ones are skipped by id). */
  readonly events: readonly FineTuneEvent[]
  /** Usable models saved during training (OpenAI's at each epoch's end), when the provider names them. */
  readonly checkpoints?: readonly FineTuneCheckpoint[]
  /** The hyperparameters the job runs with, once the provider resolved them (its choices for those asked as 'auto'). */
  readonly hyperparameters?: FineTuneRequest['hyperparameters']
  /** The seed the provider used, when it reports one. */
  readonly seed?: number
}

export interface FineTuneCheckpoint {
  readonly id: string
  /** The checkpoint's model name, callable like the final model. */
  readonly model: string
  readonly step: number
  readonly metrics: Readonly<Record<string, number>>
  /** Unix seconds. */
  readonly createdAt: number
}

export type FineTuneHyperparameter = keyof FineTuneRequest['hyperparameters']

export interface FineTuner {
  /**
   * The hyperparameters this provider can set (default: all). A job asking for another is refused
   * with a 400 naming it, never started without it.
   */
  readonly hyperparameters?: readonly FineTuneHyperparameter[]
  /** Upload the files and start the job; resolves to the provider's job id. */
  start(request: FineTuneRequest, signal?: AbortSignal): Promise<string>
  progress(jobId: string, signal?: AbortSignal): Promise<FineTuneProgress>
  cancel(jobId: string, signal?: AbortSignal): Promise<void>
  /** Stop a running job where it is, keeping its progress (providers that can; OpenAI can). */
  pause?(jobId: string, signal?: AbortSignal): Promise<void>
  /** Go on with a paused job. */
  resume?(jobId: string, signal?: AbortSignal): Promise<void>
  /** Delete a fine-tuned model at the provider (providers that can); a model the provider no longer has is no error. */
  deleteModel?(model: string, signal?: AbortSignal): Promise<void>
}

export const FineTuning: Token<FineTuner> = token<FineTuner>('FineTuning')

/**
 * Fine-tuned models deleted through the gateway (`DELETE /v1/models/{model}`, service.training):
 * no longer listed, retrieved or called, whatever route would take their name (a glob such as
 * `ft:*`). Read on every request: a set in memory, kept current by its provider.
 */
export interface DeletedModels {
  has(model: string): boolean
}

export const DeletedModels: Token<DeletedModels> = token<DeletedModels>('DeletedModels')
