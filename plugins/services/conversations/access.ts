/**
 * Who sees what. A thread is its owner's; a department admin and an admin reach threads within
 * their scope. A record out of reach is a 404, never a 403: its existence is not confirmed. An
 * assistant is visible to its department (or to all, when it has none) and to admins. Knowledge
 * collections given to an assistant or a thread must be ones the caller sees.
 */
import { badRequest, notFound, type Caller } from '../../../plugin-api/index.ts'
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

/**
 * Collections `given` (a body's `rag_collections`) that the caller does not see (a typo, a deleted
 * one, another's private one) are a 400 naming the first: the answers would be ungrounded without a
 * word. Those `kept` from before stay (one deleted since does not block an edit).
 */
export async function requireSeenCollections(conversations: Conversations, caller: Caller, given: readonly string[] | undefined, kept: readonly string[] = []): Promise<void> {
  const grounding = conversations.grounding()
  const added = (given ?? []).filter((id) => !kept.includes(id))
  if (!grounding?.unseen || added.length === 0) return
  const [unseen] = await grounding.unseen(added, caller)
  if (unseen !== undefined) throw badRequest(`No knowledge collection '${unseen}' that you can see: give its id (the Knowledge page lists them).`, `rag_collections[${given!.indexOf(unseen)}]`, 'unknown_collection')
}
