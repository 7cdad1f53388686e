/**
 * Create or edit an assistant: the model from the gateway's routes, knowledge collections from
 * /api/v1/rag/collections and the department from /api/v1/users/departments, each picked from a
 * list; parameters and the context policy (what happens to the oldest turns of a long chat, and a
 * window lower than the model's) as fields, tools as a small structured editor, each refusal shown at
 * its field before anything is sent (the API checks again, and its refusal shows too).
 */
import { useState, type FormEvent } from 'react'
import { ApiError } from '@/api/client'
import type { Assistant, Collection } from '@/api/types'
import { useSession } from '@/auth/session'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { Field, invalidProps, useFocusFirstInvalid } from '@/components/field'
import { Button } from '@/components/ui/button'
import { Checkbox } from '@/components/ui/checkbox'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog'
import { Input, Textarea } from '@/components/ui/input'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { Skeleton } from '@/components/ui/skeleton'
import { useModels } from '../chat/single'
import { useCollections } from '../knowledge/queries'
import { useDepartments } from '../users/queries'
import { EVERY_DEPARTMENT, MIN_CONTEXT_TOKENS, check, draftOf, type ContextStrategy, type Draft, type Problems } from './draft'
import { useCreateAssistant, useUpdateAssistant } from './queries'
import { ToolsEditor } from './tools-editor'

function CollectionsPicker({ chosen, onChange }: { chosen: readonly string[]; onChange: (ids: readonly string[]) => void }) {
  const collections = useCollections()
  const toggle = (id: string, on: boolean) => onChange(on ? [...chosen, id] : chosen.filter((c) => c !== id))
  // Chosen ids the caller cannot see (another department's, deleted) stay, and say so.
  const unknown = chosen.filter((id) => collections.data && !collections.data.some((c: Collection) => c.id === id))
  return (
    <fieldset className="grid gap-2" aria-label="Knowledge collections">
      <legend className="mb-2 text-sm font-medium">Knowledge collections <span className="font-normal text-muted-foreground">(searched for every question; answers cite them)</span></legend>
      {collections.isPending && <Skeleton className="h-8 w-full" />}
      {collections.isError && (
        <p className="text-sm text-muted-foreground">
          {collections.error instanceof ApiError && collections.error.notEnabled ? 'Knowledge (RAG) is not enabled on this gateway.' : `Could not list the collections: ${collections.error.message}`}
        </p>
      )}
      {collections.data?.length === 0 && <p className="text-sm text-muted-foreground">No collections yet: make one on the Knowledge page.</p>}
      <div className="grid gap-2 sm:grid-cols-2">
        {collections.data?.map((c) => (
          <label key={c.id} className="flex items-center gap-2 rounded-md border px-3 py-2 text-sm has-[[data-state=checked]]:border-primary" data-collection-option={c.name}>
            <Checkbox checked={chosen.includes(c.id)} onCheckedChange={(on) => toggle(c.id, on === true)} aria-label={c.name} />
            <span className="min-w-0 flex-1 truncate">{c.name}</span>
            <span className="shrink-0 text-xs text-muted-foreground">{c.documents.completed} docs</span>
          </label>
        ))}
        {unknown.map((id) => (
          <label key={id} className="flex items-center gap-2 rounded-md border border-dashed px-3 py-2 text-sm">
            <Checkbox checked onCheckedChange={() => toggle(id, false)} aria-label={id} />
            <span className="min-w-0 flex-1 truncate font-mono text-xs">{id}</span>
            <span className="shrink-0 text-xs text-muted-foreground">not visible to you</span>
          </label>
        ))}
      </div>
    </fieldset>
  )
}

function DepartmentPicker({ value, current, onChange }: { value: string; current: string | null; onChange: (value: string) => void }) {
  const { me } = useSession()
  const listed = useDepartments()
  // The gateway's departments when it lists them (those the caller may assign); else the caller's own and the current one.
  const names = listed.data?.length
    ? listed.data.filter((d) => d.assignable || d.name === current).map((d) => d.name)
    : [...new Set([me.department, current].filter((d): d is string => !!d))]
  return (
    <Select value={value} onValueChange={onChange}>
      <SelectTrigger id="asst-dept"><SelectValue /></SelectTrigger>
      <SelectContent>
        {me.scope === 'all_data' && <SelectItem value={EVERY_DEPARTMENT}>every department</SelectItem>}
        {names.map((d) => <SelectItem key={d} value={d}>{d}</SelectItem>)}
      </SelectContent>
    </Select>
  )
}

const STRATEGIES: readonly { value: ContextStrategy; label: string }[] = [
  { value: 'truncate', label: 'Drop the oldest turns' },
  { value: 'summarize', label: 'Summarise the oldest turns' },
]

/** The context policy: what a chat longer than the window loses, and the window itself. */
function ContextPolicyFields({ draft, problem, set }: {
  draft: Draft
  problem: string | undefined
  set: <K extends 'context_strategy' | 'max_context_tokens'>(key: K) => (value: Draft[K]) => void
}) {
  return (
    <div className="grid gap-4 sm:grid-cols-2">
      <Field id="asst-context-strategy" label="When a chat outgrows the window">
        <Select value={draft.context_strategy} onValueChange={(v) => set('context_strategy')(v as ContextStrategy)}>
          <SelectTrigger id="asst-context-strategy"><SelectValue /></SelectTrigger>
          <SelectContent>
            {STRATEGIES.map((s) => <SelectItem key={s.value} value={s.value}>{s.label}</SelectItem>)}
          </SelectContent>
        </Select>
      </Field>
      <Field id="asst-max-context" label="Context window (tokens)" hint="optional" error={problem}>
        <Input id="asst-max-context" inputMode="numeric" value={draft.max_context_tokens} onChange={(e) => set('max_context_tokens')(e.target.value)}
          placeholder={`model's (at least ${MIN_CONTEXT_TOKENS})`} {...invalidProps('asst-max-context', problem)} />
      </Field>
    </div>
  )
}

export function AssistantDialog({ editing, open, onClose }: { editing: Assistant | undefined; open: boolean; onClose: () => void }) {
  const { me } = useSession()
  const models = useModels()
  const create = useCreateAssistant()
  const update = useUpdateAssistant()
  const [draft, setDraft] = useState<Draft>(() => draftOf(editing, me.department))
  const [problems, setProblems] = useState<Problems>({})
  const { form, refused } = useFocusFirstInvalid()
  const saving = create.isPending || update.isPending
  const error = create.error ?? update.error
  const set = <K extends keyof Draft>(key: K) => (value: Draft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }))
    // A field's refusal goes once it is edited (a tool's, once any tool is), until the next save checks again.
    setProblems((p) => Object.fromEntries(Object.entries(p).filter(([field]) => field !== key && !(key === 'tools' && field.startsWith('tools.')))))
  }

  async function submit(event: FormEvent) {
    event.preventDefault()
    const { input, problems: found } = check(draft)
    setProblems(found)
    if (!input) return refused()
    try {
      if (editing) await update.mutateAsync({ id: editing.id, ...input })
      else await create.mutateAsync(input)
      onClose()
    } catch {
      // Shown from the mutation's error.
    }
  }

  const number = (key: 'temperature' | 'top_p' | 'max_tokens', label: string, placeholder: string) => (
    <Field id={`asst-${key}`} label={label} error={problems[key]}>
      <Input id={`asst-${key}`} inputMode={key === 'max_tokens' ? 'numeric' : 'decimal'} value={draft[key]} onChange={(e) => set(key)(e.target.value)} placeholder={placeholder} {...invalidProps(`asst-${key}`, problems[key])} />
    </Field>
  )
  const reset = () => { create.reset(); update.reset(); setProblems({}) }
  return (
    <Dialog open={open} onOpenChange={(next) => { if (!next) { reset(); onClose() } }}>
      <DialogContent className="max-w-2xl" onOpenAutoFocus={() => { setDraft(draftOf(editing, me.department)); reset() }}>
        <form ref={form} onSubmit={submit} className="grid gap-4" noValidate>
          <DialogHeader>
            <DialogTitle>{editing ? `Edit ${editing.name}` : 'New assistant'}</DialogTitle>
            <DialogDescription>Its instructions and tools apply to every chat with it; use it from code as <code className="font-mono text-xs">model: "assistant/{draft.name || 'name'}"</code>.</DialogDescription>
          </DialogHeader>
          <div className="grid gap-4 sm:grid-cols-2">
            <Field id="asst-name" label="Name" error={problems.name}>
              <Input id="asst-name" value={draft.name} onChange={(e) => set('name')(e.target.value)} placeholder="e.g. support-bot" {...invalidProps('asst-name', problems.name)} />
            </Field>
            <Field id="asst-route" label="Model" error={problems.route}>
              <Select value={draft.route} onValueChange={set('route')}>
                <SelectTrigger id="asst-route" {...invalidProps('asst-route', problems.route)}><SelectValue placeholder={models.isPending ? 'Loading…' : 'Choose a model'} /></SelectTrigger>
                <SelectContent>
                  {[...new Set([...(models.data ?? []), ...(draft.route ? [draft.route] : [])])].map((id) => <SelectItem key={id} value={id}>{id}</SelectItem>)}
                </SelectContent>
              </Select>
            </Field>
          </div>
          <div className="grid gap-4 sm:grid-cols-[2fr_1fr]">
            <Field id="asst-description" label="Description" hint="optional">
              <Input id="asst-description" value={draft.description} onChange={(e) => set('description')(e.target.value)} maxLength={1000} />
            </Field>
            <Field id="asst-dept" label="Department">
              <DepartmentPicker value={draft.dept_scope} current={editing?.dept_scope ?? null} onChange={set('dept_scope')} />
            </Field>
          </div>
          <Field id="asst-instructions" label="Instructions">
            <Textarea id="asst-instructions" rows={5} value={draft.instructions} onChange={(e) => set('instructions')(e.target.value)} placeholder="You answer questions about…" />
          </Field>
          <div className="grid grid-cols-3 gap-4">
            {number('temperature', 'Temperature', '0–2')}
            {number('top_p', 'Top p', '0–1')}
            {number('max_tokens', 'Max tokens', "model's")}
          </div>
          <ContextPolicyFields draft={draft} problem={problems.max_context_tokens} set={set} />
          <CollectionsPicker chosen={draft.rag_collections} onChange={set('rag_collections')} />
          <ToolsEditor tools={draft.tools} problems={problems} onChange={set('tools')} />
          {Object.keys(problems).length > 0 && <p className="text-sm text-destructive" role="alert">Fix the fields marked above.</p>}
          <ApiErrorAlert error={error} />
          <DialogFooter>
            <Button type="button" variant="outline" onClick={onClose}>Cancel</Button>
            <Button type="submit" disabled={saving}>{saving ? 'Saving…' : editing ? 'Save' : 'Create assistant'}</Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  )
}
