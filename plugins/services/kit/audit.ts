/**
 * How a service tells the audit trail (service.audit's AuditLog, when the gateway has it) of an
 * action it has done: by the request's caller, never failing the request.
 */
import type { Caller, Logger } from '../../../plugin-api/index.ts'
import type { AuditEntry, AuditLog } from '../../contracts/capabilities.ts'

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
