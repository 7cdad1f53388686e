/** Records as the management API shows them: snake_case, and never a key's secret or hash. */
import type { ApiKeyRecord, UserRecord } from '../../contracts/capabilities.ts'

export type KeyStatus = 'active' | 'revoked' | 'expired'

export function keyStatus(record: ApiKeyRecord, now = Date.now()): KeyStatus {
  if (record.revokedAt) return 'revoked'
  return record.expiresAt && record.expiresAt.getTime() <= now ? 'expired' : 'active'
}

export function keyView(record: ApiKeyRecord) {
  return {
    id: record.id,
    prefix: record.prefix,
    name: record.name,
    status: keyStatus(record),
    user_id: record.userId,
    department: record.department,
    role: record.role,
    allowed_models: record.allowedModels,
    limits: record.limits,
    created_at: record.createdAt,
    expires_at: record.expiresAt,
    revoked_at: record.revokedAt,
    last_used_at: record.lastUsedAt,
  }
}

export function userView(record: UserRecord) {
  return {
    id: record.id,
    external_subject: record.externalSubject,
    name: record.name,
    email: record.email,
    role: record.role,
    department: record.department,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    last_seen_at: record.lastSeenAt,
  }
}
