/** A batch as OpenAI's Batch object: timestamps in Unix seconds, and those that have not happened left out. */
import type { JsonObject } from '../../contracts/capabilities.ts'
import type { BatchRecord } from './repository.ts'

const seconds = (d: Date | null): number | undefined => (d ? Math.floor(d.getTime() / 1000) : undefined)

export function batchView(b: BatchRecord): JsonObject {
  const view: Record<string, unknown> = {
    id: b.id,
    object: 'batch',
    endpoint: b.endpoint,
    model: b.model ?? undefined,
    errors: b.errors ? { object: 'list', data: b.errors } : undefined,
    input_file_id: b.inputFileId,
    completion_window: b.completionWindow,
    status: b.status,
    output_file_id: b.outputFileId ?? undefined,
    error_file_id: b.errorFileId ?? undefined,
    created_at: seconds(b.createdAt),
    in_progress_at: seconds(b.inProgressAt),
    expires_at: seconds(b.expiresAt),
    finalizing_at: seconds(b.finalizingAt),
    completed_at: seconds(b.completedAt),
    failed_at: seconds(b.failedAt),
    expired_at: seconds(b.expiredAt),
    cancelling_at: seconds(b.cancellingAt),
    cancelled_at: seconds(b.cancelledAt),
    // OpenAI's three (a message batch's canceled and expired are Anthropic's, message-views.ts).
    request_counts: { total: b.requestCounts.total, completed: b.requestCounts.completed, failed: b.requestCounts.failed },
    usage: b.usage ?? undefined,
    metadata: b.metadata,
  }
  return Object.fromEntries(Object.entries(view).filter(([, v]) => v !== undefined)) as JsonObject
}
