/** One query on a fresh connection: for tests and bench scripts that look at a database from outside the gateway. */
import pg from 'pg'

export async function sqlOnce<Row extends Record<string, unknown>>(url: string, text: string): Promise<Row[]> {
  const client = new pg.Client(url)
  await client.connect()
  try {
    return (await client.query<Row>(text)).rows
  } finally {
    await client.end()
  }
}

/** Usage rows in a schema: how many, and how many distinct event and request ids. */
export async function usageRowCounts(url: string, schema: string): Promise<{ rows: number; eventIds: number; requestIds: number }> {
  const [row] = await sqlOnce<{ n: string; e: string; r: string }>(url,
    `SELECT count(*) AS n, count(DISTINCT event_id) AS e, count(DISTINCT request_id) AS r FROM "${schema}".usage_events`)
  return { rows: Number(row.n), eventIds: Number(row.e), requestIds: Number(row.r) }
}
