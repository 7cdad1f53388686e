/**
 * What the keys and users services tell the audit trail (service.audit's AuditLog, when the
 * gateway has it): each change once made, by whom, with what it changed. The details are built
 * field by field from what names a key or user (its prefix, never its secret).
 */
import type { Logger } from 'pino'
import type { Caller } from '../../../plugin-api/index.ts'
import type { ApiKeyRecord, AuditEntry, AuditLog, JsonObject } from '../../contracts/capabilities.ts'

/** Record one action of `req`'s caller; never fails the request (a failure is logged, with the entry). */
export type Audit = (req: { readonly caller: Caller; readonly requestId: string }, entry: Omit<AuditEntry, 'actor' | 'requestId'>) => Promise<void>

export function auditTo(log: AuditLog | undefined, logger: Logger | undefined): Audit {
  return async ({ caller, requestId }, entry) => {
    if (!log) return
    const { userId, keyId, role } = caller.principal
    const full: AuditEntry = { ...entry, requestId, actor: { userId, keyId, role } }
    try {
      await log.record(full)
    } catch (err) {
      // The change is made: the answer says so, and this line keeps the entry the store did not take.
      logger?.error({ err: (err as Error).message, audit: full }, 'the audit trail could not record a management action')
    }
  }
}

/** A key as the trail names it: its settings, never its secret. */
export const keyDetails = (key: ApiKeyRecord): JsonObject => ({
  name: key.name, prefix: key.prefix, owner: key.userId, department: key.department, role: key.role,
  allowed_models: key.allowedModels, limits: key.limits, expires_at: key.expiresAt?.toISOString() ?? null,
})
