/**
 * Assistants (/api/v1/assistants): a route, instructions, default parameters, function tools,
 * knowledge collections and a department scope (the form: ./editor.tsx). Everyone with `view_assistants` sees the ones they
 * may use and starts a chat with one; `manage_assistants` (department admins within their
 * department, admins everywhere) creates, edits and deletes.
 */
import { BotIcon, MessageSquareIcon, MoreHorizontalIcon, PencilIcon, PlusIcon, Trash2Icon } from 'lucide-react'
import { useState } from 'react'
import { Link } from 'react-router'
import type { Assistant } from '@/api/types'
import { Can, useSession } from '@/auth/session'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { PageHeader } from '@/components/page-header'
import { PageBody } from '@/components/shell'
import { EmptyState, ErrorState, LoadingRows } from '@/components/states'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Card } from '@/components/ui/card'
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuTrigger } from '@/components/ui/dropdown-menu'
import { formatCountOf } from '@/lib/format'
import { AssistantDialog } from './editor'
import { useAssistants, useDeleteAssistant } from './queries'

function ConfirmDelete({ target, onClose }: { target: Assistant | undefined; onClose: () => void }) {
  const remove = useDeleteAssistant()
  return (
    <ConfirmDialog open={target !== undefined} title={`Delete ${target?.name}?`} action="Delete assistant" change={remove} onConfirm={() => remove.mutateAsync(target!.id)} onClose={onClose}>
      Chats with it stay, without its instructions. Code using <code className="font-mono text-xs">assistant/{target?.name}</code> stops working.
    </ConfirmDialog>
  )
}

export default function AssistantsPage() {
  const { me, can } = useSession()
  const assistants = useAssistants()
  const [editing, setEditing] = useState<Assistant>()
  const [creating, setCreating] = useState(false)
  const [deleting, setDeleting] = useState<Assistant>()
  // Department admins manage their department's; a global one is the admins'.
  const manages = (a: Assistant) => can('manage_assistants') && (me.scope === 'all_data' || (a.dept_scope !== null && a.dept_scope === me.department))

  const newButton = (
    <Can permission="manage_assistants">
      <Button onClick={() => setCreating(true)}><PlusIcon /> New assistant</Button>
    </Can>
  )
  return (
    <PageBody>
      <PageHeader title="Assistants" description="A model with instructions, tools and knowledge, for a department or for everyone." actions={newButton} />
      {assistants.isPending && <LoadingRows rows={4} />}
      {assistants.isError && <ErrorState error={assistants.error} retry={() => void assistants.refetch()} service="assistants" />}
      {assistants.data?.length === 0 && (
        <EmptyState icon={<BotIcon />} title="No assistants yet" action={newButton}>
          {can('manage_assistants') ? 'Make one: a model with instructions your team shares.' : 'Your department has none; ask a department admin.'}
        </EmptyState>
      )}
      {assistants.data && assistants.data.length > 0 && (
        <div className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
          {assistants.data.map((a) => (
            <Card key={a.id} className="flex flex-col gap-3 p-4" data-assistant={a.name}>
              <div className="flex items-start gap-3">
                <div className="flex size-9 shrink-0 items-center justify-center rounded-full bg-primary/10 text-primary"><BotIcon className="size-4" /></div>
                <div className="min-w-0 flex-1">
                  <h2 className="truncate font-semibold" title={a.name}>{a.name}</h2>
                  <p className="truncate font-mono text-xs text-muted-foreground">{a.route}</p>
                </div>
                {manages(a) && (
                  <DropdownMenu>
                    <DropdownMenuTrigger asChild>
                      <Button variant="ghost" size="icon" className="size-8" aria-label={`Actions for ${a.name}`}><MoreHorizontalIcon /></Button>
                    </DropdownMenuTrigger>
                    <DropdownMenuContent align="end">
                      <DropdownMenuItem onSelect={() => setEditing(a)}><PencilIcon /> Edit</DropdownMenuItem>
                      <DropdownMenuItem className="text-destructive focus:text-destructive" onSelect={() => setDeleting(a)}><Trash2Icon /> Delete</DropdownMenuItem>
                    </DropdownMenuContent>
                  </DropdownMenu>
                )}
              </div>
              <p className="line-clamp-3 min-h-10 text-sm text-muted-foreground">{a.description ?? a.instructions ?? 'No instructions.'}</p>
              <div className="flex flex-wrap gap-1.5">
                <Badge variant="secondary">{a.dept_scope ?? 'every department'}</Badge>
                {a.tools.length > 0 && <Badge variant="outline">{a.tools.length} tools</Badge>}
                {a.rag_collections.length > 0 && <Badge variant="outline">{formatCountOf(a.rag_collections.length, 'collection')}</Badge>}
              </div>
              <Can permission="chat">
                <Button asChild variant="outline" size="sm" className="mt-auto self-start">
                  <Link to={`/chat?assistant=${encodeURIComponent(a.id)}`}><MessageSquareIcon /> Chat with {a.name}</Link>
                </Button>
              </Can>
            </Card>
          ))}
        </div>
      )}
      <AssistantDialog key={editing?.id ?? 'new'} editing={editing} open={creating || editing !== undefined} onClose={() => { setCreating(false); setEditing(undefined) }} />
      <ConfirmDelete target={deleting} onClose={() => setDeleting(undefined)} />
    </PageBody>
  )
}
