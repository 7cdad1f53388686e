/** The audit_events table: one insert per management action, and the list behind GET /api/v1/audit. */
import { timeOrderedUuid, type SqlClient } from '../../../plugin-api/index.ts'
import { jsonParam, pageOf } from '../../store/kit/sql.ts'
import type { AuditLog, AuditQuery, AuditRecord, JsonObject } from '../../contracts/capabilities.ts'

const INSERT = `INSERT INTO audit_events (id, occurred_at, request_id, actor_user_id, actor_key_id, actor_role, action, target_type, target_id, department, details)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE($11::jsonb, '{}'::jsonb))`

/** Optional filters, each a column compared for equality: identifiers from here, never from input. */
const FILTERS = [['actorUserId', 'actor_user_id'], ['action', 'action'], ['targetId', 'target_id'], ['department', 'department']] as const

interface AuditRow {
  id: string
  occurred_at: Date
  request_id: string | null
  actor_user_id: string
  actor_key_id: string | null
  actor_role: string
  action: string
  target_type: string
  target_id: string
  department: string | null
  details: JsonObject | string
}

export function auditRepository(db: SqlClient): AuditLog {
  return {
    async record(entry) {
      const now = Date.now()
      await db.query(INSERT, [
        timeOrderedUuid(now), new Date(now), entry.requestId ?? null, entry.actor.userId, entry.actor.keyId ?? null, entry.actor.role,
        entry.action, entry.target.type, entry.target.id, entry.department ?? null, jsonParam(entry.details ?? {}),
      ])
    },

    async list(query: AuditQuery) {
      const params: unknown[] = [query.from, query.to]
      const conditions = ['occurred_at >= $1', 'occurred_at < $2']
      for (const [field, column] of FILTERS) {
        const value = query[field]
        if (value === undefined) continue
        params.push(value)
        conditions.push(`${column} = $${params.length}`)
      }
      const [limit, offset] = pageOf(query)
      params.push(limit, offset)
      const { rows } = await db.query<AuditRow>(
        `SELECT * FROM audit_events WHERE ${conditions.join(' AND ')} ORDER BY occurred_at DESC, id DESC LIMIT $${params.length - 1} OFFSET $${params.length}`,
        params,
      )
      return rows.map(toRecord)
    },
  }
}

const toRecord = (r: AuditRow): AuditRecord => ({
  id: r.id,
  time: new Date(r.occurred_at),
  requestId: r.request_id ?? undefined,
  actor: { userId: r.actor_user_id, keyId: r.actor_key_id ?? undefined, role: r.actor_role },
  action: r.action,
  target: { type: r.target_type, id: r.target_id },
  department: r.department,
  details: typeof r.details === 'string' ? (JSON.parse(r.details) as JsonObject) : r.details,
})
