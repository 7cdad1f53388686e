import type { SqlClient } from '../../plugins/types.ts'
import { isUuid, jsonParam, pageOf, rethrowAsGatewayError } from '../sql.ts'
import type { AssistantInput, AssistantRecord, AssistantRepository, JsonObject, Visibility } from '../types.ts'

interface AssistantRow {
  id: string
  name: string
  description: string | null
  instructions: string | null
  model: string
  owner_user_id: string | null
  department: string | null
  visibility: Visibility
  settings: JsonObject
  created_at: Date
  updated_at: Date
}

const COLUMNS = 'id, name, description, instructions, model, owner_user_id, department, visibility, settings, created_at, updated_at'

const CREATE = `INSERT INTO assistants (name, model, description, instructions, owner_user_id, department, visibility, settings)
  VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, 'private'), COALESCE($8::jsonb, '{}'::jsonb))
  RETURNING ${COLUMNS}`
const GET = `SELECT ${COLUMNS} FROM assistants WHERE id = $1`
// visibleTo ($3, $4): the user's own, their department's shared ones, and public ones.
const LIST = `SELECT ${COLUMNS} FROM assistants
  WHERE ($1::uuid IS NULL OR owner_user_id = $1)
    AND ($2::text IS NULL OR department = $2)
    AND ($3::uuid IS NULL OR visibility = 'public' OR owner_user_id = $3
         OR (visibility = 'department' AND department IS NOT DISTINCT FROM $4::text AND $4::text IS NOT NULL))
  ORDER BY created_at, id LIMIT $5 OFFSET $6`
const DELETE = 'DELETE FROM assistants WHERE id = $1'

/** Patchable fields and their columns; jsonb ones are marked so their value is sent as JSON. */
const PATCHABLE: ReadonlyArray<readonly [keyof AssistantInput, string, 'json'?]> = [
  ['name', 'name'], ['model', 'model'], ['description', 'description'], ['instructions', 'instructions'],
  ['ownerUserId', 'owner_user_id'], ['department', 'department'], ['visibility', 'visibility'], ['settings', 'settings', 'json'],
]

const toRecord = (r: AssistantRow): AssistantRecord => ({
  id: r.id,
  name: r.name,
  description: r.description,
  instructions: r.instructions,
  model: r.model,
  ownerUserId: r.owner_user_id,
  department: r.department,
  visibility: r.visibility,
  settings: r.settings,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
})

export function assistantRepository(db: SqlClient): AssistantRepository {
  const one = async (text: string, params: unknown[]): Promise<AssistantRecord | undefined> => {
    const { rows } = await db.query<AssistantRow>(text, params).catch(rethrowAsGatewayError)
    return rows[0] && toRecord(rows[0])
  }
  return {
    async create(input) {
      const assistant = await one(CREATE, [
        input.name, input.model, input.description ?? null, input.instructions ?? null, input.ownerUserId ?? null,
        input.department ?? null, input.visibility ?? null, jsonParam(input.settings),
      ])
      return assistant!
    },
    get: (id) => (isUuid(id) ? one(GET, [id]) : Promise.resolve(undefined)),
    async list(filter = {}) {
      const viewer = filter.visibleTo
      if ([filter.ownerUserId, viewer?.userId].some((id) => id !== undefined && !isUuid(id))) return []
      const [limit, offset] = pageOf(filter)
      const { rows } = await db.query<AssistantRow>(LIST, [
        filter.ownerUserId ?? null, filter.department ?? null, viewer?.userId ?? null, viewer?.department ?? null, limit, offset,
      ])
      return rows.map(toRecord)
    },
    async update(id, patch) {
      if (!isUuid(id)) return undefined
      const params: unknown[] = [id]
      const sets = ['updated_at = now()']
      for (const [field, column, kind] of PATCHABLE) {
        if (patch[field] === undefined) continue
        params.push(kind === 'json' ? jsonParam(patch[field]) : patch[field])
        sets.push(`${column} = $${params.length}${kind === 'json' ? '::jsonb' : ''}`)
      }
      return one(`UPDATE assistants SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`, params)
    },
    async delete(id) {
      return isUuid(id) && (await db.query(DELETE, [id])).rowCount > 0
    },
  }
}
