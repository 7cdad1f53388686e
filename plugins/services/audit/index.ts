/**
 * service.audit, mounted at /api/v1/audit: the audit trail of management actions. The services
 * that change users, keys, assistants, files and RAG collections record each change here once it is made (who, what, to which
 * object, what changed; never a secret), and admins read it:
 *
 *   GET /api/v1/audit?from&to&actor&action&target_id&department&limit&offset   (newest first)
 *
 * Reading needs the `view_audit` permission (admins have it); a role scoped to its department
 * sees the entries about its department, one scoped to its own data the actions it did itself.
 * Implied whenever a store is configured; it owns the audit_events table.
 */
import { fileURLToPath } from 'node:url'
import { Store, badRequest, definePlugin, forbidden, reply, type Caller, type JsonSchema, type RouteSpec, type Service } from '../../../plugin-api/index.ts'
import { listOf, NULLABLE_STRING_SCHEMA, objectSchema, recordSchema, TIME_SCHEMA } from '../kit/schema.ts'
import { AuditLog, type AuditQuery, type AuditRecord } from '../../contracts/capabilities.ts'
import { auditRepository } from './repository.ts'

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))
const VIEW_AUDIT = 'view_audit'
const DAY_MS = 24 * 3600 * 1000
const DEFAULT_RANGE_DAYS = 30

interface ListQuery {
  from?: string
  to?: string
  actor?: string
  action?: string
  target_id?: string
  department?: string
  limit: number
  offset: number
}

const LIST_QUERY = objectSchema({
  from: { type: 'string', description: 'ISO 8601 time (default: 30 days before `to`).' },
  to: { type: 'string', description: 'ISO 8601 time, exclusive (default: now).' },
  actor: { type: 'string', minLength: 1, description: 'Only what this user id did.' },
  action: { type: 'string', minLength: 1, description: 'Only this action, e.g. key.revoke.' },
  target_id: { type: 'string', minLength: 1, description: 'Only what was done to this key or user id.' },
  department: { type: 'string', minLength: 1, description: 'Only entries about this department.' },
  limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  offset: { type: 'integer', minimum: 0, default: 0 },
})

const ENTRY_SCHEMA: JsonSchema = recordSchema({
  id: { type: 'string' },
  time: TIME_SCHEMA,
  action: { type: 'string', description: '`<object>.<verb>`: key.create, key.rotate, key.revoke, user.update, config.reload, dataset.create, training_job.create, training_job.cancel, model.deploy, model.undeploy, model.delete, assistant.create, assistant.update, assistant.delete, file.upload, file.delete, collection.create, collection.update, collection.delete, document.add, document.delete.' },
  actor: recordSchema({ user_id: { type: 'string' }, key_id: NULLABLE_STRING_SCHEMA, role: { type: 'string' } }),
  target: recordSchema({ type: { type: 'string' }, id: { type: 'string' } }),
  department: NULLABLE_STRING_SCHEMA,
  details: { type: 'object', description: 'What changed (names, prefixes, roles, limits; before and after). Never a secret.' },
  request_id: NULLABLE_STRING_SCHEMA,
})

const view = (r: AuditRecord): Record<string, unknown> => ({
  id: r.id, time: r.time.toISOString(), action: r.action,
  actor: { user_id: r.actor.userId, key_id: r.actor.keyId ?? null, role: r.actor.role },
  target: r.target, department: r.department ?? null, details: r.details ?? {}, request_id: r.requestId ?? null,
})

function time(text: string | undefined, name: 'from' | 'to', fallback: Date): Date {
  if (text === undefined) return fallback
  const d = new Date(text)
  if (Number.isNaN(d.getTime())) throw badRequest(`\`${name}\` must be an ISO 8601 date or time, e.g. 2026-11-01T12:00:00Z.`, name, 'invalid_date')
  return d
}

/** The filters, within the caller's scope: asking outside it is refused, not silently narrowed. */
function scoped(caller: Caller, q: ListQuery): AuditQuery {
  const to = time(q.to, 'to', new Date())
  const from = time(q.from, 'from', new Date(to.getTime() - DEFAULT_RANGE_DAYS * DAY_MS))
  if (from >= to) throw badRequest('`from` must be before `to`.', 'from', 'invalid_range')
  const query = { from, to, actorUserId: q.actor, action: q.action, targetId: q.target_id, department: q.department, limit: q.limit, offset: q.offset }
  const { principal } = caller
  if (caller.scope === 'own_data') {
    if (q.actor !== undefined && q.actor !== principal.userId) throw forbidden('You may only read what you did yourself.', 'out_of_scope')
    return { ...query, actorUserId: principal.userId }
  }
  if (caller.scope === 'department_data') {
    if (q.department !== undefined && q.department !== principal.department) throw forbidden('You may only read your department\'s entries.', 'out_of_scope')
    return { ...query, department: principal.department }
  }
  return query
}

export function auditService(log: AuditLog): Service {
  const list: RouteSpec<unknown, ListQuery> = {
    method: 'GET', path: '/', summary: 'Management actions (keys, users, config reloads, training datasets, jobs and deployments, assistants, files, RAG collections and their documents), newest first.', permission: VIEW_AUDIT,
    query: LIST_QUERY, response: listOf(ENTRY_SCHEMA),
    async handle({ caller, query }) {
      const q = scoped(caller, query)
      const entries = await log.list(q)
      return reply(entries.map(view), { meta: { from: q.from.toISOString(), to: q.to.toISOString(), limit: query.limit, offset: query.offset, count: entries.length } })
    },
  }
  return { routes: [list] }
}

export default definePlugin<Record<string, never>, Service>({
  id: 'service.audit',
  kind: 'service',
  description: 'The audit trail of management actions (keys, users, config reloads, training datasets, jobs and deployments, assistants, files, RAG collections): recorded by the services that act, read at /api/v1/audit.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  enabledByDefault: { requires: ['store'] },
  uses: [Store],
  provides: [AuditLog],
  async setup(ctx) {
    const store = ctx.get(Store)
    await store.migrate({ owner: 'audit', dir: MIGRATIONS })
    const log = auditRepository(store.sql)
    ctx.provide(AuditLog, log)
    return auditService(log)
  },
})
