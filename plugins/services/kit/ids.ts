/** Ids in OpenAI's style (`conv_`, `resp_`, `msg_`, `batch_`, Anthropic's `msgbatch_`...): a prefix and 32 random hex digits, for the services that keep such records. */
import { randomBytes } from 'node:crypto'

export const newId = (prefix: string): string => `${prefix}_${randomBytes(16).toString('hex')}`

const ID = /^[a-z]{2,8}_[0-9a-f]{32}$/

/** Whether `id` can name a record with this prefix: anything else is "not found" without a query. */
export const isId = (id: string, prefix: string): boolean => id.startsWith(`${prefix}_`) && ID.test(id)
