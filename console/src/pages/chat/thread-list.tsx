/**
 * The caller's chats beside the conversation (behind a button on a phone): newest activity first,
 * a page at a time ("Show older chats" reaches every one), searched by the gateway by title and by
 * what was said; rename and delete.
 */
import { MessageSquarePlusIcon, MoreHorizontalIcon, PencilIcon, SearchIcon, Trash2Icon } from 'lucide-react'
import { memo, useEffect, useState, type FormEvent } from 'react'
import { useNavigate } from 'react-router'
import type { Thread } from '@/api/types'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { ErrorState, LoadingRows } from '@/components/states'
import { Button } from '@/components/ui/button'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog'
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuTrigger } from '@/components/ui/dropdown-menu'
import { Input } from '@/components/ui/input'
import { formatCountOf, formatRelative } from '@/lib/format'
import { cn } from '@/lib/utils'
import { useAnswering } from './runs'
import { useDeleteThread, useRenameThread, useThreadSearch, useThreads } from './threads'

export const titleOf = (t: Pick<Thread, 'title'>) => t.title ?? 'New chat'
/** How long typing must pause before the thread list is searched. */
const SEARCH_PAUSE_MS = 250

/**
 * When the chat was last active and how many messages it has; while its answer streams (here or
 * in a thread left meanwhile), "answering…": the stored count lags until the answer is kept.
 */
function ThreadMeta({ thread }: { thread: Thread }) {
  const answering = useAnswering(thread.id)
  return (
    <span className="block truncate text-xs text-muted-foreground">
      {formatRelative(thread.last_activity_at)} · {answering ? 'answering…' : formatCountOf(thread.message_count, 'message')}
    </span>
  )
}

// Memoised, like the picker: while an answer streams, only its bubble renders again.
export const ThreadList = memo(function ThreadList({ active, onPick, onNew }: { active: string | undefined; onPick: () => void; onNew: () => void }) {
  const threads = useThreads()
  const all = threads.threads
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
  const found = needle ? searched.data : all

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
      {!!all?.length && (
        <div className="relative">
          <SearchIcon className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground" />
          <Input type="search" aria-label="Search chats" placeholder="Search chats" className="h-8 pl-8" value={query} onChange={(e) => setQuery(e.target.value)} />
        </div>
      )}
      <div className="min-h-0 flex-1 overflow-y-auto" aria-label="Threads" role="list">
        {threads.isPending && <LoadingRows rows={5} />}
        {threads.isError && <ErrorState error={threads.error} retry={() => void threads.refetch()} />}
        {all?.length === 0 && <p className="px-2 py-6 text-center text-sm text-muted-foreground">No chats yet: your conversations are kept here.</p>}
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
              <span className="block truncate text-sm font-medium" title={titleOf(t)}>{titleOf(t)}</span>
              <ThreadMeta thread={t} />
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
        {!needle && threads.hasNextPage && (
          <Button variant="ghost" size="sm" className="my-2 w-full" disabled={threads.isFetchingNextPage} onClick={() => void threads.fetchNextPage()}>
            {threads.isFetchingNextPage ? 'Loading older chats…' : 'Show older chats'}
          </Button>
        )}
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

      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete “${deleting && titleOf(deleting)}”?`}
        action="Delete chat"
        change={remove}
        onConfirm={async () => {
          await remove.mutateAsync(deleting!.id)
          if (deleting!.id === active) navigate('/chat')
        }}
        onClose={() => setDeleting(undefined)}
      >
        The chat and its messages are deleted from the gateway. This cannot be undone.
      </ConfirmDialog>
    </div>
  )
})
