/** A storage fault that crashes a batch's steps: the store fails each step's count of what was answered, for one batch only. */
import { Store } from '../../plugin-api/index.ts'
import { capability, type RunningGateway } from '../helpers/gateway.ts'

export function crashStepsOf(gw: RunningGateway): { batch: (id: string) => void; restore: () => void } {
  const sql = capability(gw, Store).sql
  const query = sql.query.bind(sql)
  let batchId = ''
  // Each step runs its requests, then crashes before it ends well.
  sql.query = (async (text: string, values?: readonly unknown[]) => {
    if (text.includes('count(*) FILTER (WHERE ok)') && values?.[0] === batchId) throw new Error('disk read error: EIO')
    return query(text, values)
  }) as typeof sql.query
  return { batch: (id) => { batchId = id }, restore: () => { sql.query = query } }
}
