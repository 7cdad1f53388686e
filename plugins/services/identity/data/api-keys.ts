import { type SqlClient } from '../../../../plugin-api/index.ts'
import { isUuid, jsonParam, pageOf, rethrowAsGatewayError } from '../../../store/kit/sql.ts'
import { type ApiKeyCreate, type ApiKeyListed, type ApiKeyMatch, type ApiKeyRecord, type ApiKeyRepository, type JsonObject, type KeyPerson } from '../../../contracts/capabilities.ts'

interface ApiKeyRow {
  id: string
  prefix: string
  name: string | null
  user_id: string | null
  department: string | null
  role: string
  allowed_models: string[] | null
  limits: JsonObject
  created_at: Date
  expires_at: Date | null
  revoked_at: Date | null
  last_used_at: Date | null
  previous_prefix: string | null
  previous_expires_at: Date | null
  created_by: string | null
  rotated_by: string | null
}

// The hashes are written and matched, never read back: a record has no use for them.
const COLUMNS = 'id, prefix, name, user_id, department, role, allowed_models, limits, created_at, expires_at, revoked_at, last_used_at, previous_prefix, previous_expires_at, created_by, rotated_by'

/**
 * Who made the key's current secret, and so holds it (migration 0005): its maker, or after a
 * rotation in place whoever rotated it; null when not known. SECRET_MAKER is the same rule in SQL.
 */
export function secretMakerOf(key: ApiKeyRecord): string | null {
  return key.previousPrefix === null ? key.createdBy : key.rotatedBy
}
const SECRET_MAKER = '(CASE WHEN previous_prefix IS NULL THEN created_by ELSE rotated_by END)'

const CREATE = `INSERT INTO api_keys (key_hash, prefix, name, user_id, department, role, allowed_models, limits, expires_at, created_by)
  VALUES ($1, $2, $3, $4, $5, COALESCE($6, 'user'), $7, COALESCE($8::jsonb, '{}'::jsonb), $9, $10)
  RETURNING ${COLUMNS}`
// Either secret (migration 0004), each column a unique index; the current one first, should a
// hash ever be both (it cannot: they are 192 random bits).
const BY_HASH = `SELECT ${COLUMNS}, key_hash <> $1 AS previous FROM api_keys
  WHERE key_hash = $1 OR previous_key_hash = $1
  ORDER BY previous LIMIT 1`
const GET = `SELECT ${COLUMNS} FROM api_keys WHERE id = $1`
// Newest first by seq (migration 0003), since created_at ties within a clock tick of the embedded
// store. The owner's and maker's names come in the same query (a join, not a read per row).
const PERSON = (table: string, as: string) => `${table}.name AS ${as}_name, ${table}.email AS ${as}_email, ${table}.external_subject AS ${as}_subject`
const LIST = `SELECT ${COLUMNS.split(', ').map((c) => `k.${c}`).join(', ')}, ${PERSON('o', 'owner')}, ${PERSON('c', 'creator')}
  FROM api_keys k LEFT JOIN users o ON o.id = k.user_id LEFT JOIN users c ON c.id = k.created_by
  WHERE ($1::uuid IS NULL OR k.user_id = $1) AND ($2::text IS NULL OR k.department = $2) AND ($3 OR k.revoked_at IS NULL)
  ORDER BY k.seq DESC LIMIT $4 OFFSET $5`
const REVOKE = 'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL'
// The secret replaced in place: the row, its id and everything counted by it stay. An older
// previous secret is overwritten (one at most); a revoked or expired key is not rotated.
const ROTATE = `UPDATE api_keys SET previous_key_hash = key_hash, previous_prefix = prefix, previous_expires_at = $4, key_hash = $2, prefix = $3, rotated_by = $6
  WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $5)
  RETURNING ${COLUMNS}`
const USER_KEY_ROLES = 'SELECT DISTINCT role FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL'
const SET_USER_KEY_ROLES = 'UPDATE api_keys SET role = $2 WHERE user_id = $1 AND revoked_at IS NULL AND role = ANY($3)'
// A department move (moveUserKeys): the live keys whose secret another (or an unknown) maker holds
// are revoked where they are; those the user made move, a replaced secret's grace ending now.
const REVOKE_OTHERS_KEYS = `UPDATE api_keys SET revoked_at = now()
  WHERE user_id = $1 AND revoked_at IS NULL AND ${SECRET_MAKER} IS DISTINCT FROM $1
  RETURNING id`
const MOVE_OWN_KEYS = `UPDATE api_keys SET department = $2,
    previous_expires_at = CASE WHEN previous_expires_at > now() THEN now() ELSE previous_expires_at END
  WHERE user_id = $1 AND ${SECRET_MAKER} = $1`
// Skipping writes within a minute of the last one keeps a hot key from costing a row update per request.
const TOUCH = `UPDATE api_keys SET last_used_at = $2
  WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '60 seconds')`

const toRecord = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id,
  prefix: r.prefix,
  name: r.name,
  userId: r.user_id,
  department: r.department,
  role: r.role,
  allowedModels: r.allowed_models,
  limits: r.limits,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
  previousPrefix: r.previous_prefix,
  previousExpiresAt: r.previous_expires_at,
  createdBy: r.created_by,
  rotatedBy: r.rotated_by,
})

type PersonColumns<A extends string> = { [C in `${A}_name` | `${A}_email`]: string | null } & { [C in `${A}_subject`]: string | null }
type ListedRow = ApiKeyRow & PersonColumns<'owner'> & PersonColumns<'creator'>

/** The user the LEFT JOIN found for `id`, or null (no id, or no such user: subject is null then). */
function personOf(id: string | null, name: string | null, email: string | null, subject: string | null): KeyPerson | null {
  return id !== null && subject !== null ? { id, name, email, externalSubject: subject } : null
}

const toListed = (r: ListedRow): ApiKeyListed => ({
  ...toRecord(r),
  owner: personOf(r.user_id, r.owner_name, r.owner_email, r.owner_subject),
  creator: personOf(r.created_by, r.creator_name, r.creator_email, r.creator_subject),
})

export function apiKeyRepository(db: SqlClient): ApiKeyRepository {
  const one = async (text: string, params: unknown[]): Promise<ApiKeyRecord | undefined> => {
    const { rows } = await db.query<ApiKeyRow>(text, params).catch(rethrowAsGatewayError)
    return rows[0] && toRecord(rows[0])
  }
  return {
    async create(input: ApiKeyCreate) {
      const key = await one(CREATE, [
        input.keyHash, input.prefix, input.name ?? null, input.userId ?? null, input.department ?? null, input.role ?? null,
        input.allowedModels ? [...input.allowedModels] : null, jsonParam(input.limits), input.expiresAt ?? null, input.createdBy ?? null,
      ])
      return key!
    },
    async findByHash(keyHash): Promise<ApiKeyMatch | undefined> {
      const { rows } = await db.query<ApiKeyRow & { previous: boolean }>(BY_HASH, [keyHash]).catch(rethrowAsGatewayError)
      return rows[0] && { ...toRecord(rows[0]), secret: rows[0].previous ? 'previous' : 'current' }
    },
    get: (id) => (isUuid(id) ? one(GET, [id]) : Promise.resolve(undefined)),
    async list(filter = {}) {
      if (filter.userId !== undefined && !isUuid(filter.userId)) return []
      const [limit, offset] = pageOf(filter)
      const { rows } = await db.query<ListedRow>(LIST, [filter.userId ?? null, filter.department ?? null, filter.includeRevoked ?? false, limit, offset])
      return rows.map(toListed)
    },
    async revoke(id) {
      if (!isUuid(id)) return false
      return (await db.query(REVOKE, [id])).rowCount > 0
    },
    async touchLastUsed(id, at = new Date()) {
      if (isUuid(id)) await db.query(TOUCH, [id, at])
    },
    async rotate(id, secret, previousUntil, rotatedBy) {
      if (!isUuid(id)) return undefined
      return one(ROTATE, [id, secret.keyHash, secret.prefix, previousUntil, new Date(), rotatedBy])
    },
    async activeRolesOfUser(userId) {
      if (!isUuid(userId)) return []
      return (await db.query<{ role: string }>(USER_KEY_ROLES, [userId])).rows.map((r) => r.role)
    },
    async replaceUserKeyRoles(userId, roles, role) {
      if (isUuid(userId) && roles.length) await db.query(SET_USER_KEY_ROLES, [userId, role, [...roles]])
    },
    async moveUserKeys(userId, department) {
      if (!isUuid(userId)) return []
      const { rows } = await db.query<{ id: string }>(REVOKE_OTHERS_KEYS, [userId])
      await db.query(MOVE_OWN_KEYS, [userId, department])
      return rows.map((r) => r.id)
    },
  }
}
