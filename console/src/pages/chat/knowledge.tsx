/**
 * Knowledge attached to a chat (the thread's `rag_collections`): every question of the thread is
 * answered from those collections, with citations, as an assistant's attached collections ground
 * it. Picked with `#` in the message box (a list of the collections the caller sees, filtered by
 * what follows the `#`: arrows move, Enter or Tab picks, Escape closes) or with the Attach
 * knowledge button; shown as chips over the box, each removable. A new chat holds its pick until
 * its thread is made with it; a thread keeps it (PATCH), so a reopened thread is still grounded.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { LibraryIcon, XIcon } from 'lucide-react'
import { useEffect, useId, useMemo, useState, type KeyboardEvent, type ReactNode } from 'react'
import { ApiError, api } from '@/api/client'
import type { Collection } from '@/api/types'
import { Button } from '@/components/ui/button'
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuLabel, DropdownMenuTrigger } from '@/components/ui/dropdown-menu'
import { cn } from '@/lib/utils'
import { COLLECTIONS } from '../knowledge/queries'
import { threadKey, type LoadedThread } from './threads'

/** What the message box needs to attach knowledge; absent where the gateway has none to offer. */
export interface ChatKnowledge {
  /** The collections the caller sees. */
  readonly collections: readonly Collection[]
  /** Ids attached, in the order picked. */
  readonly attached: readonly string[]
  attach(id: string): void
  detach(id: string): void
}

/**
 * The knowledge of the chat shown (`thread`; undefined: a new chat, whose pick is held here until it
 * is sent). Undefined when the gateway has no knowledge service or the caller sees no collection.
 */
export function useChatKnowledge(chatKey: string, thread: LoadedThread | undefined): ChatKnowledge | undefined {
  const queryClient = useQueryClient()
  const collections = useQuery({
    queryKey: COLLECTIONS,
    queryFn: async ({ signal }) => (await api('/rag/collections', { query: { limit: 200 }, signal })).data,
    // No knowledge service on this gateway (or not for this caller): the chat simply offers none.
    retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
  })
  const [pending, setPending] = useState<readonly string[]>([])
  // Another chat opened: a new chat's pick does not follow it there.
  useEffect(() => setPending([]), [chatKey])
  const change = useMutation({
    mutationFn: async ({ id, ragCollections }: { id: string; ragCollections: string[] }) =>
      (await api('/chat/threads/{id}', { params: { id }, method: 'PATCH', body: { rag_collections: ragCollections } })).data,
    onMutate: ({ id, ragCollections }) => {
      queryClient.setQueryData<LoadedThread>(threadKey(id), (now) => now && { ...now, rag_collections: ragCollections })
    },
    onSettled: (_, __, { id }) => void queryClient.invalidateQueries({ queryKey: threadKey(id) }),
  })
  const attached = thread ? thread.rag_collections : pending
  return useMemo(() => {
    if (!collections.data?.length && !attached.length) return undefined
    const set = (next: string[]) => (thread ? change.mutate({ id: thread.id, ragCollections: next }) : setPending(next))
    return {
      collections: collections.data ?? [],
      attached,
      attach: (id) => { if (!attached.includes(id)) set([...attached, id]) },
      detach: (id) => set(attached.filter((a) => a !== id)),
    }
    // `change.mutate` is stable; the rest is what the value is made of.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [collections.data, attached, thread?.id])
}

const nameOf = (knowledge: ChatKnowledge, id: string) => knowledge.collections.find((c) => c.id === id)?.name

/** The attached collections as chips, each with its remove button. */
export function KnowledgeChips({ knowledge }: { knowledge: ChatKnowledge }) {
  if (!knowledge.attached.length) return null
  return (
    <ul className="mx-auto mb-2 flex max-w-3xl flex-wrap gap-1.5" aria-label="Attached knowledge">
      {knowledge.attached.map((id) => {
        const name = nameOf(knowledge, id)
        return (
          <li key={id} data-knowledge-chip={name ?? id} className="flex max-w-full items-center gap-1 rounded-full border bg-secondary py-0.5 pr-0.5 pl-2.5 text-sm text-secondary-foreground">
            <LibraryIcon className="size-3.5 shrink-0" aria-hidden />
            <span className={cn('truncate', !name && 'text-muted-foreground italic')} title={name ?? id}>{name ?? 'Unavailable collection'}</span>
            <button
              type="button"
              className="flex size-7 shrink-0 items-center justify-center rounded-full hover:bg-background focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none"
              aria-label={`Remove ${name ?? 'unavailable collection'}`}
              onClick={() => knowledge.detach(id)}
            >
              <XIcon className="size-3.5" />
            </button>
          </li>
        )
      })}
    </ul>
  )
}

/** The button that lists the collections not attached yet (keyboard: Enter opens, arrows move, Enter picks). */
export function AttachKnowledge({ knowledge, disabled }: { knowledge: ChatKnowledge; disabled?: boolean }) {
  const free = knowledge.collections.filter((c) => !knowledge.attached.includes(c.id))
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button type="button" variant="outline" size="icon" className="size-11 shrink-0" aria-label="Attach knowledge" disabled={disabled}>
          <LibraryIcon />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="start" className="max-h-72 max-w-[min(20rem,90vw)] overflow-y-auto">
        <DropdownMenuLabel className="text-xs text-muted-foreground">Answer from… (or type # in the message)</DropdownMenuLabel>
        {free.length === 0 && <DropdownMenuLabel className="text-sm">Every collection you can see is attached.</DropdownMenuLabel>}
        {free.map((c) => (
          <DropdownMenuItem key={c.id} onSelect={() => knowledge.attach(c.id)} data-knowledge-option={c.name}>
            <LibraryIcon /><span className="truncate">{c.name}</span>
          </DropdownMenuItem>
        ))}
      </DropdownMenuContent>
    </DropdownMenu>
  )
}

/** A `#word` being typed at the caret: where it starts and the word. */
function hashAt(text: string, caret: number): { start: number; query: string } | undefined {
  const m = /(^|\s)#([^\s#]*)$/.exec(text.slice(0, caret))
  return m ? { start: m.index + m[1]!.length, query: m[2]! } : undefined
}

/**
 * The `#` picker of the message box (the WAI-ARIA combobox pattern on the textarea): `listbox` to
 * render over the box, the props the textarea takes, and `onKeyDown`, which answers whether it
 * used the key (then the box must not send).
 */
export function useHashPicker(knowledge: ChatKnowledge | undefined, draft: string, setDraft: (text: string) => void, box: { current: HTMLTextAreaElement | null }) {
  const id = useId()
  const [caret, setCaret] = useState(0)
  const [active, setActive] = useState(0)
  const [dismissed, setDismissed] = useState<number>()
  const typed = knowledge ? hashAt(draft, caret) : undefined
  const options = useMemo(() => {
    if (!knowledge || !typed) return []
    const q = typed.query.toLowerCase()
    return knowledge.collections.filter((c) => !knowledge.attached.includes(c.id) && c.name.toLowerCase().includes(q)).slice(0, 8)
  }, [knowledge, typed?.query])
  const open = !!typed && dismissed !== typed.start && options.length > 0
  useEffect(() => setActive(0), [typed?.query, typed?.start])
  // Escape closes the list for the `#word` being typed; the next `#` opens it again.
  const typing = typed !== undefined
  useEffect(() => { if (!typing) setDismissed(undefined) }, [typing])

  function pick(c: Collection) {
    if (!typed || !knowledge) return
    knowledge.attach(c.id)
    // The `#word` goes: the collection is a chip now, not words of the question.
    const rest = draft.slice(caret).replace(/^ /, '')
    const before = draft.slice(0, typed.start)
    setDraft(before + rest)
    requestAnimationFrame(() => box.current?.setSelectionRange(before.length, before.length))
    setCaret(before.length)
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>): boolean {
    if (!open) return false
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault()
      setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length)
      return true
    }
    if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') {
      e.preventDefault()
      pick(options[Math.min(active, options.length - 1)]!)
      return true
    }
    if (e.key === 'Escape') {
      e.preventDefault()
      setDismissed(typed!.start)
      return true
    }
    return false
  }

  const optionId = (i: number) => `${id}-option-${i}`
  const listbox: ReactNode = open && (
    <ul id={`${id}-list`} role="listbox" aria-label="Knowledge collections" className="absolute bottom-full left-0 z-40 mb-2 max-h-64 w-72 max-w-full overflow-y-auto rounded-md border bg-popover p-1 text-popover-foreground shadow-md">
      {options.map((c, i) => (
        <li
          key={c.id}
          id={optionId(i)}
          role="option"
          aria-selected={i === active}
          data-knowledge-option={c.name}
          className={cn('flex cursor-default items-center gap-2 rounded-sm px-2 py-1.5 text-sm', i === active && 'bg-accent text-accent-foreground')}
          // Picked before the box loses the focus.
          onMouseDown={(e) => { e.preventDefault(); pick(c) }}
        >
          <LibraryIcon className="size-4 shrink-0" aria-hidden /><span className="truncate">{c.name}</span>
        </li>
      ))}
    </ul>
  )
  const track = (e: { currentTarget: HTMLTextAreaElement }) => setCaret(e.currentTarget.selectionStart)
  const boxProps = knowledge ? {
    role: 'combobox' as const,
    'aria-autocomplete': 'list' as const,
    'aria-expanded': open,
    'aria-controls': open ? `${id}-list` : undefined,
    'aria-activedescendant': open ? optionId(active) : undefined,
    onSelect: track,
    onKeyUp: track,
    onClick: track,
  } : {}
  return { listbox, boxProps, onKeyDown, track }
}
