/**
 * The context of a turn: the window it must fit (the model's, from the catalog), and the history
 * that fits it, newest kept, oldest dropped whole turns at a time (a reply never without the
 * message it answers, a tool result never without its call), the system instructions never
 * dropped. What happens to the dropped turns is the assistant's policy: gone (`truncate`), or
 * folded into a summary (`summarize`, summary.ts).
 */
import { badRequest, type RouteInfo } from '../../../plugin-api/index.ts'
import type { ContextPolicy, ItemContent, ItemRecord } from '../../contracts/conversations.ts'

export interface Window {
  /** The model's context window, in tokens. */
  readonly tokens: number
  /** Kept free for the answer. */
  readonly reserve: number
}

/**
 * The window of a turn on `route`: its first target's model's context window in the catalog
 * (the route's own name when the target passes the client's model through), else `fallback`;
 * the assistant's policy may lower it, never raise it.
 */
export function contextWindowTokens(
  route: RouteInfo | undefined, model: string, catalogWindow: (model: string) => number | undefined, fallback: number, policy: ContextPolicy | undefined,
): number {
  const window = catalogWindow(route?.targets[0]?.model ?? model) ?? fallback
  return policy?.max_context_tokens ? Math.min(window, policy.max_context_tokens) : window
}

/** Tokens the history may take: the window less the answer's reserve and what is always sent. Throws 400 when that is nothing. */
export function historyBudget(fixedTokens: number, window: Window): number {
  const budget = window.tokens - window.reserve - fixedTokens
  if (budget < 0) {
    throw badRequest(`The instructions and the new input take ${fixedTokens} tokens; with ${window.reserve} kept for the answer they do not fit the model's window of ${window.tokens}.`, 'input', 'context_length_exceeded')
  }
  return budget
}

/**
 * The newest whole turns of `newestFirst` within `budget` tokens, oldest first, and the older
 * items left out (oldest first).
 */
export function newestTurnsWithin(newestFirst: readonly ItemRecord[], budget: number): { kept: ItemRecord[]; dropped: ItemRecord[] } {
  let used = 0
  let count = 0
  for (const item of newestFirst) {
    if (used + item.tokens > budget) break
    used += item.tokens
    count++
  }
  const items = newestFirst.slice(0, count).reverse()
  // Start at a user message: what came before it in the same turn has been cut.
  const start = count < newestFirst.length ? items.findIndex(isUserMessage) : 0
  const kept = start < 0 ? [] : items.slice(start)
  return { kept, dropped: newestFirst.slice(kept.length).reverse() }
}

/**
 * The history items (given newest first, as read) that fit in what the window leaves after the
 * instructions and the new input; oldest first. Throws 400 when the new input alone does not fit.
 */
export function fitHistory(newestFirst: readonly ItemRecord[], fixedTokens: number, window: Window): { items: ItemRecord[]; dropped: number } {
  const { kept, dropped } = newestTurnsWithin(newestFirst, historyBudget(fixedTokens, window))
  return { items: kept, dropped: dropped.length }
}

/** The history that fits (fitHistory); with `truncation: 'disabled'` one that does not fit whole is a 400 rather than cut. */
export function fittedHistory(newestFirst: readonly ItemRecord[], fixedTokens: number, window: Window, truncation: 'auto' | 'disabled' | undefined): ItemRecord[] {
  const { items, dropped } = fitHistory(newestFirst, fixedTokens, window)
  if (dropped > 0 && truncation === 'disabled') {
    throw badRequest(
      `The conversation so far and the new input do not fit the model's window of ${window.tokens} tokens (${window.reserve} kept for the answer): send \`truncation: 'auto'\` to drop its oldest turns, or start a new one.`,
      'input', 'context_length_exceeded',
    )
  }
  return items
}

const isUserMessage = (item: ItemRecord): boolean => item.content.type === 'message' && item.content.role === 'user'

/**
 * Every tool result of the new input answers a call the history (or the input itself) holds. One
 * in the history without its call (cut off by the history bound, or its call deleted from the
 * conversation) is the history's, not this input's fault: it is left out when sent (chatMessages).
 */
export function requireKnownCalls(history: readonly ItemContent[], input: readonly ItemContent[]): void {
  const calls = new Set<string>()
  for (const item of history) if (item.type === 'function_call') calls.add(item.call_id)
  for (const item of input) {
    if (item.type === 'function_call') calls.add(item.call_id)
    if (item.type === 'function_call_output' && !calls.has(item.call_id)) {
      throw badRequest(`No function call with call_id '${item.call_id}' in this conversation.`, 'input', 'unknown_call_id')
    }
  }
}
