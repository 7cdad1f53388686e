/**
 * Chat with any model the caller may use (GET /v1/models), through /v1/chat/completions: the
 * answer streams in as it arrives, Markdown with highlighted code, and Stop aborts the request
 * (the gateway aborts the upstream call); the last question can be edited and its answer
 * regenerated or, failed, retried (the history is the page's own). Threads, assistants and
 * citations come with the conversations API.
 */
import { useQuery } from '@tanstack/react-query'
import { BotIcon, MessageSquarePlusIcon } from 'lucide-react'
import { useState } from 'react'
import { openai } from '@/api/client'
import type { ModelList } from '@/api/types'
import { ErrorState } from '@/components/states'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Button } from '@/components/ui/button'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { Skeleton } from '@/components/ui/skeleton'
import { Bubble, type ChatTurn, type TurnActions } from './bubble'
import { Composer } from './composer'
import { describeFailure } from './failure'
import { ToNewest, useFollowScroll } from './follow'
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
  const { scroller, onScroll, away, follow } = useFollowScroll([turns])

  const chosen = model ?? models.data?.[0]

  const update = (id: string, change: (t: Turn) => Turn) => setTurns((all) => all.map((t) => (t.id === id ? change(t) : t)))

  /** Ask `text` after the turns `before` (all of them for a new question; fewer to edit or regenerate the last). */
  async function run(text: string, before: readonly Turn[]) {
    if (!text || !chosen || running) return
    follow()
    const history: ChatMessage[] = [...before.filter((t) => !t.error && t.content).map(({ role, content }) => ({ role, content })), { role: 'user', content: text }]
    const answerId = nextId + 1
    setTurns([...before, { id: String(nextId), role: 'user', content: text }, { id: String(answerId), role: 'assistant', content: '', streaming: true }])
    nextId += 2
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

  function send() {
    const text = draft.trim()
    if (!text || !chosen || running) return
    setDraft('')
    void run(text, turns)
  }

  const lastQuestion = turns.findLastIndex((t) => t.role === 'user')
  const actionsOf = (turn: Turn, index: number): TurnActions | undefined => {
    if (running || lastQuestion < 0) return undefined
    const before = turns.slice(0, lastQuestion)
    if (index === lastQuestion) return { onEdit: (text) => void run(text, before) }
    if (index !== turns.length - 1 || turn.role !== 'assistant') return undefined
    const again = () => void run(turns[lastQuestion]!.content, before)
    return turn.error ? { onRetry: again } : { onRegenerate: again }
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

      <div className="relative min-h-0 flex-1">
      <div ref={scroller} onScroll={onScroll} data-chat-scroll className="h-full overflow-y-auto">
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
          {turns.map((turn, i) => (
            <Bubble key={turn.id} turn={turn} actions={actionsOf(turn, i)} />
          ))}
        </div>
      </div>
      {away && <ToNewest onClick={follow} />}
      </div>

      <Composer draft={draft} setDraft={setDraft} send={send} running={running} disabled={!chosen} />
    </div>
  )
}
