/**
 * Chat with any model the caller may use (GET /v1/models), through /v1/chat/completions: the
 * answer streams in as it arrives, Markdown with highlighted code, and Stop aborts the request
 * (the gateway aborts the upstream call). Threads, assistants and citations come with the
 * conversations API.
 */
import { useQuery } from '@tanstack/react-query'
import { BotIcon, MessageSquarePlusIcon } from 'lucide-react'
import { useEffect, useRef, useState } from 'react'
import { openai } from '@/api/client'
import type { ModelList } from '@/api/types'
import { ErrorState } from '@/components/states'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Button } from '@/components/ui/button'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { Skeleton } from '@/components/ui/skeleton'
import { Bubble, type ChatTurn } from './bubble'
import { Composer } from './composer'
import { describeFailure } from './failure'
import { streamChat, type ChatMessage } from './stream'

interface Turn extends ChatTurn {
  readonly role: ChatMessage['role']
}

let nextId = 1

export function useModels() {
  return useQuery({ queryKey: ['models'], queryFn: async ({ signal }) => (await openai<ModelList>('/models', { signal })).data.map((m) => m.id) })
}

/** Chat without stored threads (the gateway runs no conversations service): one exchange in the page, through /v1/chat/completions. */
export default function SingleTurnChat() {
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

  const update = (id: string, change: (t: Turn) => Turn) => setTurns((all) => all.map((t) => (t.id === id ? change(t) : t)))

  async function send() {
    const text = draft.trim()
    if (!text || !chosen || running) return
    const history: ChatMessage[] = [...turns.filter((t) => !t.error && t.content).map(({ role, content }) => ({ role, content })), { role: 'user', content: text }]
    const answerId = nextId + 1
    setTurns((all) => [...all, { id: String(nextId), role: 'user', content: text }, { id: String(answerId), role: 'assistant', content: '', streaming: true }])
    nextId += 2
    setDraft('')
    const controller = new AbortController()
    setRunning(controller)
    try {
      await streamChat(chosen, history, { onDelta: (delta) => update(String(answerId), (t) => ({ ...t, content: t.content + delta })) }, controller.signal)
      update(String(answerId), (t) => ({ ...t, streaming: false }))
    } catch (err) {
      if (controller.signal.aborted) update(String(answerId), (t) => ({ ...t, streaming: false, stopped: true }))
      else update(String(answerId), (t) => ({ ...t, streaming: false, error: describeFailure(err) }))
    } finally {
      setRunning(undefined)
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

      <Composer draft={draft} setDraft={setDraft} send={() => void send()} running={running} disabled={!chosen} />
    </div>
  )
}
