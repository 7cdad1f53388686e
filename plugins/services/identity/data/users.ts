import { type SqlClient } from '../../../../plugin-api/index.ts'
import { isUuid, pageOf, rethrowAsGatewayError } from '../../../store/kit/sql.ts'
import { type UserRecord, type UserRepository, type UserUpsert } from '../../../contracts/capabilities.ts'

interface UserRow {
  id: string
  external_subject: string
  email: string | null
  name: string | null
  role: string
  department: string | null
  created_at: Date
  updated_at: Date
  last_seen_at: Date | null
}

const COLUMNS = 'id, external_subject, email, name, role, department, created_at, updated_at, last_seen_at'

// A null parameter keeps the stored value: an upsert changes only what the caller knows.
// ($6 says whether a department was given, so it can also be cleared on purpose.)
const UPSERT = `INSERT INTO users (external_subject, email, name, role, department, last_seen_at)
  VALUES ($1, $2, $3, COALESCE($4, 'user'), $5, now())
  ON CONFLICT (external_subject) DO UPDATE SET
    email = COALESCE($2, users.email),
    name = COALESCE($3, users.name),
    role = COALESCE($4, users.role),
    department = CASE WHEN $6 THEN $5 ELSE users.department END,
    updated_at = CASE
      WHEN (users.email, users.name, users.role, users.department) IS DISTINCT FROM
           (COALESCE($2, users.email), COALESCE($3, users.name), COALESCE($4, users.role), CASE WHEN $6 THEN $5 ELSE users.department END)
      THEN now() ELSE users.updated_at END,
    last_seen_at = now()
  RETURNING ${COLUMNS}`
const GET = `SELECT ${COLUMNS} FROM users WHERE id = $1`
const BY_SUBJECT = `SELECT ${COLUMNS} FROM users WHERE external_subject = $1`
// In the order users were made: seq (migration 0003), since created_at ties within a clock tick
// of the embedded store.
const LIST = `SELECT ${COLUMNS} FROM users
  WHERE ($1::text IS NULL OR department = $1) AND ($2::text IS NULL OR role = $2)
  ORDER BY seq LIMIT $3 OFFSET $4`
const SET_ROLE = `UPDATE users SET role = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`
const SET_DEPARTMENT = `UPDATE users SET department = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`

const toRecord = (r: UserRow): UserRecord => ({
  id: r.id,
  externalSubject: r.external_subject,
  email: r.email,
  name: r.name,
  role: r.role,
  department: r.department,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastSeenAt: r.last_seen_at,
})

export function userRepository(db: SqlClient): UserRepository {
  const one = async (text: string, params: unknown[]): Promise<UserRecord | undefined> => {
    const { rows } = await db.query<UserRow>(text, params).catch(rethrowAsGatewayError)
    return rows[0] && toRecord(rows[0])
  }
  return {
    async upsertBySubject(input: UserUpsert) {
      // Department may be set to null on purpose, so "given" is told apart from "null".
      const hasDepartment = input.department !== undefined
      const user = await one(UPSERT, [input.externalSubject, input.email ?? null, input.name ?? null, input.role ?? null, input.department ?? null, hasDepartment])
      return user!
    },
    get: (id) => (isUuid(id) ? one(GET, [id]) : Promise.resolve(undefined)),
    findBySubject: (subject) => one(BY_SUBJECT, [subject]),
    async list(filter = {}) {
      const [limit, offset] = pageOf(filter)
      const { rows } = await db.query<UserRow>(LIST, [filter.department ?? null, filter.role ?? null, limit, offset])
      return rows.map(toRecord)
    },
    setRole: (id, role) => (isUuid(id) ? one(SET_ROLE, [id, role]) : Promise.resolve(undefined)),
    setDepartment: (id, department) => (isUuid(id) ? one(SET_DEPARTMENT, [id, department]) : Promise.resolve(undefined)),
  }
}
