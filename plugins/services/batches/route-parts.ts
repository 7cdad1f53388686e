/** What OpenAI's /v1/batches and Anthropic's /v1/messages/batches routes share: who may call them, a batch's window, its id parameter, and cancelling. */
import type { BatchRecord, BatchRepository } from './repository.ts'
import type { Queue } from '../../contracts/queue.ts'
import { queueStep } from './worker.ts'

/** Batches are chat: whoever may chat may batch. */
export const PERMISSION = 'chat'
/** Both APIs' completion window: 24 hours. */
export const WINDOW_MS = 24 * 3600 * 1000
export const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 128 } } }

/** Ask `batch` to stop: the batch as it is after (`cancelling`, or ended already). */
export async function cancelBatch(batches: BatchRepository, queue: Queue, batch: BatchRecord): Promise<BatchRecord> {
  const after = (await batches.cancel(batch.id)) ?? batch
  // Its step notices within a moment; a batch no step holds is ended by the one queued here.
  if (after.status === 'cancelling') await queueStep(queue, batch.id)
  return after
}
