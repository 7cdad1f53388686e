/**
 * What the keys and users services tell the audit trail: each change once made (contracts/audit.ts), a
 * key described field by field from what names it (its prefix, never its secret).
 */
import type { ApiKeyRecord, JsonObject } from '../../contracts/capabilities.ts'

export { auditTo, type Audit } from '../../contracts/audit.ts'

/** A key as the trail names it: its settings, never its secret. */
export const keyDetails = (key: ApiKeyRecord): JsonObject => ({
  name: key.name, prefix: key.prefix, owner: key.userId, department: key.department, role: key.role,
  allowed_models: key.allowedModels, limits: key.limits, expires_at: key.expiresAt?.toISOString() ?? null,
})
