/**
 * Chat with any model the caller may use (GET /v1/models), through /v1/chat/completions: the
 * answer streams in as it arrives, Markdown with highlighted code, and Stop aborts the request
 * (the gateway aborts the upstream call). Threads, assistants and citations come with the
 * conversations API.
 */
import { useQuery } from '@tanstack/react-query'
import { ArrowUpIcon, BotIcon, MessageSquarePlusIcon, SquareIcon, UserIcon } from 'lucide-react'
import { Suspense, lazy, memo, useEffect, useRef, useState, type KeyboardEvent } from 'react'
import { openai } from '@/api/client'
import type { ModelList } from '@/api/types'
import { ErrorState } from '@/components/states'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Button } from '@/components/ui/button'
import { Textarea } from '@/components/ui/input'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { Skeleton } from '@/components/ui/skeleton'
import { cn } from '@/lib/utils'
import { streamChat, type ChatMessage } from './stream'

interface Turn extends ChatMessage {
  readonly id: number
  readonly streaming?: boolean
  readonly error?: string
  readonly stopped?: boolean
}

let nextId = 1

// Markdown and highlighting load after the page: until they are here (a few ms), an answer shows as plain text.
const Markdown = lazy(() => import('./markdown'))
const PlainText = ({ text }: { text: string }) => <p className="whitespace-pre-wrap break-words">{text}</p>

function useModels() {
  return useQuery({ queryKey: ['models'], queryFn: async ({ signal }) => (await openai<ModelList>('/models', { signal })).data.map((m) => m.id) })
}

// Memoised: while an answer streams, only its own bubble renders again.
const Bubble = memo(function Bubble({ turn }: { turn: Turn }) {
  const mine = turn.role === 'user'
  return (
    <div className={cn('flex gap-3', mine && 'flex-row-reverse')} data-role={turn.role}>
      <div className={cn('mt-0.5 flex size-8 shrink-0 items-center justify-center rounded-full', mine ? 'bg-primary text-primary-foreground' : 'bg-muted text-muted-foreground')}>
        {mine ? <UserIcon className="size-4" /> : <BotIcon className="size-4" />}
      </div>
      <div className={cn('min-w-0 max-w-[85%] rounded-2xl px-4 py-2.5 text-sm', mine ? 'bg-primary text-primary-foreground' : 'border bg-card shadow-xs')}>
        {mine ? (
          <p className="whitespace-pre-wrap break-words">{turn.content}</p>
        ) : (
          <>
            {turn.content ? (
              // While streaming, a caret follows the last line (index.css: .streaming).
              <div className={turn.streaming ? 'streaming' : undefined}>
                <Suspense fallback={<PlainText text={turn.content} />}><Markdown text={turn.content} /></Suspense>
              </div>
            ) : turn.streaming && <span className="inline-flex gap-1 py-2" aria-label="Waiting for the answer"><Dot /><Dot delay="150ms" /><Dot delay="300ms" /></span>}
            {turn.stopped && <p className="mt-1 text-xs text-muted-foreground">Stopped.</p>}
            {turn.error && <p className="mt-1 text-xs text-destructive">{turn.error}</p>}
          </>
        )}
      </div>
    </div>
  )
})

const Dot = ({ delay = '0ms' }: { delay?: string }) => <span className="size-1.5 animate-bounce rounded-full bg-muted-foreground/60" style={{ animationDelay: delay }} />

export default function ChatPage() {
  const models = useModels()
  const [model, setModel] = useState<string>()
  const [turns, setTurns] = useState<Turn[]>([])
  const [draft, setDraft] = useState('')
  const [running, setRunning] = useState<AbortController>()
  const bottom = useRef<HTMLDivElement>(null)

  const chosen = model ?? models.data?.[0]
  useEffect(() => {
    bottom.current?.scrollIntoView({ block: 'end' })
  }, [turns])

  const update = (id: number, change: (t: Turn) => Turn) => setTurns((all) => all.map((t) => (t.id === id ? change(t) : t)))

  async function send() {
    const text = draft.trim()
    if (!text || !chosen || running) return
    const history: ChatMessage[] = [...turns.filter((t) => !t.error && t.content).map(({ role, content }) => ({ role, content })), { role: 'user', content: text }]
    const answerId = nextId + 1
    setTurns((all) => [...all, { id: nextId, role: 'user', content: text }, { id: answerId, role: 'assistant', content: '', streaming: true }])
    nextId += 2
    setDraft('')
    const controller = new AbortController()
    setRunning(controller)
    try {
      await streamChat(chosen, history, { onDelta: (delta) => update(answerId, (t) => ({ ...t, content: t.content + delta })) }, controller.signal)
      update(answerId, (t) => ({ ...t, streaming: false }))
    } catch (err) {
      if (controller.signal.aborted) update(answerId, (t) => ({ ...t, streaming: false, stopped: true }))
      else update(answerId, (t) => ({ ...t, streaming: false, error: (err as Error).message }))
    } finally {
      setRunning(undefined)
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault()
      void send()
    }
  }

  return (
    <div className="flex h-full flex-col">
      <div className="flex items-center gap-2 border-b bg-card/60 px-4 py-2.5 sm:px-6">
        <h1 className="mr-auto text-base font-semibold">Chat</h1>
        {models.isPending ? (
          <Skeleton className="h-9 w-44" />
        ) : models.data && models.data.length > 0 ? (
          <Select value={chosen} onValueChange={setModel} disabled={!!running}>
            <SelectTrigger className="w-44 sm:w-56" aria-label="Model">
              <SelectValue placeholder="Model" />
            </SelectTrigger>
            <SelectContent>
              {models.data.map((id) => (
                <SelectItem key={id} value={id}>{id}</SelectItem>
              ))}
            </SelectContent>
          </Select>
        ) : null}
        <Button variant="outline" size="icon" aria-label="New chat" title="New chat" disabled={!!running || turns.length === 0} onClick={() => setTurns([])}>
          <MessageSquarePlusIcon />
        </Button>
      </div>

      <div className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto flex max-w-3xl flex-col gap-5 px-4 py-6 sm:px-6">
          {models.isError && <ErrorState error={models.error} retry={() => void models.refetch()} />}
          {models.data?.length === 0 && (
            <Alert variant="warning">
              <AlertDescription>No model is available to you on this gateway: ask an admin to give your role or department a route.</AlertDescription>
            </Alert>
          )}
          {turns.length === 0 && models.data && models.data.length > 0 && (
            <div className="flex flex-col items-center gap-2 py-16 text-center text-muted-foreground">
              <BotIcon className="size-8" />
              <p className="text-sm">Ask anything. Answers stream from <span className="font-medium text-foreground">{chosen}</span> through the gateway.</p>
            </div>
          )}
          {turns.map((turn) => (
            <Bubble key={turn.id} turn={turn} />
          ))}
          <div ref={bottom} />
        </div>
      </div>

      <div className="border-t bg-card/60 px-4 py-3 sm:px-6">
        <form
          className="mx-auto flex max-w-3xl items-end gap-2"
          onSubmit={(e) => {
            e.preventDefault()
            void send()
          }}
        >
          <Textarea
            aria-label="Message"
            placeholder="Message…"
            className="field-sizing-content max-h-48 min-h-11 resize-none"
            rows={1}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={onKeyDown}
            disabled={!chosen}
          />
          {running ? (
            <Button type="button" variant="outline" size="icon" className="size-11" onClick={() => running.abort()} aria-label="Stop">
              <SquareIcon className="fill-current" />
            </Button>
          ) : (
            <Button type="submit" size="icon" className="size-11" disabled={!draft.trim() || !chosen} aria-label="Send">
              <ArrowUpIcon />
            </Button>
          )}
        </form>
        <p className="mx-auto mt-1.5 hidden max-w-3xl text-xs text-muted-foreground sm:block">Enter to send · Shift+Enter for a new line</p>
      </div>
    </div>
  )
}
