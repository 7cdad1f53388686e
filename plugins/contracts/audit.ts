/**
 * How a service tells the audit trail (service.audit's AuditLog, when the gateway has it) of an
 * action it has done: by the request's caller, or by `system` for what the gateway does by itself
 * (an expiry sweep), never failing the request or the work.
 */
import type { Caller, Logger } from '../../plugin-api/index.ts'
import type { AuditEntry, AuditLog } from './capabilities.ts'

/** Record one action of `req`'s caller; never fails the request (a failure is logged, with the entry). */
export type Audit = (req: { readonly caller: Caller; readonly requestId: string }, entry: Omit<AuditEntry, 'actor' | 'requestId'>) => Promise<void>

export function auditTo(log: AuditLog | undefined, logger: Logger | undefined): Audit {
  const record = recordTo(log, logger)
  return ({ caller, requestId }, entry) => {
    const { userId, keyId, role } = caller.principal
    return record({ ...entry, requestId, actor: { userId, keyId, role } })
  }
}

/** The actor of what the gateway does by itself (an expiry sweep): no caller asked for it. */
export const SYSTEM_ACTOR: AuditEntry['actor'] = Object.freeze({ userId: 'system', role: 'system' })

/** Record one action the gateway did by itself (actor `system`); never fails the work that did it. */
export type SystemAudit = (entry: Omit<AuditEntry, 'actor' | 'requestId'>) => Promise<void>

export function systemAuditTo(log: AuditLog | undefined, logger: Logger | undefined): SystemAudit {
  const record = recordTo(log, logger)
  return (entry) => record({ ...entry, actor: SYSTEM_ACTOR })
}

function recordTo(log: AuditLog | undefined, logger: Logger | undefined): (entry: AuditEntry) => Promise<void> {
  return async (full) => {
    if (!log) return
    try {
      await log.record(full)
    } catch (err) {
      // The change is made: the answer says so, and this line keeps the entry the store did not take.
      logger?.error({ err: (err as Error).message, audit: full }, 'the audit trail could not record a management action')
    }
  }
}
