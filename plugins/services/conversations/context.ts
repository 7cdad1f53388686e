/**
 * The context of a turn: the history that fits the window, newest kept, oldest dropped whole
 * turns at a time (a reply never without the message it answers, a tool result never without its
 * call), and the system instructions never dropped.
 */
import { badRequest } from '../../../core/plugins/api.ts'
import type { ItemContent, ItemRecord } from '../../contracts/conversations.ts'

export interface Window {
  /** The model's context window, in tokens. */
  readonly tokens: number
  /** Kept free for the answer. */
  readonly reserve: number
}

/**
 * The history items (given newest first, as read) that fit in what the window leaves after the
 * instructions and the new input; oldest first. Throws 400 when the new input alone does not fit.
 */
export function fitHistory(newestFirst: readonly ItemRecord[], fixedTokens: number, window: Window): { items: ItemRecord[]; dropped: number } {
  const budget = window.tokens - window.reserve - fixedTokens
  if (budget < 0) {
    throw badRequest(`The instructions and the new input take ${fixedTokens} tokens; with ${window.reserve} kept for the answer they do not fit the model's window of ${window.tokens}.`, 'input', 'context_length_exceeded')
  }
  let used = 0
  let kept = 0
  for (const item of newestFirst) {
    if (used + item.tokens > budget) break
    used += item.tokens
    kept++
  }
  const items = newestFirst.slice(0, kept).reverse()
  // Start at a user message: what came before it in the same turn has been cut.
  const start = kept < newestFirst.length ? items.findIndex(isUserMessage) : 0
  const fitted = start < 0 ? [] : items.slice(start)
  return { items: fitted, dropped: newestFirst.length - fitted.length }
}

const isUserMessage = (item: ItemRecord): boolean => item.content.type === 'message' && item.content.role === 'user'

/** Every tool result answers a call the history (or the input itself) holds. */
export function requireKnownCalls(history: readonly ItemContent[], input: readonly ItemContent[]): void {
  const calls = new Set<string>()
  for (const item of [...history, ...input]) {
    if (item.type === 'function_call') calls.add(item.call_id)
    if (item.type === 'function_call_output' && !calls.has(item.call_id)) {
      throw badRequest(`No function call with call_id '${item.call_id}' in this conversation.`, 'input', 'unknown_call_id')
    }
  }
}
