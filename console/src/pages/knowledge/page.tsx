/**
 * Knowledge (/api/v1/rag/collections): collections of documents the gateway embeds for grounded
 * answers. Create one, upload files (their ingestion progress refreshes while any is under way),
 * see each document's status and why one failed (retry it), delete (after a confirmation, saying why
 * when the gateway refuses), and try a search.
 */
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query'
import { BookOpenIcon, FileUpIcon, PlusIcon, RotateCwIcon, SearchIcon, Trash2Icon } from 'lucide-react'
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react'
import { useSearchParams } from 'react-router'
import { api } from '@/api/client'
import type { Collection, NewCollection, RagDocument, SearchInput } from '@/api/types'
import { useSession } from '@/auth/session'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { PageHeader } from '@/components/page-header'
import { PageBody } from '@/components/shell'
import { EmptyState, ErrorState, LoadingRows } from '@/components/states'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Card } from '@/components/ui/card'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog'
import { Input } from '@/components/ui/input'
import { Label } from '@/components/ui/label'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { formatCount, formatCountOf, formatRelative } from '@/lib/format'
import { cn } from '@/lib/utils'
import { COLLECTIONS, useCollections } from './queries'

const docsKey = (id: string) => ['rag', 'documents', id] as const
const STATUS_BADGE = { completed: 'success', failed: 'destructive', processing: 'secondary', queued: 'outline' } as const
/** What the gateway reads (services.rag's ingestion): the picker offered no Word, PowerPoint, CSV or JSON file. */
const ACCEPT = [
  '.txt,.text,.log,.csv,.json,.md,.markdown,.mdx,.html,.htm,.xhtml,.pdf,.docx,.pptx',
  '.c,.h,.cc,.cpp,.hpp,.cs,.css,.go,.java,.js,.mjs,.cjs,.jsx,.ts,.tsx,.php,.py,.rb,.rs,.sh,.bash,.kt,.swift,.scala,.sql,.tex,.yaml,.yml,.toml,.xml,.rst',
  'text/*,application/pdf,application/json',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document,application/vnd.openxmlformats-officedocument.presentationml.presentation',
].join(',')


/** Documents listed per page, newest first; older ones load on asking (a collection listed only its newest 100). */
const DOCUMENTS_PAGE = 100

function useDocuments(id: string | undefined) {
  const query = useInfiniteQuery({
    queryKey: docsKey(id ?? ''),
    enabled: id !== undefined,
    initialPageParam: 0,
    queryFn: async ({ pageParam, signal }) => (await api('/rag/collections/{id}/documents', { params: { id: id! }, query: { limit: DOCUMENTS_PAGE, offset: pageParam }, signal })).data,
    getNextPageParam: (last, pages) => (last.length < DOCUMENTS_PAGE ? undefined : pages.length * DOCUMENTS_PAGE),
    // While a document is being ingested, its progress refreshes every second.
    refetchInterval: (query) => (query.state.data?.pages.some((page) => page.some((d) => d.status === 'queued' || d.status === 'processing')) ? 1000 : false),
  })
  // A document uploaded since a page was read moves the others down: one in two pages is shown once.
  const documents = useMemo(() => {
    const seen = new Set<string>()
    return query.data?.pages.flat().filter((d) => !seen.has(d.id) && !!seen.add(d.id))
  }, [query.data])
  return { ...query, data: documents }
}

type TextSearch = NonNullable<NewCollection['text_search']>
const DEFAULT_LANGUAGE = 'default'
/** The languages offered for keyword search (PostgreSQL text search configurations; the API takes more). */
const LANGUAGES: readonly [TextSearch, string][] = [
  ['english', 'English'], ['german', 'German'], ['french', 'French'], ['spanish', 'Spanish'], ['italian', 'Italian'], ['portuguese', 'Portuguese'],
  ['dutch', 'Dutch'], ['swedish', 'Swedish'], ['danish', 'Danish'], ['norwegian', 'Norwegian'], ['finnish', 'Finnish'], ['russian', 'Russian'],
  ['turkish', 'Turkish'], ['simple', 'Any language (no stemming)'],
]

function NewCollection({ open, onClose, onMade }: { open: boolean; onClose: () => void; onMade: (c: Collection) => void }) {
  const { me } = useSession()
  const queryClient = useQueryClient()
  const [name, setName] = useState('')
  const [shared, setShared] = useState(true)
  const [language, setLanguage] = useState<TextSearch | typeof DEFAULT_LANGUAGE>(DEFAULT_LANGUAGE)
  const create = useMutation({
    mutationFn: async () => (await api('/rag/collections', {
      method: 'POST',
      body: { name: name.trim(), ...(shared && me.department ? { dept_scope: me.department } : {}), ...(language === DEFAULT_LANGUAGE ? {} : { text_search: language }) } satisfies NewCollection,
    })).data,
    onSuccess: (c) => { void queryClient.invalidateQueries({ queryKey: COLLECTIONS }); setName(''); setLanguage(DEFAULT_LANGUAGE); onMade(c) },
  })
  return (
    <Dialog open={open} onOpenChange={(next) => { if (!next) { create.reset(); onClose() } }}>
      <DialogContent>
        <form className="grid gap-4" onSubmit={(e) => { e.preventDefault(); create.mutate() }}>
          <DialogHeader>
            <DialogTitle>New collection</DialogTitle>
            <DialogDescription>Documents you add are split, embedded through the gateway and searchable by assistants that use the collection.</DialogDescription>
          </DialogHeader>
          <div className="grid gap-2">
            <Label htmlFor="collection-name">Name</Label>
            <Input id="collection-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} required />
          </div>
          <div className="grid gap-2">
            <Label htmlFor="collection-language">Language of its documents</Label>
            <Select value={language} onValueChange={(v) => setLanguage(v as TextSearch | typeof DEFAULT_LANGUAGE)}>
              <SelectTrigger id="collection-language" aria-label="Language of its documents"><SelectValue /></SelectTrigger>
              <SelectContent>
                <SelectItem value={DEFAULT_LANGUAGE}>The gateway's default</SelectItem>
                {LANGUAGES.map(([value, label]) => <SelectItem key={value} value={value}>{label}</SelectItem>)}
              </SelectContent>
            </Select>
            <p className="text-xs text-muted-foreground">Keyword search matches word forms in this language (German "Haus" finds "Häuser"). It cannot change later.</p>
          </div>
          {me.department && (
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} /> Searchable by {me.department}
            </label>
          )}
          <ApiErrorAlert error={create.error} />
          <DialogFooter>
            <Button type="button" variant="outline" onClick={onClose}>Cancel</Button>
            <Button type="submit" disabled={create.isPending || !name.trim()}>Create collection</Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  )
}

function Progress({ doc }: { doc: RagDocument }) {
  const { chunks_done: done, chunks_total: total } = doc.progress
  if (doc.status === 'failed') return <span className="text-xs text-destructive">{doc.error?.message ?? 'failed'}</span>
  if (doc.status === 'completed') return <span className="text-xs text-muted-foreground">{formatCountOf(done, 'chunk')}</span>
  const share = total ? Math.round((done / total) * 100) : 0
  return (
    <div className="flex items-center gap-2" aria-label={`Ingestion ${share}%`}>
      <div className="h-1.5 w-24 overflow-hidden rounded-full bg-muted"><div className="h-full bg-primary transition-all" style={{ width: `${share}%` }} /></div>
      <span className="text-xs text-muted-foreground">{total ? `${done}/${total}` : 'waiting'}</span>
    </div>
  )
}

function Documents({ collection, marked }: { collection: Collection; marked?: string }) {
  const queryClient = useQueryClient()
  const docs = useDocuments(collection.id)
  // A chat answer's source opens its document here: scrolled to, and marked.
  const markedRow = useRef<HTMLTableRowElement>(null)
  const shown = docs.data !== undefined
  useEffect(() => { if (shown) markedRow.current?.scrollIntoView({ block: 'center' }) }, [shown, marked])
  const fileInput = useRef<HTMLInputElement>(null)
  const [deleting, setDeleting] = useState<RagDocument>()
  const refresh = () => Promise.all([queryClient.invalidateQueries({ queryKey: docsKey(collection.id) }), queryClient.invalidateQueries({ queryKey: COLLECTIONS })])
  const upload = useMutation({
    mutationFn: async (files: readonly File[]) => {
      const form = new FormData()
      for (const file of files) form.append('file', file, file.name)
      return (await api('/rag/collections/{id}/documents', { params: { id: collection.id }, method: 'POST', body: form })).data
    },
    onSettled: refresh,
  })
  const retry = useMutation({ mutationFn: (id: string) => api('/rag/collections/{id}/documents/{document_id}/retry', { params: { id: collection.id, document_id: id }, method: 'POST' }), onSettled: refresh })
  const remove = useMutation({ mutationFn: (id: string) => api('/rag/collections/{id}/documents/{document_id}', { params: { id: collection.id, document_id: id }, method: 'DELETE' }), onSettled: refresh })

  return (
    <section className="space-y-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 className="font-semibold">Documents</h2>
        <input
          ref={fileInput}
          type="file"
          multiple
          accept={ACCEPT}
          className="hidden"
          aria-label="Upload documents"
          // Copied out first: clearing the input (to allow the same file again) empties its live FileList.
          onChange={(e) => { const files = Array.from(e.target.files ?? []); e.target.value = ''; if (files.length) upload.mutate(files) }}
        />
        <Button variant="outline" onClick={() => fileInput.current?.click()} disabled={upload.isPending}>
          <FileUpIcon /> {upload.isPending ? 'Uploading…' : 'Upload'}
        </Button>
      </div>
      <ApiErrorAlert error={upload.error} prefix="Nothing uploaded: " />
      <ApiErrorAlert error={retry.error} prefix="Not retried: " />
      {docs.isPending && <LoadingRows rows={3} />}
      {docs.isError && <ErrorState error={docs.error} retry={() => void docs.refetch()} />}
      {docs.data?.length === 0 && <EmptyState icon={<FileUpIcon />} title="No documents yet">Upload PDF, Word (.docx), PowerPoint (.pptx), Markdown, HTML, text, CSV or JSON files.</EmptyState>}
      {docs.data && docs.data.length > 0 && (
        <Card className="overflow-hidden">
          <Table>
            <TableHeader>
              <TableRow>
                <TableHead>File</TableHead>
                <TableHead>Status</TableHead>
                <TableHead className="hidden sm:table-cell">Progress</TableHead>
                <TableHead className="w-20"><span className="sr-only">Actions</span></TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {docs.data.map((d) => (
                <TableRow key={d.id} data-document={d.filename} data-status={d.status} data-marked={d.id === marked || undefined}
                  ref={d.id === marked ? markedRow : undefined} className={cn(d.id === marked && 'bg-primary/10 hover:bg-primary/15')} aria-current={d.id === marked ? 'true' : undefined}>
                  <TableCell className="max-w-56">
                    <div className="truncate font-medium" title={d.filename}>{d.filename}</div>
                    <div className="text-xs text-muted-foreground">{d.kind} · {formatRelative(d.created_at)}</div>
                    <div className="sm:hidden"><Progress doc={d} /></div>
                  </TableCell>
                  <TableCell><Badge variant={STATUS_BADGE[d.status]}>{d.status === 'completed' ? 'ready' : d.status}</Badge></TableCell>
                  <TableCell className="hidden sm:table-cell"><Progress doc={d} /></TableCell>
                  <TableCell className="text-right">
                    {d.status === 'failed' && (
                      <Button variant="ghost" size="icon" aria-label={`Retry ${d.filename}`} onClick={() => retry.mutate(d.id)}><RotateCwIcon /></Button>
                    )}
                    <Button variant="ghost" size="icon" aria-label={`Delete ${d.filename}`} onClick={() => setDeleting(d)}><Trash2Icon /></Button>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
      {docs.hasNextPage && docs.data !== undefined && collection.documents.total > docs.data.length && (
        <Button variant="outline" className="w-full" onClick={() => void docs.fetchNextPage()} disabled={docs.isFetchingNextPage}>
          {docs.isFetchingNextPage ? 'Loading…' : `Show older documents (${formatCount(Math.max(0, collection.documents.total - (docs.data?.length ?? 0)))} more)`}
        </Button>
      )}
      <ConfirmDialog
        open={deleting !== undefined}
        title={`Delete ${deleting?.filename}?`}
        action="Delete document"
        pendingAction="Deleting…"
        change={remove}
        onConfirm={() => remove.mutateAsync(deleting!.id)}
        onClose={() => setDeleting(undefined)}
      >
        Its passages are taken out of {collection.name}: searches and assistants no longer find them. This cannot be undone.
      </ConfirmDialog>
    </section>
  )
}

function Search({ collection }: { collection: Collection }) {
  const [query, setQuery] = useState('')
  const search = useMutation({
    mutationFn: async (q: string) => (await api('/rag/collections/{id}/search', { params: { id: collection.id }, method: 'POST', body: { query: q, top_k: 5 } satisfies SearchInput })).data,
  })
  function submit(event: FormEvent) {
    event.preventDefault()
    if (query.trim()) search.mutate(query.trim())
  }
  return (
    <section className="space-y-3">
      <h2 className="font-semibold">Search</h2>
      <form onSubmit={submit} className="flex gap-2">
        <Input aria-label="Search the collection" placeholder="Ask what the documents say…" value={query} onChange={(e) => setQuery(e.target.value)} />
        <Button type="submit" variant="outline" disabled={search.isPending || !query.trim()}><SearchIcon /> Search</Button>
      </form>
      <ApiErrorAlert error={search.error} />
      {search.data?.length === 0 && <p className="text-sm text-muted-foreground">Nothing found.</p>}
      {search.data?.map((hit, i) => (
        <Card key={i} className="p-3 text-sm" data-hit>
          <div className="mb-1 flex items-center justify-between gap-2 text-xs text-muted-foreground">
            <span className="truncate">{hit.filename}{hit.source.page != null && `, p. ${hit.source.page}`}{hit.source.heading && ` · ${hit.source.heading}`}</span>
            <span className="font-mono">{hit.score.toFixed(3)}</span>
          </div>
          <p className="line-clamp-4 whitespace-pre-wrap">{hit.text}</p>
        </Card>
      ))}
    </section>
  )
}

export default function KnowledgePage() {
  const collections = useCollections()
  const queryClient = useQueryClient()
  // Opened from a chat answer's source: /knowledge?collection=<id>&document=<id>.
  const [search] = useSearchParams()
  const [chosen, setChosen] = useState<string | undefined>(search.get('collection') ?? undefined)
  const marked = search.get('document') ?? undefined
  const [creating, setCreating] = useState(false)
  const [deleting, setDeleting] = useState(false)
  const remove = useMutation({
    mutationFn: (id: string) => api('/rag/collections/{id}', { params: { id }, method: 'DELETE' }),
    onSuccess: () => { setChosen(undefined); void queryClient.invalidateQueries({ queryKey: COLLECTIONS }) },
  })
  const current = collections.data?.find((c) => c.id === chosen) ?? collections.data?.[0]
  const newButton = <Button onClick={() => setCreating(true)}><PlusIcon /> New collection</Button>

  return (
    <PageBody>
      <PageHeader title="Knowledge" description="Documents assistants answer from, with the sources cited." actions={newButton} />
      {collections.isPending && <LoadingRows rows={4} />}
      {collections.isError && <ErrorState error={collections.error} retry={() => void collections.refetch()} service="rag" />}
      {collections.data?.length === 0 && (
        <EmptyState icon={<BookOpenIcon />} title="No collections yet" action={newButton}>A collection holds documents; attach it to an assistant to ground its answers.</EmptyState>
      )}
      {current && (
        <div className="grid gap-6 lg:grid-cols-[16rem_1fr]">
          <nav aria-label="Collections" className="flex gap-2 overflow-x-auto lg:flex-col lg:overflow-visible">
            {collections.data!.map((c) => (
              <button
                key={c.id}
                type="button"
                data-collection={c.name}
                onClick={() => setChosen(c.id)}
                // At most 16rem wide in the phone's row (a long name ran past the screen's edge, border and all), its name cut off with an ellipsis.
                className={cn('max-w-64 shrink-0 rounded-md border px-3 py-2 text-left text-sm hover:bg-accent lg:w-full lg:max-w-none', c.id === current.id && 'border-primary bg-accent')}
              >
                <div className="truncate font-medium" title={c.name}>{c.name}</div>
                <div className="text-xs text-muted-foreground">{c.documents.completed}/{c.documents.total} ready{c.dept_scope ? ` · ${c.dept_scope}` : ''}</div>
              </button>
            ))}
          </nav>
          <div className="min-w-0 space-y-6">
            <div className="flex flex-wrap items-start justify-between gap-2">
              <div className="min-w-0">
                <h2 className="truncate text-lg font-semibold" title={current.name}>{current.name}</h2>
                <p className="font-mono text-xs text-muted-foreground">{current.id} · {current.embedding_route} · {current.dimensions} dimensions</p>
              </div>
              <Button variant="ghost" size="sm" className="text-destructive" onClick={() => setDeleting(true)}>
                <Trash2Icon /> Delete collection
              </Button>
            </div>
            <Documents key={current.id} collection={current} marked={current.id === search.get('collection') ? marked : undefined} />
            <Search key={`s-${current.id}`} collection={current} />
          </div>
          <ConfirmDialog
            open={deleting}
            title={`Delete ${current.name}?`}
            action="Delete collection"
            pendingAction="Deleting…"
            change={remove}
            onConfirm={() => remove.mutateAsync(current.id)}
            onClose={() => setDeleting(false)}
          >
            {current.documents.total === 0 ? 'It has no documents.' : `${current.documents.total === 1 ? 'Its document goes' : `Its ${formatCountOf(current.documents.total, 'document')} go`} with it, and assistants that use it no longer find them.`} This cannot be undone.
          </ConfirmDialog>
        </div>
      )}
      <NewCollection open={creating} onClose={() => setCreating(false)} onMade={(c) => { setCreating(false); setChosen(c.id) }} />
    </PageBody>
  )
}
