/**
 * Anthropic's shapes of a batch (`/v1/messages/batches`): the MessageBatch object, and a line of its
 * results, read back from the output and error files the worker writes as for any batch.
 */
import type { MessageBatch, MessageBatchIndividualResponse, MessageBatchResult } from '@anthropic-ai/sdk/resources/messages/batches'
import type { JsonObject } from '../../contracts/capabilities.ts'
import type { BatchRecord, BatchStatus } from './repository.ts'

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null)

const PROCESSING: Readonly<Record<BatchStatus, MessageBatch['processing_status']>> = {
  validating: 'in_progress', in_progress: 'in_progress', finalizing: 'in_progress', cancelling: 'canceling',
  completed: 'ended', cancelled: 'ended', expired: 'ended', failed: 'ended',
}

/**
 * Where a batch's results are read: absolute, as Anthropic's, so a plain HTTP client fetches it as it is. `base` is the
 * gateway's public base URL (contracts/public-url.ts: service.auth's `public_url`, path prefix included, else the request's).
 */
export const resultsUrl = (base: string, id: string): string => `${base}/v1/messages/batches/${id}/results`

export function messageBatchView(b: BatchRecord, base: string): MessageBatch {
  const status = PROCESSING[b.status]
  const ended = status === 'ended'
  const { total, completed, failed, canceled = 0, expired = 0 } = b.requestCounts
  return {
    id: b.id,
    type: 'message_batch',
    processing_status: status,
    request_counts: {
      processing: ended ? 0 : Math.max(0, total - completed - failed),
      succeeded: completed,
      errored: failed - canceled - expired,
      canceled,
      expired,
    },
    created_at: iso(b.createdAt)!,
    expires_at: iso(b.expiresAt)!,
    ended_at: iso(b.completedAt ?? b.cancelledAt ?? b.expiredAt ?? b.failedAt),
    cancel_initiated_at: iso(b.cancellingAt),
    archived_at: null,
    results_url: ended ? resultsUrl(base, b.id) : null,
  }
}

/** A line of the output (`ok`) or error file as Anthropic's result: succeeded, errored, or canceled / expired (unrun: no response; unrun by a failed batch: errored). */
export function messageResult(line: JsonObject, ok: boolean): MessageBatchIndividualResponse {
  const response = line.response as { body: JsonObject } | null
  const code = (line.error as { code?: string } | null)?.code
  let result: MessageBatchResult
  if (ok && response) result = { type: 'succeeded', message: response.body as unknown as Extract<MessageBatchResult, { type: 'succeeded' }>['message'] }
  else if (response) result = { type: 'errored', error: response.body as unknown as Extract<MessageBatchResult, { type: 'errored' }>['error'] }
  else if (code === 'batch_expired' || code === 'batch_cancelled') result = { type: code === 'batch_expired' ? 'expired' : 'canceled' }
  // Unrun for another reason (its batch failed): errored, with why, as Anthropic's error body.
  else result = { type: 'errored', error: { type: 'error', error: { type: 'api_error', message: (line.error as { message?: string } | null)?.message ?? 'This request was not executed.' }, request_id: null } as unknown as Extract<MessageBatchResult, { type: 'errored' }>['error'] }
  return { custom_id: line.custom_id as string, result }
}
