/**
 * Training (/api/v1/training): fine-tuning datasets, checked line by line when uploaded (a
 * refused file lists each problem with its line number; nothing is stored), and jobs with their
 * status, events and loss chart, which refresh while a job runs; cancel one that has not ended.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { DatabaseIcon, FileUpIcon, GraduationCapIcon, XCircleIcon } from 'lucide-react'
import { useRef, useState } from 'react'
import { Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { ApiError, api } from '@/api/client'
import type { Dataset, DatasetProblem, TrainingEvent, TrainingJob } from '@/api/types'
import { PageHeader } from '@/components/page-header'
import { PageBody } from '@/components/shell'
import { EmptyState, ErrorState, LoadingRows } from '@/components/states'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Card } from '@/components/ui/card'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { formatCount, formatRelative, formatUsd } from '@/lib/format'

const DATASETS = ['training', 'datasets'] as const
const JOBS = ['training', 'jobs'] as const
const ENDED = new Set(['succeeded', 'failed', 'cancelled'])
const JOB_BADGE = { succeeded: 'success', failed: 'destructive', cancelled: 'secondary', running: 'default' } as const

function Datasets() {
  const queryClient = useQueryClient()
  const fileInput = useRef<HTMLInputElement>(null)
  const datasets = useQuery({ queryKey: DATASETS, queryFn: async ({ signal }) => (await api<Dataset[]>('/training/datasets', { signal })).data })
  const upload = useMutation({
    mutationFn: async (file: File) => {
      const form = new FormData()
      form.append('file', file, file.name)
      return (await api<Dataset>('/training/datasets', { method: 'POST', body: form })).data
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: DATASETS }),
  })
  const problems = upload.error instanceof ApiError ? ((upload.error.details?.errors as DatasetProblem[] | undefined) ?? []) : []
  const totalProblems = upload.error instanceof ApiError ? Number(upload.error.details?.total_errors ?? problems.length) : 0

  return (
    <section className="space-y-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 className="font-semibold">Datasets</h2>
        <input ref={fileInput} type="file" accept=".jsonl,application/jsonl,application/x-ndjson" className="hidden" aria-label="Upload a dataset"
          onChange={(e) => { const file = e.target.files?.[0]; if (file) upload.mutate(file); e.target.value = '' }} />
        <Button variant="outline" onClick={() => fileInput.current?.click()} disabled={upload.isPending}><FileUpIcon /> {upload.isPending ? 'Checking…' : 'Upload JSONL'}</Button>
      </div>
      {upload.isError && (
        <Alert variant="destructive" data-dataset-problems>
          <AlertDescription>
            <p className="font-medium">{problems.length ? `Not stored: ${totalProblems} problem${totalProblems === 1 ? '' : 's'} in the file.` : (upload.error as Error).message}</p>
            {problems.length > 0 && (
              <ul className="mt-2 max-h-56 space-y-1 overflow-y-auto font-mono text-xs">
                {problems.map((p, i) => <li key={i} data-line={p.line}>line {p.line}: {p.message} <span className="opacity-70">({p.code})</span></li>)}
              </ul>
            )}
          </AlertDescription>
        </Alert>
      )}
      {datasets.isPending && <LoadingRows rows={3} />}
      {datasets.isError && <ErrorState error={datasets.error} retry={() => void datasets.refetch()} service="training" />}
      {datasets.data?.length === 0 && (
        <EmptyState icon={<DatabaseIcon />} title="No datasets yet">Upload a JSONL file with one <code className="font-mono text-xs">{'{"messages": [...]}'}</code> chat per line; every line is checked first.</EmptyState>
      )}
      {datasets.data && datasets.data.length > 0 && (
        <Card className="overflow-hidden">
          <Table>
            <TableHeader>
              <TableRow>
                <TableHead>File</TableHead>
                <TableHead>Examples</TableHead>
                <TableHead className="hidden sm:table-cell">Tokens</TableHead>
                <TableHead className="hidden md:table-cell">Estimated cost</TableHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {datasets.data.map((d) => (
                <TableRow key={d.id} data-dataset={d.filename}>
                  <TableCell className="max-w-56"><div className="truncate font-medium">{d.filename}</div><div className="font-mono text-xs text-muted-foreground">{d.file_id}</div>{d.split && <div className="text-xs text-muted-foreground">{formatCount(d.split.validation.examples)} held out</div>}</TableCell>
                  <TableCell>{formatCount(d.stats.examples)}</TableCell>
                  <TableCell className="hidden sm:table-cell">{formatCount(d.stats.tokens)}</TableCell>
                  <TableCell className="hidden md:table-cell">{d.stats.estimated_cost_usd === null ? '—' : formatUsd(d.stats.estimated_cost_usd)}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
    </section>
  )
}

function JobDetail({ job }: { job: TrainingJob }) {
  const queryClient = useQueryClient()
  const events = useQuery({
    queryKey: ['training', 'events', job.id],
    queryFn: async ({ signal }) => (await api<TrainingEvent[]>(`/training/jobs/${encodeURIComponent(job.id)}/events`, { query: { limit: 200 }, signal })).data,
    refetchInterval: ENDED.has(job.status) ? false : 3000,
  })
  const cancel = useMutation({
    mutationFn: () => api(`/training/jobs/${encodeURIComponent(job.id)}/cancel`, { method: 'POST' }),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['training'] }),
  })
  const loss = (events.data ?? []).filter((e) => e.type === 'metrics' && e.data.step !== undefined).map((e) => e.data).sort((a, b) => a.step! - b.step!)
  return (
    <Card className="space-y-4 p-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <h3 className="truncate font-semibold">{job.fine_tuned_model ?? job.model}</h3>
          <p className="font-mono text-xs text-muted-foreground">{job.id} · {job.provider}</p>
        </div>
        {!ENDED.has(job.status) && <Button variant="outline" size="sm" disabled={cancel.isPending} onClick={() => cancel.mutate()}><XCircleIcon /> Cancel job</Button>}
      </div>
      {job.error?.message && <Alert variant="destructive"><AlertDescription>{job.error.message}</AlertDescription></Alert>}
      {loss.length > 1 && (
        <div className="h-48" role="img" aria-label="Training loss by step">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={loss}>
              <XAxis dataKey="step" fontSize={11} />
              <YAxis fontSize={11} width={40} />
              <Tooltip />
              <Line type="monotone" dataKey="train_loss" stroke="var(--color-primary)" dot={false} isAnimationActive={false} />
              <Line type="monotone" dataKey="valid_loss" stroke="var(--color-chart-2, #f59e0b)" dot={false} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
      {events.isPending && <LoadingRows rows={3} />}
      {events.isError && <ErrorState error={events.error} retry={() => void events.refetch()} />}
      <ol className="max-h-64 space-y-1 overflow-y-auto text-sm">
        {events.data?.filter((e) => e.type === 'message').map((e) => (
          <li key={e.id} className="flex gap-2"><span className="shrink-0 text-xs text-muted-foreground">{new Date(e.created_at * 1000).toLocaleTimeString()}</span><span className="min-w-0 break-words">{e.message}</span></li>
        ))}
      </ol>
    </Card>
  )
}

function Jobs() {
  const [chosen, setChosen] = useState<string>()
  const jobs = useQuery({
    queryKey: JOBS,
    queryFn: async ({ signal }) => (await api<TrainingJob[]>('/training/jobs', { query: { limit: 50 }, signal })).data,
    refetchInterval: (query) => (query.state.data?.some((j) => !ENDED.has(j.status)) ? 5000 : false),
  })
  const current = jobs.data?.find((j) => j.id === chosen) ?? jobs.data?.[0]
  return (
    <section className="space-y-3">
      <h2 className="font-semibold">Jobs</h2>
      {jobs.isPending && <LoadingRows rows={3} />}
      {jobs.isError && <ErrorState error={jobs.error} retry={() => void jobs.refetch()} service="training" />}
      {jobs.data?.length === 0 && (
        <EmptyState icon={<GraduationCapIcon />} title="No fine-tuning jobs yet">
          Start one from a dataset with <code className="font-mono text-xs">POST /api/v1/training/jobs</code> or the OpenAI SDK's <code className="font-mono text-xs">fineTuning.jobs.create</code>.
        </EmptyState>
      )}
      {jobs.data && jobs.data.length > 0 && (
        <div className="grid gap-4 lg:grid-cols-[18rem_1fr]">
          <ul className="space-y-1">
            {jobs.data.map((j) => (
              <li key={j.id}>
                <button type="button" data-job={j.id} onClick={() => setChosen(j.id)} className={`w-full rounded-md border px-3 py-2 text-left text-sm hover:bg-accent ${j.id === current?.id ? 'border-primary bg-accent' : ''}`}>
                  <div className="flex items-center justify-between gap-2"><span className="truncate font-medium">{j.model}</span><Badge variant={JOB_BADGE[j.status as keyof typeof JOB_BADGE] ?? 'outline'}>{j.status}</Badge></div>
                  <div className="text-xs text-muted-foreground">{formatRelative(j.created_at)}</div>
                </button>
              </li>
            ))}
          </ul>
          {current && <JobDetail key={current.id} job={current} />}
        </div>
      )}
    </section>
  )
}

export default function TrainingPage() {
  return (
    <PageBody>
      <PageHeader title="Training" description="Fine-tuning datasets and jobs, run by the gateway's workers through the providers." />
      <div className="space-y-8">
        <Datasets />
        <Jobs />
      </div>
    </PageBody>
  )
}
