/**
 * Start a fine-tuning job from a checked dataset: the base model (a route the gateway serves),
 * hyperparameters checked here as the API checks them (whole epochs and batch size, a positive
 * learning-rate multiplier; empty is the provider's `auto`), and an optional suffix for the name.
 */
import { PlayIcon } from 'lucide-react'
import { useState, type FormEvent } from 'react'
import type { Dataset, NewTrainingJob } from '@/api/types'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { Field, invalidProps, useFocusFirstInvalid } from '@/components/field'
import { Button } from '@/components/ui/button'
import { Card } from '@/components/ui/card'
import { Input } from '@/components/ui/input'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { parseOptionalNumber, type NumberRule } from '@/lib/numbers'
import { useModels } from '../chat/single'
import { useCreateJob } from './queries'

const HYPER: readonly { key: 'n_epochs' | 'batch_size' | 'learning_rate_multiplier'; label: string; rule: NumberRule }[] = [
  { key: 'n_epochs', label: 'Epochs', rule: { min: 1, max: 50, integer: true } },
  { key: 'batch_size', label: 'Batch size', rule: { min: 1, max: 256, integer: true } },
  { key: 'learning_rate_multiplier', label: 'Learning rate ×', rule: { min: 0, exclusiveMin: true, max: 10 } },
]
const SUFFIX = /^[A-Za-z0-9-]{0,40}$/

type Draft = { dataset: string; model: string; suffix: string } & Record<(typeof HYPER)[number]['key'], string>
type Problems = Partial<Record<keyof Draft, string>>

function check(d: Draft): { input?: NewTrainingJob; problems: Problems } {
  const problems: Problems = {}
  if (!d.dataset) problems.dataset = 'Choose a dataset.'
  if (!d.model) problems.model = 'Choose the model to fine-tune.'
  if (!SUFFIX.test(d.suffix.trim())) problems.suffix = 'Letters, digits and dashes, up to 40.'
  const hyperparameters: Record<string, number> = {}
  for (const { key, rule } of HYPER) {
    const read = parseOptionalNumber(d[key], rule)
    if (read.error) problems[key] = read.error
    else if (read.value !== undefined) hyperparameters[key] = read.value
  }
  if (Object.keys(problems).length) return { problems }
  return { problems, input: { dataset: d.dataset, model: d.model, hyperparameters, ...(d.suffix.trim() ? { suffix: d.suffix.trim() } : {}) } }
}

export function NewJobForm({ datasets, onCreated }: { datasets: readonly Dataset[]; onCreated: (id: string) => void }) {
  const models = useModels()
  const create = useCreateJob()
  const [draft, setDraft] = useState<Draft>({ dataset: datasets[0]?.id ?? '', model: '', suffix: '', n_epochs: '', batch_size: '', learning_rate_multiplier: '' })
  const [problems, setProblems] = useState<Problems>({})
  const { form, refused } = useFocusFirstInvalid()
  const set = (key: keyof Draft) => (value: string) => {
    setDraft((d) => ({ ...d, [key]: value }))
    // A field's refusal goes once it is edited, until the next start checks again.
    setProblems((p) => ({ ...p, [key]: undefined }))
  }
  const dataset = datasets.find((d) => d.id === draft.dataset)

  async function submit(event: FormEvent) {
    event.preventDefault()
    const { input, problems: found } = check(draft)
    setProblems(found)
    if (!input) return refused()
    const job = await create.mutateAsync(input).catch(() => undefined)
    if (job) onCreated(job.id)
  }

  const error = create.error
  return (
    <Card className="p-4">
      <form ref={form} onSubmit={submit} className="grid gap-4" aria-label="New fine-tuning job" noValidate>
        <h3 className="font-semibold">New fine-tuning job</h3>
        <div className="grid gap-4 sm:grid-cols-2">
          <Field id="job-dataset" label="Dataset" error={problems.dataset}>
            <Select value={draft.dataset} onValueChange={set('dataset')}>
              <SelectTrigger id="job-dataset" aria-label="Dataset" {...invalidProps('job-dataset', problems.dataset)}><SelectValue placeholder="Choose a dataset" /></SelectTrigger>
              <SelectContent>
                {datasets.map((d) => <SelectItem key={d.id} value={d.id}>{d.filename} · {d.stats.examples} examples</SelectItem>)}
              </SelectContent>
            </Select>
          </Field>
          <Field id="job-model" label="Base model" error={problems.model}>
            <Select value={draft.model} onValueChange={set('model')}>
              <SelectTrigger id="job-model" aria-label="Base model" {...invalidProps('job-model', problems.model)}><SelectValue placeholder={models.isPending ? 'Loading…' : 'Choose a model'} /></SelectTrigger>
              <SelectContent>
                {(models.data ?? []).map((id) => <SelectItem key={id} value={id}>{id}</SelectItem>)}
              </SelectContent>
            </Select>
          </Field>
        </div>
        <div className="grid grid-cols-2 gap-4 sm:grid-cols-4">
          {HYPER.map(({ key, label, rule }) => (
            <Field key={key} id={`job-${key}`} label={label} error={problems[key]}>
              <Input id={`job-${key}`} inputMode={rule.integer ? 'numeric' : 'decimal'} placeholder={key === 'n_epochs' && dataset ? `auto (${dataset.stats.epochs})` : 'auto'}
                value={draft[key]} onChange={(e) => set(key)(e.target.value)} {...invalidProps(`job-${key}`, problems[key])} />
            </Field>
          ))}
          <Field id="job-suffix" label="Name suffix" error={problems.suffix}>
            <Input id="job-suffix" value={draft.suffix} onChange={(e) => set('suffix')(e.target.value)} placeholder="optional" {...invalidProps('job-suffix', problems.suffix)} />
          </Field>
        </div>
        <ApiErrorAlert error={error} />
        <div>
          <Button type="submit" disabled={create.isPending}><PlayIcon /> {create.isPending ? 'Starting…' : 'Start fine-tuning'}</Button>
        </div>
      </form>
    </Card>
  )
}
