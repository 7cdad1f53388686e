/**
 * Sending a question in a thread and streaming its answer into that thread's run (runs.ts): the
 * thread made first for a new chat, what a retry, regenerate or edit takes out taken out, the
 * answer kept by the gateway put in the page's cache in place of the live copy. Each exchange
 * belongs to its thread: the page may show another thread meanwhile.
 */
import { useQueryClient } from '@tanstack/react-query'
import { useNavigate } from 'react-router'
import { ApiError } from '@/api/client'
import type { Thread } from '@/api/types'
import { describeFailure, type Failure } from './failure'
import { NEW_CHAT, forgetMadeThread, moveNewChat, runOf, updateRun, updateTurn } from './runs'
import type { SentAttachment } from './attachments'
import { THREADS_KEY, deleteMessages, dropEmptyThread, keepQuestion, sendMessage, threadKey, useCreateThread, type LoadedThread } from './threads'

/** Which stored messages a send takes out first: none, those after a message (a retry), or the last question on (regenerate, edit). */
export type Rewind = { readonly after: string | null } | 'last-question' | undefined

/** What the page is told of a send that did not get as far as a question in a thread. */
export type SendFailure = ({ readonly kind: 'session-ended' } | { readonly kind: 'failed'; readonly failure: Failure }) & {
  /** The thread whose box the question goes back to ('' for a new chat). */
  readonly key: string
}

export interface Exchange {
  /** The thread to send in (undefined: a new chat, made first); what answers it (`model:<name>` or `assistant:<id>`). */
  readonly threadId: string | undefined
  readonly thread: Thread | undefined
  readonly choice: string
  readonly text: string
  readonly rewind?: Rewind
  /** Whether this gateway can add and take out a thread's messages (its Conversations API). */
  readonly canRewind: boolean
  /** Knowledge picked for a new chat: its thread is made with it. */
  readonly knowledge?: readonly string[]
  /** Uploaded files sent with the question. */
  readonly attachments?: readonly SentAttachment[]
}

/** A line as a title shows it: without its Markdown marks (heading, quote or list marker, bold, strikethrough, code ticks; `__` stays: `__init__`). */
const plainLine = (line: string) => line.trim().replace(/^(#{1,6}|>|[-*+]|\d+[.)])\s+/, '').replace(/\*\*|~~|`/g, '').trim()

/** A new chat's title: its first question's first line of text (not a code fence), plain, cut at a word near 60 characters. */
export function titleFromQuestion(text: string): string {
  const line = text.split('\n').filter((l) => !l.trim().startsWith('```')).map(plainLine).find(Boolean)?.replace(/\s+/g, ' ') ?? 'New chat'
  if (line.length <= 60) return line
  const cut = line.slice(0, 60)
  return `${cut.slice(0, cut.lastIndexOf(' ') > 30 ? cut.lastIndexOf(' ') : 60)}…`
}

const sessionEnded = (err: unknown) => err instanceof ApiError && err.status === 401

/**
 * `send(exchange)` runs one exchange; it resolves with what the page must say when the question
 * did not make it into a thread (the page then puts it back in the box), undefined otherwise.
 */
export function useExchange(): (exchange: Exchange) => Promise<SendFailure | undefined> {
  const queryClient = useQueryClient()
  const navigate = useNavigate()
  const create = useCreateThread()

  return async function send({ threadId, thread, choice, text, rewind, canRewind, knowledge, attachments = [] }) {
    let key = threadId ?? NEW_CHAT
    if (runOf(key).controller) return undefined
    const controller = new AbortController()
    updateRun(key, (run) => ({ ...run, controller }))
    const [kind, value] = [choice.slice(0, choice.indexOf(':')), choice.slice(choice.indexOf(':') + 1)]
    let id = threadId
    let after: string | null = null
    try {
      // What the page shows of its own (a stopped or failed answer): the gateway's copy takes its place now.
      if (id && (runOf(key).live.length || rewind)) {
        await queryClient.refetchQueries({ queryKey: threadKey(id) })
        updateRun(key, (run) => ({ ...run, live: [] }))
      }
      if (id) {
        const messages = queryClient.getQueryData<LoadedThread>(threadKey(id))?.messages ?? []
        const from = rewind === 'last-question' ? messages.findLastIndex((m) => m.role === 'user')
          : rewind ? (rewind.after === null ? 0 : messages.findIndex((m) => m.id === rewind.after) + 1) : -1
        if (from >= 0) await deleteMessages(queryClient, id, messages.slice(from).map((m) => m.id))
        after = queryClient.getQueryData<LoadedThread>(threadKey(id))?.messages.at(-1)?.id ?? null
      } else {
        // Named after its first question, so the list tells chats apart (a gateway with `title_route` renames it after the answer).
        const title = titleFromQuestion(text)
        const grounded = knowledge?.length ? { rag_collections: [...knowledge] } : {}
        const made = await create.mutateAsync(kind === 'assistant' ? { assistant_id: value, title, ...grounded } : { metadata: { model: value }, title, ...grounded })
        id = made.id
        moveNewChat(id)
        key = id
        navigate(`/chat/${id}`)
      }
    } catch (err) {
      updateRun(key, (run) => ({ ...run, controller: undefined }))
      return sessionEnded(err) ? { kind: 'session-ended', key } : { kind: 'failed', failure: describeFailure(err), key }
    }
    const threadNow = id
    const answerId = `live-answer-${Date.now()}`
    updateRun(key, (run) => ({
      ...run,
      live: [{ id: `live-user-${Date.now()}`, role: 'user', content: text, ...(attachments.length ? { attachments } : {}) }, { id: answerId, role: 'assistant', content: '', streaming: true }],
      lastSent: { text, after },
    }))
    try {
      // A thread bound to an assistant answers with the assistant's route; otherwise the model picked.
      const files = attachments.length ? { attachments: attachments.map((a) => ({ file_id: a.file_id })) } : {}
      const body = kind === 'model' && !thread?.assistant_id ? { content: text, model: value, ...files } : { content: text, ...files }
      const kept = await sendMessage(threadNow, body, (delta) => updateTurn(key, answerId, (t) => ({ ...t, content: t.content + delta })), controller.signal)
      // A load of the thread begun before the answer was kept (opening a new thread starts one) would
      // land after it and drop it: cancel that first. The kept messages then replace the live ones in
      // the same render, no flash; with nothing loaded to add them to, load the thread before.
      const cacheKey = threadKey(threadNow)
      await queryClient.cancelQueries({ queryKey: cacheKey })
      // A load that ended mid-exchange may hold some of the kept messages already.
      const keptIds = new Set(kept.messages.map((m) => m.id))
      if (queryClient.getQueryData<LoadedThread>(cacheKey)) queryClient.setQueryData<LoadedThread>(cacheKey, (now) => now && { ...now, messages: [...now.messages.filter((m) => !keptIds.has(m.id)), ...kept.messages] })
      else await queryClient.refetchQueries({ queryKey: cacheKey })
      updateRun(key, (run) => ({ ...run, live: [] }))
    } catch (err) {
      if (controller.signal.aborted) {
        // The gateway keeps what arrived, marked incomplete; until the next message the page shows its own copy.
        updateTurn(key, answerId, (t) => ({ ...t, streaming: false, stopped: true }))
        void queryClient.invalidateQueries({ queryKey: threadKey(threadNow), refetchType: 'none' })
      } else if (sessionEnded(err)) {
        // Nothing was sent: the question goes back to the box, for after signing in again.
        updateRun(key, (run) => ({ ...run, live: [] }))
        return { kind: 'session-ended', key }
      } else {
        // Refused before the answer began (an HTTP error, not one mid-stream), the gateway kept nothing
        // of the exchange: the question is kept in the thread, so a reload shows it (unanswered, with
        // Retry) and not an empty chat. Retry takes out whatever of it was kept and asks again.
        const refused = err instanceof ApiError && err.status !== 0
        const kept = canRewind && refused && await keepQuestion(queryClient, threadNow, text)
        // Not kept (no Conversations API here) in the chat made for it: that chat would stay in the list
        // empty, and open empty after a reload. It is taken out again, and the page is back at a new chat
        // with the question in the box and why it failed, as when the chat could not be made at all.
        if (!threadId && refused && !kept && await dropEmptyThread(queryClient, threadNow)) {
          updateRun(key, (run) => ({ ...run, live: [] }))
          forgetMadeThread()
          navigate('/chat', { replace: true })
          return { kind: 'failed', failure: describeFailure(err), key: NEW_CHAT }
        }
        updateTurn(key, answerId, (t) => ({ ...t, streaming: false, error: describeFailure(err) }))
      }
    } finally {
      updateRun(key, (run) => ({ ...run, controller: undefined }))
      void queryClient.invalidateQueries({ queryKey: THREADS_KEY })
    }
    return undefined
  }
}
