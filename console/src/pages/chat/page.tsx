/**
 * Chat in stored threads (/api/v1/chat/threads): the caller's threads beside the conversation
 * (behind a button on a phone); a new thread with a model or an assistant; answers streamed as
 * they arrive, Markdown with highlighted code, sources of grounded answers, Stop (the gateway
 * keeps what arrived, marked incomplete); rename and delete. A gateway without the conversations
 * services gets the single-exchange chat over /v1/chat/completions instead.
 */
import { useQueryClient } from '@tanstack/react-query'
import { BotIcon, HistoryIcon, MessageSquarePlusIcon, MoreHorizontalIcon, PencilIcon, SearchIcon, Trash2Icon } from 'lucide-react'
import { Dialog as DialogPrimitive } from 'radix-ui'
import { memo, useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react'
import { useNavigate, useParams, useSearchParams } from 'react-router'
import { ApiError } from '@/api/client'
import type { Thread, ThreadMessage } from '@/api/types'
import { useSession } from '@/auth/session'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { EmptyState, ErrorState, LoadingRows } from '@/components/states'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Button } from '@/components/ui/button'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog'
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuTrigger } from '@/components/ui/dropdown-menu'
import { Input } from '@/components/ui/input'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { Skeleton } from '@/components/ui/skeleton'
import { formatRelative } from '@/lib/format'
import { cn } from '@/lib/utils'
import { useAssistants } from '../assistants/queries'
import { Bubble, type ChatTurn, type TurnActions } from './bubble'
import { Composer } from './composer'
import { describeFailure } from './failure'
import { ToNewest, useFollowScroll } from './follow'
import SingleTurnChat, { useModels } from './single'
import { THREADS_KEY, deleteMessages, useCanRewind, loadEarlier, sendMessage, threadKey, useCreateThread, useDeleteThread, useRenameThread, useThread, useThreadSearch, useThreads, type LoadedThread } from './threads'

const titleOf = (t: Pick<Thread, 'title'>) => t.title ?? 'New chat'
/** How long typing must pause before the thread list is searched. */
const SEARCH_PAUSE_MS = 250

function toTurn(m: ThreadMessage): ChatTurn {
  return {
    id: m.id,
    role: m.role,
    content: m.content ?? '',
    tool: m.type === 'tool_call' && m.tool_call ? `${m.tool_call.name}(${m.tool_call.arguments})` : undefined,
    stopped: m.status === 'incomplete',
    sources: m.sources,
  }
}

/** What answers a thread: `assistant:<id>` or `model:<name>`. */
type Pick_ = string

// Memoised, like the picker: while an answer streams, only its bubble renders again.
const ThreadList = memo(function ThreadList({ active, onPick, onNew }: { active: string | undefined; onPick: () => void; onNew: () => void }) {
  const threads = useThreads()
  const navigate = useNavigate()
  const rename = useRenameThread()
  const remove = useDeleteThread()
  const [renaming, setRenaming] = useState<Thread>()
  const [deleting, setDeleting] = useState<Thread>()
  const [title, setTitle] = useState('')
  const [query, setQuery] = useState('')
  // Searched by the gateway, by title and by what was said, in every thread (not only those loaded), once typing pauses.
  const [needle, setNeedle] = useState('')
  useEffect(() => {
    const timer = setTimeout(() => setNeedle(query.trim()), SEARCH_PAUSE_MS)
    return () => clearTimeout(timer)
  }, [query])
  const searched = useThreadSearch(needle)
  const found = needle ? searched.data : threads.data

  async function submitRename(event: FormEvent) {
    event.preventDefault()
    await rename.mutateAsync({ id: renaming!.id, title: title.trim() || null })
    setRenaming(undefined)
  }

  return (
    <div className="flex h-full min-h-0 flex-col gap-2">
      <Button variant="outline" className="justify-start" onClick={onNew}>
        <MessageSquarePlusIcon /> New chat
      </Button>
      {!!threads.data?.length && (
        <div className="relative">
          <SearchIcon className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground" />
          <Input type="search" aria-label="Search chats" placeholder="Search chats" className="h-8 pl-8" value={query} onChange={(e) => setQuery(e.target.value)} />
        </div>
      )}
      <div className="min-h-0 flex-1 overflow-y-auto" aria-label="Threads" role="list">
        {threads.isPending && <LoadingRows rows={5} />}
        {threads.isError && <ErrorState error={threads.error} retry={() => void threads.refetch()} />}
        {threads.data?.length === 0 && <p className="px-2 py-6 text-center text-sm text-muted-foreground">No chats yet: your conversations are kept here.</p>}
        {needle && searched.isPending && <LoadingRows rows={3} />}
        {needle && searched.isError && <ErrorState error={searched.error} retry={() => void searched.refetch()} />}
        {needle && found?.length === 0 && <p className="px-2 py-6 text-center text-sm text-muted-foreground">No chat matches “{query.trim()}”.</p>}
        {found?.map((t) => (
          <div key={t.id} role="listitem" data-thread-id={t.id} className={cn('group flex items-center rounded-md hover:bg-accent', t.id === active && 'bg-accent')}>
            <button
              type="button"
              className="min-w-0 flex-1 px-3 py-2 text-left"
              aria-current={t.id === active ? 'page' : undefined}
              onClick={() => { navigate(`/chat/${t.id}`); onPick() }}
            >
              <span className="block truncate text-sm font-medium">{titleOf(t)}</span>
              <span className="block truncate text-xs text-muted-foreground">{formatRelative(t.last_activity_at)} · {t.message_count} messages</span>
            </button>
            <DropdownMenu>
              <DropdownMenuTrigger asChild>
                <Button variant="ghost" size="icon" className="mr-1 size-8 shrink-0" aria-label={`Actions for ${titleOf(t)}`}>
                  <MoreHorizontalIcon />
                </Button>
              </DropdownMenuTrigger>
              <DropdownMenuContent align="end">
                <DropdownMenuItem onSelect={() => { setTitle(t.title ?? ''); setRenaming(t) }}><PencilIcon /> Rename</DropdownMenuItem>
                <DropdownMenuItem className="text-destructive focus:text-destructive" onSelect={() => setDeleting(t)}><Trash2Icon /> Delete</DropdownMenuItem>
              </DropdownMenuContent>
            </DropdownMenu>
          </div>
        ))}
      </div>

      <Dialog open={renaming !== undefined} onOpenChange={(open) => { if (!open) { rename.reset(); setRenaming(undefined) } }}>
        <DialogContent>
          <form onSubmit={submitRename} className="grid gap-4">
            <DialogHeader>
              <DialogTitle>Rename chat</DialogTitle>
              <DialogDescription>Empty: the gateway's own title.</DialogDescription>
            </DialogHeader>
            <Input aria-label="Title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} autoFocus />
            <ApiErrorAlert error={rename.error} />
            <DialogFooter>
              <Button type="button" variant="outline" onClick={() => setRenaming(undefined)}>Cancel</Button>
              <Button type="submit" disabled={rename.isPending}>Save</Button>
            </DialogFooter>
          </form>
        </DialogContent>
      </Dialog>

      <Dialog open={deleting !== undefined} onOpenChange={(open) => { if (!open) { remove.reset(); setDeleting(undefined) } }}>
        <DialogContent>
          <DialogHeader>
            <DialogTitle>Delete “{deleting && titleOf(deleting)}”?</DialogTitle>
            <DialogDescription>The chat and its messages are deleted from the gateway. This cannot be undone.</DialogDescription>
          </DialogHeader>
          <ApiErrorAlert error={remove.error} />
          <DialogFooter>
            <Button variant="outline" onClick={() => setDeleting(undefined)}>Cancel</Button>
            <Button
              variant="destructive"
              disabled={remove.isPending}
              onClick={async () => {
                await remove.mutateAsync(deleting!.id)
                if (deleting!.id === active) navigate('/chat')
                setDeleting(undefined)
              }}
            >
              Delete chat
            </Button>
          </DialogFooter>
        </DialogContent>
      </Dialog>
    </div>
  )
})

/** The model or assistant picker: assistants first (their instructions and tools apply), then models. */
const Picker = memo(function Picker({ value, onChange, disabled }: { value: Pick_ | undefined; onChange: (v: Pick_) => void; disabled?: boolean }) {
  const { can } = useSession()
  const models = useModels()
  const assistants = useAssistants(can('view_assistants'))
  if (models.isPending) return <Skeleton className="h-9 w-44" />
  const usable = assistants.data ?? []
  return (
    <Select value={value} onValueChange={onChange} disabled={disabled}>
      <SelectTrigger className="w-44 sm:w-60" aria-label="Model or assistant">
        <SelectValue placeholder="Model or assistant" />
      </SelectTrigger>
      <SelectContent>
        {usable.map((a) => (
          <SelectItem key={a.id} value={`assistant:${a.id}`}>
            <BotIcon className="mr-1 inline size-3.5" />{a.name}
          </SelectItem>
        ))}
        {models.data?.map((id) => (
          <SelectItem key={id} value={`model:${id}`}>{id}</SelectItem>
        ))}
      </SelectContent>
    </Select>
  )
})

/** A new chat's title: its first question's first line, cut at a word near 60 characters. */
function titleFromQuestion(text: string): string {
  const line = text.split('\n').map((l) => l.trim()).find(Boolean)?.replace(/\s+/g, ' ') ?? 'New chat'
  if (line.length <= 60) return line
  const cut = line.slice(0, 60)
  return `${cut.slice(0, cut.lastIndexOf(' ') > 30 ? cut.lastIndexOf(' ') : 60)}…`
}

/** Where the last pick is kept, for the next new chat (this browser only). */
const PICK_KEY = 'console.chat.pick'
function rememberedPick(): Pick_ | undefined {
  try { return localStorage.getItem(PICK_KEY) ?? undefined } catch { return undefined }
}

/** Which stored messages a send takes out first: none, those after a message (a retry), or the last question on (regenerate, edit). */
type Rewind = { readonly after: string | null } | 'last-question' | undefined

function ThreadsChat() {
  // Routed as /chat/* : the rest of the path is the thread's id.
  const threadId = useParams()['*'] || undefined
  const [search] = useSearchParams()
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const thread = useThread(threadId)
  const models = useModels()
  const { can } = useSession()
  const assistants = useAssistants(can('view_assistants'))
  const create = useCreateThread()
  // Without the Conversations API nothing can be taken out of a thread: no Edit or Regenerate then.
  const canRewind = useCanRewind(threadId)
  const [picked, setPicked] = useState<Pick_>()
  const [live, setLive] = useState<ChatTurn[]>([])
  const [draft, setDraft] = useState('')
  const [running, setRunning] = useState<AbortController>()
  const [failure, setFailure] = useState<string>()
  const [listOpen, setListOpen] = useState(false)
  // The question this page sent last and the stored message it followed: while the page shows its
  // own copy of that exchange (stopped, or failed before the gateway kept anything), Retry, Edit and
  // Regenerate rewind to that message, not to the last question stored, which may be an older one.
  const [lastSent, setLastSent] = useState<{ text: string; after: string | null }>()

  // A new chat opened from the Assistants page: ?assistant=<id>.
  const preset = search.get('assistant')
  const current = thread.data
  const bound = current?.assistant_id ? `assistant:${current.assistant_id}` : current?.metadata.model ? `model:${current.metadata.model}` : undefined
  // The pick remembered from last time, while this gateway still offers it to the caller.
  const remembered = useMemo(() => {
    const r = rememberedPick()
    if (r?.startsWith('model:')) return models.data?.includes(r.slice('model:'.length)) ? r : undefined
    if (r?.startsWith('assistant:')) return assistants.data?.some((a) => `assistant:${a.id}` === r) ? r : undefined
    return undefined
  }, [models.data, assistants.data])
  const choice = threadId ? picked ?? bound : picked ?? (preset ? `assistant:${preset}` : remembered ?? (models.data?.[0] ? `model:${models.data[0]}` : undefined))
  const pick = useCallback((value: Pick_) => {
    setPicked(value)
    try { localStorage.setItem(PICK_KEY, value) } catch { /* private mode: not remembered */ }
  }, [])

  // Follow the answer as it grows, unless the reader has scrolled up to read something.
  const { scroller, onScroll, away, follow } = useFollowScroll([live, current?.messages.length, threadId])
  // The thread this page just made: opening it must not clear the exchange under way.
  const madeHere = useRef<string>(undefined)
  useEffect(() => {
    setPicked(undefined)
    setFailure(undefined)
    setLastSent(undefined)
    follow()
    if (threadId === undefined || threadId !== madeHere.current) setLive([])
  }, [threadId])

  const updateLive = (id: string, change: (t: ChatTurn) => ChatTurn) => setLive((all) => all.map((t) => (t.id === id ? change(t) : t)))

  /** Send `text` (after taking out what `rewind` says) and stream the answer into the page. */
  async function run(text: string, rewind: Rewind = undefined) {
    if (!text || !choice || running) return
    setFailure(undefined)
    follow()
    const controller = new AbortController()
    setRunning(controller)
    const [kind, value] = [choice.slice(0, choice.indexOf(':')), choice.slice(choice.indexOf(':') + 1)]
    let id = threadId
    let after: string | null = null
    try {
      // What the page shows of its own (a stopped or failed answer): the gateway's copy takes its place now.
      if (id && (live.length || rewind)) {
        await queryClient.refetchQueries({ queryKey: threadKey(id) })
        setLive([])
      }
      if (id) {
        const messages = queryClient.getQueryData<LoadedThread>(threadKey(id))?.messages ?? []
        const from = rewind === 'last-question' ? messages.findLastIndex((m) => m.role === 'user')
          : rewind ? (rewind.after === null ? 0 : messages.findIndex((m) => m.id === rewind.after) + 1) : -1
        if (from >= 0) await deleteMessages(queryClient, id, messages.slice(from).map((m) => m.id))
        after = queryClient.getQueryData<LoadedThread>(threadKey(id))?.messages.at(-1)?.id ?? null
      }
      if (!id) {
        // Named after its first question, so the list tells chats apart (a gateway with `title_route` renames it after the answer).
        const title = titleFromQuestion(text)
        const made = await create.mutateAsync(kind === 'assistant' ? { assistant_id: value, title } : { metadata: { model: value }, title })
        id = made.id
        madeHere.current = id
        navigate(`/chat/${id}`, { replace: false })
      }
    } catch (err) {
      const { title, detail } = describeFailure(err)
      setFailure(detail ? `${title} ${detail}` : title)
      setRunning(undefined)
      return
    }
    const answerId = `live-answer-${Date.now()}`
    setLive([{ id: `live-user-${Date.now()}`, role: 'user', content: text }, { id: answerId, role: 'assistant', content: '', streaming: true }])
    const threadNow = id
    setLastSent({ text, after })
    try {
      // A thread bound to an assistant answers with the assistant's route; otherwise the model picked.
      const body = kind === 'model' && !(current?.assistant_id) ? { content: text, model: value } : { content: text }
      const kept = await sendMessage(threadNow, body, (delta) => updateLive(answerId, (t) => ({ ...t, content: t.content + delta })), controller.signal)
      // A load of the thread begun before the answer was kept (opening a new thread starts one) would
      // land after it and drop it: cancel that first. The kept messages then replace the live ones in
      // the same render, no flash; with nothing loaded to add them to, load the thread before.
      const key = threadKey(threadNow)
      await queryClient.cancelQueries({ queryKey: key })
      // A load that ended mid-exchange may hold some of the kept messages already.
      const keptIds = new Set(kept.messages.map((m) => m.id))
      if (queryClient.getQueryData<LoadedThread>(key)) queryClient.setQueryData<LoadedThread>(key, (now) => now && { ...now, messages: [...now.messages.filter((m) => !keptIds.has(m.id)), ...kept.messages] })
      else await queryClient.refetchQueries({ queryKey: key })
      setLive([])
    } catch (err) {
      if (controller.signal.aborted) {
        // The gateway keeps what arrived, marked incomplete; until the next message the page shows its own copy.
        updateLive(answerId, (t) => ({ ...t, streaming: false, stopped: true }))
        void queryClient.invalidateQueries({ queryKey: threadKey(threadNow), refetchType: 'none' })
      } else {
        // Retry takes out whatever of it the gateway kept (a failure mid-answer keeps the question) and asks again.
        updateLive(answerId, (t) => ({ ...t, streaming: false, error: describeFailure(err) }))
      }
    } finally {
      setRunning(undefined)
      void queryClient.invalidateQueries({ queryKey: THREADS_KEY })
    }
  }

  function send() {
    const text = draft.trim()
    if (!text || !choice || running) return
    setDraft('')
    void run(text)
  }

  const newChat = useCallback(() => {
    setLive([])
    navigate('/chat')
    setListOpen(false)
  }, [navigate])
  const closeList = useCallback(() => setListOpen(false), [])
  const notFound = thread.error instanceof ApiError && thread.error.status === 404
  const stored = useMemo(() => current?.messages.map(toTurn) ?? [], [current?.messages])
  const shown = [...stored, ...live]
  // The last question and the answer after it carry the actions (none while an answer streams).
  const lastQuestion = shown.findLastIndex((t) => t.role === 'user')
  const lastAnswer = shown.length - 1
  const actionsOf = (turn: ChatTurn, index: number): TurnActions | undefined => {
    if (running || lastQuestion < 0) return undefined
    const question = shown[lastQuestion]!.content
    const rewind: Rewind = live.length && lastSent ? { after: lastSent.after } : 'last-question'
    if (index === lastQuestion) return canRewind ? { onEdit: (text) => void run(text, rewind) } : undefined
    // An earlier question the gateway kept: edited, it is sent again in its place and the thread is cut there (ChatGPT's edit, without the branches).
    if (turn.role === 'user' && index < lastQuestion && index < stored.length) {
      return canRewind ? { onEdit: (text) => void run(text, { after: stored[index - 1]?.id ?? null }), editDrops: shown.length - index - 1 } : undefined
    }
    if (index !== lastAnswer || turn.role !== 'assistant') return undefined
    // A Retry rewinds nothing when the gateway kept nothing of the failed exchange, as it does when refused before the answer began.
    if (turn.error) return { onRetry: () => void run(question, rewind) }
    return canRewind ? { onRegenerate: () => void run(question, rewind) } : undefined
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
              <Button variant="ghost" size="sm" className="self-center" onClick={() => void loadEarlier(queryClient, current.id, current)}>Load earlier messages</Button>
            )}
            {/* A new chat has no thread to load (its query is disabled, so pending for ever): the hint shows at once. */}
            {shown.length === 0 && !(threadId && thread.isPending) && !notFound && choice && (
              <div className="flex flex-col items-center gap-2 py-16 text-center text-muted-foreground">
                <BotIcon className="size-8" />
                <p className="text-sm">Ask anything. The chat is kept, so you can come back to it.</p>
              </div>
            )}
            {shown.map((turn, i) => <Bubble key={turn.id} turn={turn} actions={actionsOf(turn, i)} />)}
            <ApiErrorAlert error={failure} />
          </div>
        </div>
        {away && <ToNewest onClick={follow} />}
        </div>

        <Composer draft={draft} setDraft={setDraft} send={send} running={running} disabled={!choice || notFound} />
      </div>
    </div>
  )
}

export default function ChatPage() {
  const threads = useThreads()
  // No conversations service on this gateway: chat without stored threads.
  if (threads.error instanceof ApiError && threads.error.notEnabled) return <SingleTurnChat />
  return <ThreadsChat />
}
