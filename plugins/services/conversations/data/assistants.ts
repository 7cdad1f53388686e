/** assistants rows: a model route with instructions, tools and defaults, scoped to a department. */
import { type SqlClient } from '../../../../plugin-api/index.ts'
import { jsonParam, rethrowAsGatewayError, toNumber } from '../../../store/kit/sql.ts'
import type { AssistantInput, AssistantRecord, Assistants } from '../../../contracts/conversations.ts'
import { newId } from '../../kit/ids.ts'

interface AssistantRow {
  id: string
  name: string
  description: string | null
  route: string
  instructions: string | null
  department: string | null
  user_id: string | null
  params: AssistantRecord['params']
  tools: AssistantRecord['tools']
  rag_collections: string[]
  context_policy: AssistantRecord['contextPolicy']
  metadata: Record<string, string>
  created_at: Date
  updated_at: Date
  total?: number | string
}

const COLUMNS = 'id, name, description, route, instructions, department, user_id, params, tools, rag_collections, context_policy, metadata, created_at, updated_at'

const assistantOf = (r: AssistantRow): AssistantRecord => ({
  id: r.id, name: r.name, description: r.description, route: r.route, instructions: r.instructions, department: r.department, userId: r.user_id,
  params: r.params ?? {}, tools: r.tools ?? [], ragCollections: r.rag_collections ?? [], contextPolicy: r.context_policy ?? { strategy: 'truncate' },
  metadata: r.metadata ?? {}, createdAt: r.created_at, updatedAt: r.updated_at,
})

/** Column for each field a patch may set, and how its value is written. */
const FIELDS: readonly [keyof AssistantInput, string, (v: unknown) => unknown][] = [
  ['name', 'name', (v) => v], ['description', 'description', (v) => v], ['route', 'route', (v) => v], ['instructions', 'instructions', (v) => v],
  ['department', 'department', (v) => v], ['userId', 'user_id', (v) => v], ['params', 'params', jsonParam], ['tools', 'tools', jsonParam],
  ['ragCollections', 'rag_collections', jsonParam], ['contextPolicy', 'context_policy', jsonParam], ['metadata', 'metadata', jsonParam],
]

export function assistantRepository(sql: SqlClient): Assistants {
  const one = async (text: string, params: unknown[]): Promise<AssistantRecord | undefined> => {
    try {
      const { rows } = await sql.query<AssistantRow>(text, params)
      return rows[0] ? assistantOf(rows[0]) : undefined
    } catch (err) {
      rethrowAsGatewayError(err)
    }
  }
  return {
    async create(input) {
      const columns = FIELDS.map(([, column]) => column)
      const values = FIELDS.map(([field, , write]) => write(input[field]) ?? null)
      return (await one(
        `INSERT INTO assistants (id, ${columns.join(', ')}) VALUES ($1, ${columns.map((_, i) => `$${i + 2}`).join(', ')}) RETURNING ${COLUMNS}`,
        [newId('asst'), ...values],
      ))!
    },
    get: (id) => one(`SELECT ${COLUMNS} FROM assistants WHERE id = $1`, [id]),
    byName: (name, department) => one(
      `SELECT ${COLUMNS} FROM assistants WHERE lower(name) = lower($1) AND (department = $2 OR department IS NULL) ORDER BY department NULLS LAST LIMIT 1`,
      [name, department],
    ),
    async list({ departments, limit, offset }) {
      const params: unknown[] = []
      let filter = ''
      if (departments) {
        const named = departments.filter((d): d is string => d !== null)
        const global = departments.includes(null)
        filter = `WHERE (department = ANY($${params.push(named)}::text[])${global ? ' OR department IS NULL' : ''})`
      }
      const { rows } = await sql.query<AssistantRow>(
        `SELECT ${COLUMNS}, count(*) OVER () AS total FROM assistants ${filter} ORDER BY lower(name), id LIMIT $${params.push(limit)} OFFSET $${params.push(offset)}`,
        params,
      )
      let total = rows[0] ? toNumber(rows[0].total) : 0
      if (rows.length === 0 && offset > 0) total = toNumber((await sql.query<{ n: number }>(`SELECT count(*) AS n FROM assistants ${filter}`, params.slice(0, -2))).rows[0].n)
      return { assistants: rows.map(assistantOf), total }
    },
    async update(id, patch) {
      const sets: string[] = []
      const params: unknown[] = [id]
      for (const [field, column, write] of FIELDS) {
        if (patch[field] !== undefined) sets.push(`${column} = $${params.push(write(patch[field]))}`)
      }
      if (sets.length === 0) return this.get(id)
      return one(`UPDATE assistants SET ${sets.join(', ')}, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, params)
    },
    async delete(id) {
      const { rowCount } = await sql.query('DELETE FROM assistants WHERE id = $1', [id])
      return rowCount > 0
    },
  }
}
