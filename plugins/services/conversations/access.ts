/**
 * Who sees what. A thread is its owner's; a department admin and an admin reach threads within
 * their scope. A record out of reach is a 404, never a 403: its existence is not confirmed. An
 * assistant is visible to its department (or to all, when it has none) and to admins.
 */
import { notFound, type Caller } from '../../../plugin-api/index.ts'
import type { AssistantRecord, Conversations, ThreadRecord } from '../../contracts/conversations.ts'
import { isId } from '../kit/ids.ts'

export async function reachableThread(conversations: Conversations, caller: Caller, id: string, param = 'id'): Promise<ThreadRecord> {
  const thread = isId(id, 'conv') ? await conversations.threads.get(id) : undefined
  if (!thread || !caller.reaches(thread)) throw notFound(`No thread or conversation '${id}'.`, 'thread_not_found', param)
  return thread
}

export function seesAssistant(caller: Caller, assistant: AssistantRecord): boolean {
  return caller.scope === 'all_data' || assistant.department === null || assistant.department === (caller.principal.department ?? null)
}

export async function visibleAssistant(conversations: Conversations, caller: Caller, id: string, param = 'id'): Promise<AssistantRecord> {
  const assistant = isId(id, 'asst') ? await conversations.assistants.get(id) : undefined
  if (!assistant || !seesAssistant(caller, assistant)) throw notFound(`No assistant '${id}'.`, 'assistant_not_found', param)
  return assistant
}

/** The owner fields of a new record made by `caller`. */
export const ownerOf = (caller: Caller) => ({ userId: caller.principal.userId, department: caller.principal.department ?? null })
