/**
 * Training (/api/v1/training): fine-tuning datasets, checked line by line when uploaded (a
 * refused file lists each problem with its line number; nothing is stored); a job started from a
 * dataset with its base model and hyperparameters; jobs with their status, events and loss chart,
 * which refresh while a job runs; a trained job's evaluation and results file; cancel one that has
 * not ended, deploy one that succeeded.
 */
import { DatabaseIcon, FileUpIcon, GraduationCapIcon, PauseIcon, PlayIcon, PlusIcon, XCircleIcon } from 'lucide-react'
import { useRef, useState } from 'react'
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import { ApiError } from '@/api/client'
import type { Dataset, DatasetProblem, TrainingJob } from '@/api/types'
import { useSession } from '@/auth/session'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { PageHeader } from '@/components/page-header'
import { PageBody } from '@/components/shell'
import { EmptyState, ErrorState, LoadingRows } from '@/components/states'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Card } from '@/components/ui/card'
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { formatCount, formatRelative, formatUsd } from '@/lib/format'

import { DeployButton } from './deploy'
import { EvaluationSummary } from './evaluation'
import { NewJobForm } from './new-job'
import { ENDED, lossOf, useCancelJob, useDatasets, useDeployments, useJobEvents, useJobs, usePauseJob, useResumeJob, useUploadDataset } from './queries'

const JOB_BADGE = { succeeded: 'success', failed: 'destructive', cancelled: 'secondary', paused: 'secondary', running: 'default' } as const

function Datasets({ datasets }: { datasets: ReturnType<typeof useDatasets> }) {
  const fileInput = useRef<HTMLInputElement>(null)
  const upload = useUploadDataset()
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
                  <TableCell className="max-w-56"><div className="truncate font-medium" title={d.filename}>{d.filename}</div><div className="font-mono text-xs text-muted-foreground">{d.file_id}</div>{d.split && <div className="text-xs text-muted-foreground">{formatCount(d.split.validation.examples)} held out</div>}</TableCell>
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

function HyperparameterList({ job }: { job: TrainingJob }) {
  const h = job.hyperparameters
  const items: [string, string][] = [
    ['Epochs', h.n_epochs?.toString() ?? 'auto'],
    ['Batch size', h.batch_size?.toString() ?? 'auto'],
    ['Learning rate ×', h.learning_rate_multiplier?.toString() ?? 'auto'],
    ['Trained tokens', job.trained_tokens === null ? '—' : formatCount(job.trained_tokens)],
  ]
  return (
    <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-4">
      {items.map(([label, value]) => <div key={label}><dt className="text-xs text-muted-foreground">{label}</dt><dd className="font-medium">{value}</dd></div>)}
    </dl>
  )
}

function LossChart({ job }: { job: TrainingJob }) {
  const events = useJobEvents(job)
  const loss = lossOf(events.data ?? [])
  if (events.isPending) return <LoadingRows rows={3} />
  if (events.isError) return <ErrorState error={events.error} retry={() => void events.refetch()} />
  return (
    <>
      {loss.length > 0 ? (
        <div className="h-52" role="img" aria-label="Training loss by step" data-loss-points={loss.length}>
          <ResponsiveContainer width="100%" height="100%">
            <LineChart data={loss} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" className="stroke-border" />
              <XAxis dataKey="step" fontSize={11} label={{ value: 'step', position: 'insideBottomRight', offset: -2, fontSize: 11 }} />
              <YAxis fontSize={11} width={40} />
              <Tooltip />
              <Legend wrapperStyle={{ fontSize: 12 }} />
              <Line type="monotone" name="training loss" dataKey="train_loss" stroke="var(--color-primary)" dot isAnimationActive={false} />
              <Line type="monotone" name="validation loss" dataKey="valid_loss" stroke="var(--color-chart-2, #f59e0b)" dot isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        </div>
      ) : (
        <p className="text-sm text-muted-foreground">{ENDED.has(job.status) ? 'The provider reported no loss for this job.' : 'The loss chart appears with the first training steps.'}</p>
      )}
      <ol className="max-h-64 space-y-1 overflow-y-auto text-sm" aria-label="Job events">
        {events.data?.filter((e) => e.type === 'message').map((e) => (
          <li key={e.id} className="flex gap-2"><span className="shrink-0 text-xs text-muted-foreground">{new Date(e.created_at * 1000).toLocaleTimeString()}</span><span className="min-w-0 break-words">{e.message}</span></li>
        ))}
      </ol>
    </>
  )
}

function JobDetail({ job }: { job: TrainingJob }) {
  const { me } = useSession()
  const cancel = useCancelJob()
  const pause = usePauseJob()
  const resume = useResumeJob()
  const deployments = useDeployments()
  const deployedAs = deployments.data?.filter((d) => d.job_id === job.id).map((d) => d.route) ?? []
  return (
    <Card className="min-w-0 space-y-4 p-4" data-job-detail={job.id} data-status={job.status}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <h3 className="break-all font-semibold">{job.fine_tuned_model ?? job.model}</h3>
          <p className="font-mono text-xs text-muted-foreground [overflow-wrap:anywhere]">{job.id} · {job.provider} · from {job.model}</p>
        </div>
        <div className="flex flex-wrap gap-2">
          <Badge variant={JOB_BADGE[job.status as keyof typeof JOB_BADGE] ?? 'outline'}>{job.status}</Badge>
          {/* Pausing is the provider's (OpenAI can, Mistral cannot: its refusal shows below). */}
          {job.status === 'running' && <Button variant="outline" size="sm" disabled={pause.isPending} onClick={() => pause.mutate(job.id)}><PauseIcon /> Pause</Button>}
          {job.status === 'paused' && <Button variant="outline" size="sm" disabled={resume.isPending} onClick={() => resume.mutate(job.id)}><PlayIcon /> Resume</Button>}
          {!ENDED.has(job.status) && <Button variant="outline" size="sm" disabled={cancel.isPending} onClick={() => cancel.mutate(job.id)}><XCircleIcon /> Cancel job</Button>}
          {/* Deploying is the admins' (the API refuses anyone else). */}
          {job.status === 'succeeded' && job.fine_tuned_model && me.role === 'admin' && <DeployButton job={job} />}
        </div>
      </div>
      {deployedAs.length > 0 && <p className="text-sm" data-deployed-as={deployedAs.join(' ')}>Deployed as {deployedAs.map((r) => <code key={r} className="mr-1 rounded bg-muted px-1 py-0.5 font-mono text-xs">{r}</code>)}</p>}
      <ApiErrorAlert error={cancel.error ?? pause.error ?? resume.error} />
      <ApiErrorAlert error={job.error} />
      <HyperparameterList job={job} />
      <EvaluationSummary job={job} />
      <LossChart job={job} />
    </Card>
  )
}

function Jobs({ datasets }: { datasets: readonly Dataset[] }) {
  const [chosen, setChosen] = useState<string>()
  const [creating, setCreating] = useState(false)
  const jobs = useJobs()
  const current = jobs.data?.find((j) => j.id === chosen) ?? jobs.data?.[0]
  const newJob = datasets.length > 0 && !creating && <Button variant="outline" onClick={() => setCreating(true)}><PlusIcon /> New fine-tuning job</Button>
  return (
    <section className="space-y-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 className="font-semibold">Jobs</h2>
        {jobs.data && jobs.data.length > 0 && newJob}
      </div>
      {creating && <NewJobForm datasets={datasets} onCreated={(id) => { setChosen(id); setCreating(false) }} />}
      {jobs.isPending && <LoadingRows rows={3} />}
      {jobs.isError && <ErrorState error={jobs.error} retry={() => void jobs.refetch()} service="training" />}
      {jobs.data?.length === 0 && !creating && (
        <EmptyState icon={<GraduationCapIcon />} title="No fine-tuning jobs yet" action={newJob || undefined}>
          {datasets.length ? 'Start one from a checked dataset.' : 'Upload a dataset above, then start a job from it.'}
        </EmptyState>
      )}
      {jobs.data && jobs.data.length > 0 && (
        <div className="grid gap-4 lg:grid-cols-[18rem_1fr]">
          <ul className="space-y-1">
            {jobs.data.map((j) => (
              <li key={j.id}>
                <button type="button" data-job={j.id} data-status={j.status} onClick={() => setChosen(j.id)} className={`w-full rounded-md border px-3 py-2 text-left text-sm hover:bg-accent ${j.id === current?.id ? 'border-primary bg-accent' : ''}`}>
                  <div className="flex items-center justify-between gap-2"><span className="truncate font-medium">{j.suffix ? `${j.model} · ${j.suffix}` : j.model}</span><Badge variant={JOB_BADGE[j.status as keyof typeof JOB_BADGE] ?? 'outline'}>{j.status}</Badge></div>
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
  const datasets = useDatasets()
  return (
    <PageBody>
      <PageHeader title="Training" description="Fine-tuning datasets and jobs, run by the gateway's workers through the providers." />
      <div className="space-y-8">
        <Datasets datasets={datasets} />
        <Jobs datasets={datasets.data ?? []} />
      </div>
    </PageBody>
  )
}
