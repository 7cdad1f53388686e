/**
 * Chat in stored threads (/api/v1/chat/threads): the caller's threads beside the conversation
 * (behind a button on a phone); a new thread with a model or an assistant, the model switched
 * mid-chat kept on the thread; answers streamed as they arrive, each in its own thread (another
 * thread can be read and used meanwhile), Markdown with highlighted code, sources of grounded
 * answers, Stop (the gateway keeps what arrived, marked incomplete), knowledge attached to the
 * thread with `#` (knowledge.tsx). A gateway without the
 * conversations services gets the single-exchange chat over /v1/chat/completions instead.
 */
import { useQueryClient } from '@tanstack/react-query'
import { BotIcon, HistoryIcon } from 'lucide-react'
import { Dialog as DialogPrimitive } from 'radix-ui'
import { useCallback, useEffect, useMemo, useState } from 'react'
import { useNavigate, useParams, useSearchParams } from 'react-router'
import { ApiError } from '@/api/client'
import type { ThreadMessage } from '@/api/types'
import { useSession } from '@/auth/session'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { EmptyState, ErrorState, LoadingRows } from '@/components/states'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Button } from '@/components/ui/button'
import { useAssistants } from '../assistants/queries'
import { Bubble, preloadMarkdown, type ChatTurn, type TurnActions } from './bubble'
import { useAttachments, type SentAttachment } from './attachments'
import { Composer } from './composer'
import { useDraft } from './drafts'
import { useExchange, type Rewind, type SendFailure } from './exchange'
import { ToNewest, useFollowScroll, useKeepPlace } from './follow'
import { useChatKnowledge } from './knowledge'
import { Picker, type Pick_ } from './picker'
import { NEW_CHAT, forgetEnded, forgetMadeThread, useMadeThread, useRun } from './runs'
import { SessionEnded } from './session-ended'
import SingleTurnChat, { useModels } from './single'
import { ThreadList, titleOf } from './thread-list'
import { loadEarlier, useCanRewind, useThread, useThreadModel, useThreads } from './threads'

function toTurn(m: ThreadMessage): ChatTurn {
  return {
    id: m.id,
    role: m.role,
    content: m.content ?? '',
    tool: m.type === 'tool_call' && m.tool_call ? `${m.tool_call.name}(${m.tool_call.arguments})` : undefined,
    stopped: m.status === 'incomplete',
    sources: m.sources,
    attachments: m.attachments,
  }
}

/** Shown after a stored question with no answer after it (the model failed, and the question was kept). */
const UNANSWERED: ChatTurn = {
  id: 'unanswered',
  role: 'assistant',
  content: '',
  error: { title: 'This question got no answer: the model failed to answer it. Retry, or pick another model first.' },
}

/** Where the last pick is kept, for the next new chat (this browser only). */
const PICK_KEY = 'console.chat.pick'
function rememberedPick(): Pick_ | undefined {
  try { return localStorage.getItem(PICK_KEY) ?? undefined } catch { return undefined }
}

function ThreadsChat() {
  // Routed as /chat/* : the rest of the path is the thread's id.
  const atAddress = useParams()['*'] || undefined
  // A new chat sent from here is its thread at once, while the router is still on its way there.
  const made = useMadeThread()
  const threadId = atAddress ?? made
  // Once the address changes (there, or anywhere else) or the page closes, the address says which thread.
  useEffect(() => () => forgetMadeThread(), [atAddress])
  const key = threadId ?? NEW_CHAT
  const [search] = useSearchParams()
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const thread = useThread(threadId)
  const models = useModels()
  const { can } = useSession()
  const assistants = useAssistants(can('view_assistants'))
  const setModel = useThreadModel()
  const exchange = useExchange()
  // Without the Conversations API nothing can be taken out of a thread: no Edit or Regenerate then.
  const canRewind = useCanRewind(threadId)
  // This thread's exchange under way or just ended; other threads' go on beside it.
  const { live, controller: running, lastSent } = useRun(key)
  const { draft, setDraft, setFor } = useDraft(key)
  const [picked, setPicked] = useState<Pick_>()
  const [failure, setFailure] = useState<SendFailure>()
  const [listOpen, setListOpen] = useState(false)
  const knowledge = useChatKnowledge(key, threadId ? thread.data : undefined)
  const attachments = useAttachments()

  // A new chat opened from the Assistants page: ?assistant=<id>.
  const preset = search.get('assistant')
  const current = thread.data
  const bound = current?.assistant_id ? `assistant:${current.assistant_id}` : current?.metadata.model ? `model:${current.metadata.model}` : undefined
  // The pick remembered from last time, while this gateway still offers it to the caller (read again
  // when a pick is made or let go: a new chat after a refused first question keeps the model it was asked of).
  const remembered = useMemo(() => {
    const r = rememberedPick()
    if (r?.startsWith('model:')) return models.data?.includes(r.slice('model:'.length)) ? r : undefined
    if (r?.startsWith('assistant:')) return assistants.data?.some((a) => `assistant:${a.id}` === r) ? r : undefined
    return undefined
  }, [models.data, assistants.data, picked])
  const choice = threadId ? picked ?? bound : picked ?? (preset ? `assistant:${preset}` : remembered ?? (models.data?.[0] ? `model:${models.data[0]}` : undefined))
  const pick = useCallback((value: Pick_) => {
    setPicked(value)
    try { localStorage.setItem(PICK_KEY, value) } catch { /* private mode: not remembered */ }
    // A model switched mid-chat is the thread's model from now on (after a reload too).
    if (current && !current.assistant_id && value.startsWith('model:')) setModel.mutate({ thread: current, model: value.slice('model:'.length) })
  }, [current, setModel])

  // Follow the answer as it grows, unless the reader has scrolled up to read something.
  const { scroller, onScroll, away, follow } = useFollowScroll([live, current?.messages.length, threadId])
  // Earlier messages put in front: the message the reader was at stays where it was.
  const keepPlace = useKeepPlace(scroller, current?.messages[0]?.id)
  useEffect(() => {
    setPicked(undefined)
    // A failure said of this chat stays (a new chat's first question refused, its empty thread taken out, is said at the new chat).
    setFailure((f) => (f?.key === key ? f : undefined))
    forgetEnded(key)
    follow()
  }, [key, follow])

  async function run(text: string, rewind: Rewind = undefined, files: readonly SentAttachment[] = []) {
    if (!text || !choice || running) return
    setFailure(undefined)
    follow()
    const failed = await exchange({ threadId, thread: current, choice, text, rewind, canRewind, knowledge: knowledge?.attached, attachments: files })
    if (!failed) return
    setFailure(failed)
    // Not sent: the question is back in the box (unless something new was typed meanwhile), with its files.
    setFor(failed.key, text)
    if (files.length) attachments.restore(files)
  }

  function send() {
    const text = draft.trim()
    if (!text || !choice || running || attachments.uploading || attachments.failed) return
    const files = attachments.ready.map((p): SentAttachment => ({ file_id: p.id!, filename: p.name, kind: p.image ? 'image' : 'file' }))
    setDraft('')
    attachments.clear()
    void run(text, undefined, files)
  }

  const newChat = useCallback(() => {
    // Still at /chat while the new chat's thread was shown: the address does not change, so say it.
    forgetMadeThread()
    navigate('/chat')
    setListOpen(false)
  }, [navigate])
  const closeList = useCallback(() => setListOpen(false), [])
  const notFound = thread.error instanceof ApiError && thread.error.status === 404
  // A question followed by another one got no answer (it failed, and the next was asked): said under it, or it reads as answered by what follows.
  // The model's thinking (a reasoning item) is not a turn of the chat: its reply follows it.
  const stored = useMemo(() => (current?.messages ?? []).filter((m) => m.type !== 'reasoning').map((m, i, all) => ({ ...toTurn(m), unanswered: m.role === 'user' && all[i + 1]?.role === 'user' })), [current?.messages])
  // A question kept without its answer (the model failed): said so, with Retry, also after a reload.
  const unanswered = !running && live.length === 0 && stored.at(-1)?.role === 'user' && canRewind
  const shown = [...stored, ...live, ...(unanswered ? [UNANSWERED] : [])]
  // The last question and the answer after it carry the actions (none while an answer streams).
  const lastQuestion = shown.findLastIndex((t) => t.role === 'user')
  const lastAnswer = shown.length - 1
  const actionsOf = (turn: ChatTurn, index: number): TurnActions | undefined => {
    if (running || lastQuestion < 0) return undefined
    const question = shown[lastQuestion]!.content
    // Regenerated or retried, a question goes again with its files.
    const files = shown[lastQuestion]!.attachments ?? []
    const rewind: Rewind = live.length && lastSent ? { after: lastSent.after } : 'last-question'
    if (index === lastQuestion) return canRewind ? { onEdit: (text) => void run(text, rewind, files) } : undefined
    // An earlier question the gateway kept: edited, it is sent again in its place and the thread is cut there (ChatGPT's edit, without the branches).
    if (turn.role === 'user' && index < lastQuestion && index < stored.length) {
      return canRewind ? { onEdit: (text) => void run(text, { after: stored[index - 1]?.id ?? null }, turn.attachments), editDrops: shown.length - index - 1 } : undefined
    }
    if (index !== lastAnswer || turn.role !== 'assistant') return undefined
    // A Retry rewinds nothing when the gateway kept nothing of the failed exchange, as it does when refused before the answer began.
    if (turn.error) return { onRetry: () => void run(question, rewind, files) }
    return canRewind ? { onRegenerate: () => void run(question, rewind, files) } : undefined
  }
  const list = <ThreadList active={threadId} onPick={closeList} onNew={newChat} />

  return (
    <div className="flex h-full min-h-0">
      <aside className="hidden w-64 shrink-0 border-r bg-card/40 p-3 lg:block">{list}</aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <div className="flex items-center gap-2 border-b bg-card/60 px-4 py-2.5 sm:px-6">
          <DialogPrimitive.Root open={listOpen} onOpenChange={setListOpen}>
            <DialogPrimitive.Trigger asChild>
              <Button variant="ghost" size="icon" className="lg:hidden" aria-label="Chats">
                <HistoryIcon />
              </Button>
            </DialogPrimitive.Trigger>
            <DialogPrimitive.Portal>
              <DialogPrimitive.Overlay className="fixed inset-0 z-50 bg-black/40" />
              <DialogPrimitive.Content className="fixed inset-y-0 left-0 z-50 flex w-80 max-w-[85vw] flex-col border-r bg-card p-3 shadow-lg">
                <DialogPrimitive.Title className="px-1 pb-2 text-sm font-semibold">Chats</DialogPrimitive.Title>
                <DialogPrimitive.Description className="sr-only">Your chats</DialogPrimitive.Description>
                {list}
              </DialogPrimitive.Content>
            </DialogPrimitive.Portal>
          </DialogPrimitive.Root>
          <h1 className="mr-auto min-w-0 truncate text-base font-semibold">{threadId ? (current ? titleOf(current) : ' ') : 'New chat'}</h1>
          {(!threadId || current) && (
            <Picker value={choice} onChange={pick} disabled={!!running || !!current?.assistant_id} />
          )}
        </div>

        <div className="relative min-h-0 flex-1">
        <div ref={scroller} onScroll={onScroll} data-chat-scroll className="h-full overflow-y-auto">
          <div className="mx-auto flex max-w-3xl flex-col gap-5 px-4 py-6 sm:px-6">
            {threadId && thread.isPending && <LoadingRows rows={4} />}
            {notFound && (
              <EmptyState title="No such chat" action={<Button variant="outline" onClick={newChat}>Start a new chat</Button>}>
                It was deleted, or it is not yours.
              </EmptyState>
            )}
            {thread.isError && !notFound && <ErrorState error={thread.error} retry={() => void thread.refetch()} />}
            {models.isError && <ErrorState error={models.error} retry={() => void models.refetch()} />}
            {models.data?.length === 0 && (
              <Alert variant="warning"><AlertDescription>No model is available to you on this gateway: ask an admin to give your role or department a route.</AlertDescription></Alert>
            )}
            {current?.earlier && (
              <Button variant="ghost" size="sm" className="self-center" onClick={() => { keepPlace(); void loadEarlier(queryClient, current.id, current) }}>Load earlier messages</Button>
            )}
            {/* A new chat has no thread to load (its query is disabled, so pending for ever): the hint shows at once. */}
            {shown.length === 0 && !(threadId && thread.isPending) && !notFound && choice && (
              <div className="flex flex-col items-center gap-2 py-16 text-center text-muted-foreground">
                <BotIcon className="size-8" />
                <p className="text-sm">Ask anything. The chat is kept, so you can come back to it.</p>
              </div>
            )}
            {shown.map((turn, i) => <Bubble key={turn.id} turn={turn} actions={actionsOf(turn, i)} />)}
            {failure?.kind === 'session-ended' && <SessionEnded />}
            {failure?.kind === 'failed' && <ApiErrorAlert error={failure.failure.detail ? `${failure.failure.title} ${failure.failure.detail}` : failure.failure.title} />}
          </div>
        </div>
        {away && <ToNewest onClick={follow} />}
        </div>

        <Composer draft={draft} setDraft={setDraft} send={send} running={running} disabled={!choice || notFound} knowledge={threadId && !current ? undefined : knowledge} attachments={attachments} />
      </div>
    </div>
  )
}

export default function ChatPage() {
  useEffect(preloadMarkdown, [])
  const threads = useThreads()
  // No conversations service on this gateway: chat without stored threads.
  if (threads.error instanceof ApiError && threads.error.notEnabled) return <SingleTurnChat />
  return <ThreadsChat />
}
