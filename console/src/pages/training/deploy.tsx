/**
 * Deploy a succeeded job's model under a route name (POST /api/v1/training/jobs/:id/deploy): every
 * replica routes it at once, no gateway.yaml edit. Admins only, and the gateway must allow it
 * (`features.custom_models`); the API says so when it does not, and the dialog shows that.
 */
import { RocketIcon } from 'lucide-react'
import { useState, type FormEvent } from 'react'
import type { TrainingJob } from '@/api/types'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { CopyButton } from '@/components/copy-button'
import { Field, invalidProps } from '@/components/field'
import { Button } from '@/components/ui/button'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog'
import { Input } from '@/components/ui/input'
import { useDeployJob } from './queries'

// The API's pattern for a route name.
const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/

export function DeployButton({ job }: { job: TrainingJob }) {
  const deploy = useDeployJob()
  const [open, setOpen] = useState(false)
  const [route, setRoute] = useState(job.suffix ?? '')
  const [problem, setProblem] = useState<string>()

  async function submit(event: FormEvent) {
    event.preventDefault()
    if (!ROUTE_NAME.test(route.trim())) return setProblem('Letters, digits and . _ : / -, starting with a letter or digit.')
    setProblem(undefined)
    await deploy.mutateAsync({ id: job.id, route: route.trim() }).catch(() => undefined)
  }

  const close = (next: boolean) => { setOpen(next); if (!next) deploy.reset() }
  return (
    <>
      <Button size="sm" onClick={() => setOpen(true)}><RocketIcon /> Deploy</Button>
      <Dialog open={open} onOpenChange={close}>
        {/* Wide enough, once deployed, for the YAML route line with a fine-tuned model name. */}
        <DialogContent className={deploy.data ? 'max-w-2xl' : undefined}>
          {deploy.data ? (
            <>
              <DialogHeader>
                <DialogTitle>Deployed as {deploy.data.route}</DialogTitle>
                <DialogDescription>Send <code className="font-mono text-xs">model: "{deploy.data.route}"</code> to use it. To keep it in gateway.yaml:</DialogDescription>
              </DialogHeader>
              <pre className="overflow-x-auto rounded-md bg-muted p-3 text-xs" data-deployment-yaml>{deploy.data.yaml}</pre>
              <DialogFooter>
                <CopyButton text={deploy.data.yaml} label="Copy YAML" />
                <Button onClick={() => close(false)}>Done</Button>
              </DialogFooter>
            </>
          ) : (
            <form onSubmit={submit} className="grid gap-4" noValidate>
              <DialogHeader>
                <DialogTitle>Deploy {job.fine_tuned_model}</DialogTitle>
                <DialogDescription>Clients reach it under a route name of its own, on every replica at once.</DialogDescription>
              </DialogHeader>
              <Field id="deploy-route" label="Route name" error={problem}>
                <Input id="deploy-route" value={route} onChange={(e) => setRoute(e.target.value)} placeholder="e.g. support-bot" {...invalidProps('deploy-route', problem)} />
              </Field>
              <ApiErrorAlert error={deploy.error} />
              <DialogFooter>
                <Button type="button" variant="outline" onClick={() => close(false)}>Cancel</Button>
                <Button type="submit" disabled={deploy.isPending}>{deploy.isPending ? 'Deploying…' : 'Deploy model'}</Button>
              </DialogFooter>
            </form>
          )}
        </DialogContent>
      </Dialog>
    </>
  )
}
