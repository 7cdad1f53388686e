/**
 * A trained job's evaluation, as the gateway scored it before the job succeeded: exact match and
 * similarity of the model's answers on held-out (or sampled training) examples, the provider's
 * last losses, and the results file (OpenAI's CSV of the metrics per step) to download.
 */
import { FileDownIcon } from 'lucide-react'
import { gatewayUrl } from '@/api/client'
import type { TrainingJob } from '@/api/types'
import { Badge } from '@/components/ui/badge'
import { formatCount, formatPercent } from '@/lib/format'

const score = (n: number | null | undefined) => (n == null ? '—' : formatPercent(n))
const loss = (n: number | null | undefined) => (n == null ? '—' : n.toFixed(4))

export function EvaluationSummary({ job }: { job: TrainingJob }) {
  const e = job.evaluation
  const resultFile = job.result_files[0]
  if (!e && !resultFile) return null
  const examples = e?.examples === undefined ? '—' : `${formatCount(e.examples)} ${e.source === 'validation_file' ? 'validation' : 'training'}${e.errors ? ` (${formatCount(e.errors)} failed)` : ''}`
  const items: [string, string, string][] = [
    ['Exact match', score(e?.exact_match), 'exact_match'],
    ['Similarity', score(e?.similarity), 'similarity'],
    ['Examples', examples, 'examples'],
    ['Training loss', loss(e?.train_loss), 'train_loss'],
    ['Validation loss', loss(e?.valid_loss), 'valid_loss'],
  ]
  return (
    <section className="space-y-2 rounded-md border p-3" aria-label="Evaluation" data-evaluation={e?.status ?? 'none'}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h4 className="text-sm font-semibold">Evaluation</h4>
        {resultFile && (
          <a className="inline-flex items-center gap-1 text-sm text-primary underline-offset-4 hover:underline" href={gatewayUrl(`/api/v1/files/${encodeURIComponent(resultFile)}/content`)} download={`${job.id}-results.csv`} data-results-file={resultFile}>
            <FileDownIcon className="size-4" /> Results (CSV)
          </a>
        )}
      </div>
      {e && e.status !== 'completed' && (
        <p className="text-sm text-muted-foreground"><Badge variant={e.status === 'failed' ? 'destructive' : 'secondary'}>{e.status}</Badge> {e.reason}</p>
      )}
      <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-5">
        {items.map(([label, value, key]) => <div key={key} data-metric={key}><dt className="text-xs text-muted-foreground">{label}</dt><dd className="font-medium tabular-nums">{value}</dd></div>)}
      </dl>
    </section>
  )
}
