/**
 * The `summarize` context policy: the turns that no longer fit the window are folded into a
 * summary, made by a (cheap) route through the gateway's own pipeline (so it is limited and
 * accounted like any call) and sent after the system instructions. The summary is kept on the
 * thread with the last item it covers; a turn reuses it while the turns after it fit. When they no
 * longer do, the oldest of them are folded in and only the newest half-budget's worth is kept, so
 * a new summary is made every few turns, not every turn. A summary that cannot be made never
 * fails the turn: the history is truncated instead.
 */
import type { ChatMessage, ChatResponse, GatewayCalls, Logger, RoutingFacts } from '../../../plugin-api/index.ts'
import type { ItemRecord } from '../../contracts/conversations.ts'
import { historyBudget, newestTurnsWithin, type Window } from './context.ts'
import type { ThreadSummary } from './data/summaries.ts'
import { itemText, type CountTokens } from './data/items.ts'

export interface SummaryDeps {
  readonly count: CountTokens
  readonly logger: Logger
  /** The thread's kept summary, and keeping a new one. */
  read(threadId: string): Promise<ThreadSummary | undefined>
  save(threadId: string, summary: ThreadSummary): Promise<void>
}

export interface SummaryTurn {
  readonly threadId: string
  /** The thread's newest items, newest first, as read for the turn. */
  readonly newestFirst: readonly ItemRecord[]
  /** Tokens always sent: instructions and the new input. */
  readonly fixedTokens: number
  readonly window: Window
  /** The route that writes summaries. */
  readonly route: string
  /** The longest summary, in tokens. */
  readonly maxTokens: number
  readonly gateway: GatewayCalls
  readonly signal?: AbortSignal
  /** What the summary route's `when:` reads: the turn's own routing facts (its client's headers, its metadata). */
  readonly facts: RoutingFacts
}

/** The summary (null: none yet) and the history after it that fits, oldest first. */
export async function summarizedHistory(turn: SummaryTurn, deps: SummaryDeps): Promise<{ summary: string | null; items: ItemRecord[] }> {
  const budget = historyBudget(turn.fixedTokens, turn.window)
  const kept = await deps.read(turn.threadId)
  const cached = kept && kept.tokens <= budget ? kept : undefined
  const after = cached ? turn.newestFirst.filter((i) => i.seq > cached.throughSeq) : turn.newestFirst
  const afterTokens = after.reduce((sum, i) => sum + i.tokens, 0)
  if (afterTokens + (cached?.tokens ?? 0) <= budget) return { summary: cached?.text ?? null, items: [...after].reverse() }

  const truncated = (): { summary: string | null; items: ItemRecord[] } => ({ summary: cached?.text ?? null, items: newestTurnsWithin(after, budget - (cached?.tokens ?? 0)).kept })
  // Keep the newest turns within half of what the new summary leaves, fold the rest in.
  const { kept: recent, dropped } = newestTurnsWithin(after, Math.max(0, Math.floor((budget - turn.maxTokens) / 2)))
  if (dropped.length === 0) return truncated()
  try {
    const text = await writeSummary(turn, cached?.text ?? null, dropped)
    const summary: ThreadSummary = { text, throughSeq: dropped.at(-1)!.seq, tokens: await deps.count(text) }
    if (summary.tokens > budget) throw new Error(`the summary took ${summary.tokens} tokens, more than the ${budget} the window leaves`)
    await deps.save(turn.threadId, summary)
    return { summary: text, items: recent }
  } catch (err) {
    deps.logger.warn({ err, thread: turn.threadId, route: turn.route }, 'the dropped turns could not be summarised: the history is truncated instead')
    return truncated()
  }
}

async function writeSummary(turn: SummaryTurn, previous: string | null, items: readonly ItemRecord[]): Promise<string> {
  const transcript = items.map((i) => `${speaker(i)}: ${itemText(i.content)}`).join('\n')
  const messages: ChatMessage[] = [
    {
      role: 'system',
      content: `Summarise the earlier part of a conversation for the assistant that continues it. Keep facts, names, numbers, decisions and open questions; leave out pleasantries. Answer with the summary only, in at most ${Math.floor(turn.maxTokens * 0.6)} words.`,
    },
    { role: 'user', content: `${previous ? `The summary so far:\n${previous}\n\nThe turns that follow it:\n` : ''}${transcript}` },
  ]
  const call = await turn.gateway.chat({ model: turn.route, messages, max_tokens: turn.maxTokens }, { signal: turn.signal, thread: turn.threadId, ...turn.facts })
  const text = (call.result as ChatResponse).choices[0]?.message.content?.trim()
  if (!text) throw new Error('the summary route answered no text')
  return text
}

function speaker(item: ItemRecord): string {
  const c = item.content
  if (c.type === 'message') return c.role
  return c.type === 'function_call' ? 'assistant (tool call)' : 'tool'
}

/** The summary as the model gets it: a system message right after the instructions. */
export const summaryMessage = (summary: string): ChatMessage => ({ role: 'system', content: `Summary of the earlier conversation (its turns are not repeated below):\n${summary}` })
