/**
 * Assistants (/api/v1/assistants): a route, instructions, default parameters, function tools,
 * knowledge collections and a department scope. Everyone with `view_assistants` sees the ones they
 * may use and starts a chat with one; `manage_assistants` (department admins within their
 * department, admins everywhere) creates, edits and deletes.
 */
import { BotIcon, MessageSquareIcon, MoreHorizontalIcon, PencilIcon, PlusIcon, Trash2Icon } from 'lucide-react'
import { useState, type FormEvent } from 'react'
import { Link } from 'react-router'
import { ApiError } from '@/api/client'
import type { Assistant, AssistantInput } from '@/api/types'
import { Can, useSession } from '@/auth/session'
import { PageHeader } from '@/components/page-header'
import { PageBody } from '@/components/shell'
import { EmptyState, ErrorState, LoadingRows } from '@/components/states'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Card } from '@/components/ui/card'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog'
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuTrigger } from '@/components/ui/dropdown-menu'
import { Input, Textarea } from '@/components/ui/input'
import { Label } from '@/components/ui/label'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { useModels } from '../chat/single'
import { useAssistants, useCreateAssistant, useDeleteAssistant, useUpdateAssistant, } from './queries'

const EVERY_DEPARTMENT = '__all__'

interface Draft {
  name: string
  description: string
  route: string
  instructions: string
  temperature: string
  max_tokens: string
  dept_scope: string
  tools: string
  rag_collections: string
}

function draftOf(a: Assistant | undefined, department: string | null): Draft {
  return {
    name: a?.name ?? '',
    description: a?.description ?? '',
    route: a?.route ?? '',
    instructions: a?.instructions ?? '',
    temperature: a?.params.temperature?.toString() ?? '',
    max_tokens: a?.params.max_tokens?.toString() ?? '',
    dept_scope: a ? a.dept_scope ?? EVERY_DEPARTMENT : department ?? EVERY_DEPARTMENT,
    tools: a && a.tools.length ? JSON.stringify(a.tools, null, 2) : '',
    rag_collections: a?.rag_collections.join(', ') ?? '',
  }
}

/** The form as the API's fields; a mistake the API would refuse anyway is said here, by field. */
function inputOf(d: Draft): AssistantInput | { error: string } {
  let tools: AssistantInput['tools'] = []
  if (d.tools.trim()) {
    try {
      tools = JSON.parse(d.tools) as AssistantInput['tools']
      if (!Array.isArray(tools)) return { error: 'Tools: a JSON list of {"type": "function", "function": {...}}.' }
    } catch (err) {
      return { error: `Tools: not JSON (${(err as Error).message}).` }
    }
  }
  const params: Record<string, number> = {}
  if (d.temperature.trim()) params.temperature = Number(d.temperature)
  if (d.max_tokens.trim()) params.max_tokens = Number(d.max_tokens)
  return {
    name: d.name.trim(),
    description: d.description.trim() || null,
    route: d.route,
    instructions: d.instructions.trim() || null,
    params,
    dept_scope: d.dept_scope === EVERY_DEPARTMENT ? null : d.dept_scope,
    tools,
    rag_collections: d.rag_collections.split(',').map((s) => s.trim()).filter(Boolean),
  }
}

function AssistantDialog({ editing, open, onClose }: { editing: Assistant | undefined; open: boolean; onClose: () => void }) {
  const { me } = useSession()
  const models = useModels()
  const create = useCreateAssistant()
  const update = useUpdateAssistant()
  const [draft, setDraft] = useState<Draft>(() => draftOf(editing, me.department))
  const [problem, setProblem] = useState<string>()
  const saving = create.isPending || update.isPending
  const error = (create.error ?? update.error) as ApiError | Error | null
  const set = (key: keyof Draft) => (value: string) => setDraft((d) => ({ ...d, [key]: value }))

  async function submit(event: FormEvent) {
    event.preventDefault()
    const input = inputOf(draft)
    if ('error' in input) return setProblem(input.error)
    setProblem(undefined)
    if (editing) await update.mutateAsync({ id: editing.id, ...input })
    else await create.mutateAsync(input)
    onClose()
  }

  // Only an all-data role may make an assistant for every department; a department admin's is their department's.
  const departments = [...new Set([me.department, editing?.dept_scope].filter((d): d is string => !!d))]
  return (
    <Dialog open={open} onOpenChange={(next) => { if (!next) { create.reset(); update.reset(); onClose() } }}>
      <DialogContent className="max-w-2xl" onOpenAutoFocus={() => { setDraft(draftOf(editing, me.department)); setProblem(undefined) }}>
        <form onSubmit={submit} className="grid gap-4">
          <DialogHeader>
            <DialogTitle>{editing ? `Edit ${editing.name}` : 'New assistant'}</DialogTitle>
            <DialogDescription>Its instructions and tools apply to every chat with it; use it from code as <code className="font-mono text-xs">model: "assistant/{draft.name || 'name'}"</code>.</DialogDescription>
          </DialogHeader>
          <div className="grid gap-4 sm:grid-cols-2">
            <div className="grid gap-2">
              <Label htmlFor="asst-name">Name</Label>
              <Input id="asst-name" value={draft.name} onChange={(e) => set('name')(e.target.value)} required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,63}" placeholder="e.g. support-bot" />
            </div>
            <div className="grid gap-2">
              <Label htmlFor="asst-route">Model</Label>
              <Select value={draft.route} onValueChange={set('route')}>
                <SelectTrigger id="asst-route"><SelectValue placeholder={models.isPending ? 'Loading…' : 'Choose a model'} /></SelectTrigger>
                <SelectContent>
                  {[...new Set([...(models.data ?? []), ...(draft.route ? [draft.route] : [])])].map((id) => <SelectItem key={id} value={id}>{id}</SelectItem>)}
                </SelectContent>
              </Select>
            </div>
          </div>
          <div className="grid gap-2">
            <Label htmlFor="asst-description">Description <span className="font-normal text-muted-foreground">(optional)</span></Label>
            <Input id="asst-description" value={draft.description} onChange={(e) => set('description')(e.target.value)} maxLength={1000} />
          </div>
          <div className="grid gap-2">
            <Label htmlFor="asst-instructions">Instructions</Label>
            <Textarea id="asst-instructions" rows={5} value={draft.instructions} onChange={(e) => set('instructions')(e.target.value)} placeholder="You answer questions about…" />
          </div>
          <div className="grid gap-4 sm:grid-cols-3">
            <div className="grid gap-2">
              <Label htmlFor="asst-temperature">Temperature</Label>
              <Input id="asst-temperature" type="number" min={0} max={2} step={0.1} value={draft.temperature} onChange={(e) => set('temperature')(e.target.value)} placeholder="model's" />
            </div>
            <div className="grid gap-2">
              <Label htmlFor="asst-max-tokens">Max tokens</Label>
              <Input id="asst-max-tokens" type="number" min={1} value={draft.max_tokens} onChange={(e) => set('max_tokens')(e.target.value)} placeholder="model's" />
            </div>
            <div className="grid gap-2">
              <Label htmlFor="asst-dept">Department</Label>
              <Select value={draft.dept_scope} onValueChange={set('dept_scope')}>
                <SelectTrigger id="asst-dept"><SelectValue /></SelectTrigger>
                <SelectContent>
                  {me.scope === 'all_data' && <SelectItem value={EVERY_DEPARTMENT}>every department</SelectItem>}
                  {departments.map((d) => <SelectItem key={d} value={d}>{d}</SelectItem>)}
                </SelectContent>
              </Select>
            </div>
          </div>
          <div className="grid gap-2">
            <Label htmlFor="asst-collections">Knowledge collections <span className="font-normal text-muted-foreground">(ids, comma-separated)</span></Label>
            <Input id="asst-collections" value={draft.rag_collections} onChange={(e) => set('rag_collections')(e.target.value)} />
          </div>
          <div className="grid gap-2">
            <Label htmlFor="asst-tools">Function tools <span className="font-normal text-muted-foreground">(JSON, OpenAI's shape)</span></Label>
            <Textarea id="asst-tools" rows={3} className="font-mono text-xs" value={draft.tools} onChange={(e) => set('tools')(e.target.value)} placeholder='[{"type": "function", "function": {"name": "get_weather", "parameters": {...}}}]' />
          </div>
          {(problem || error) && (
            <Alert variant="destructive">
              <AlertDescription>
                {problem ?? error?.message}
                {error instanceof ApiError && error.param && <span className="ml-1 font-mono text-xs">({error.param})</span>}
              </AlertDescription>
            </Alert>
          )}
          <DialogFooter>
            <Button type="button" variant="outline" onClick={onClose}>Cancel</Button>
            <Button type="submit" disabled={saving || !draft.name.trim() || !draft.route}>{saving ? 'Saving…' : editing ? 'Save' : 'Create assistant'}</Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  )
}

function ConfirmDelete({ target, onClose }: { target: Assistant | undefined; onClose: () => void }) {
  const remove = useDeleteAssistant()
  return (
    <Dialog open={target !== undefined} onOpenChange={(open) => { if (!open) { remove.reset(); onClose() } }}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Delete {target?.name}?</DialogTitle>
          <DialogDescription>Chats with it stay, without its instructions. Code using <code className="font-mono text-xs">assistant/{target?.name}</code> stops working.</DialogDescription>
        </DialogHeader>
        {remove.isError && <Alert variant="destructive"><AlertDescription>{(remove.error as Error).message}</AlertDescription></Alert>}
        <DialogFooter>
          <Button variant="outline" onClick={onClose}>Cancel</Button>
          <Button variant="destructive" disabled={remove.isPending} onClick={async () => { await remove.mutateAsync(target!.id); onClose() }}>Delete assistant</Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
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
                  <h2 className="truncate font-semibold">{a.name}</h2>
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
                {a.rag_collections.length > 0 && <Badge variant="outline">{a.rag_collections.length} collections</Badge>}
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
