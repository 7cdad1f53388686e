/** Every page's loading, empty and error states, one look for all. */
import { AlertTriangleIcon, InboxIcon, PlugZapIcon, RefreshCwIcon } from 'lucide-react'
import type { ReactNode } from 'react'
import { ApiError } from '@/api/client'
import { Button } from '@/components/ui/button'
import { Skeleton } from '@/components/ui/skeleton'
import { cn } from '@/lib/utils'

export function LoadingRows({ rows = 4, className }: { rows?: number; className?: string }) {
  return (
    <div className={cn('space-y-3', className)} aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} className="h-9 w-full" style={{ opacity: 1 - i * 0.15 }} />
      ))}
    </div>
  )
}

export function EmptyState({ title, children, action, icon }: { title: string; children?: ReactNode; action?: ReactNode; icon?: ReactNode }) {
  return (
    <div className="flex flex-col items-center justify-center gap-2 rounded-lg border border-dashed px-6 py-12 text-center">
      <div className="mb-1 rounded-full bg-muted p-3 text-muted-foreground [&_svg]:size-5">{icon ?? <InboxIcon />}</div>
      <p className="font-medium">{title}</p>
      {children && <div className="max-w-md text-sm text-muted-foreground">{children}</div>}
      {action && <div className="mt-2">{action}</div>}
    </div>
  )
}

/** A failed query: what went wrong, and a retry. A service the gateway does not run says how to enable it. */
export function ErrorState({ error, retry, service }: { error: unknown; retry?: () => void; service?: string }) {
  if (error instanceof ApiError && error.notEnabled && service) {
    return (
      <EmptyState icon={<PlugZapIcon />} title="Not enabled on this gateway">
        Add <code className="rounded bg-muted px-1 py-0.5 font-mono text-xs">{service}: {'{}'}</code> under{' '}
        <code className="rounded bg-muted px-1 py-0.5 font-mono text-xs">services:</code> in gateway.yaml; the gateway reloads it at once.
      </EmptyState>
    )
  }
  const message = error instanceof Error ? error.message : String(error)
  const code = error instanceof ApiError ? error.code : undefined
  return (
    <div role="alert" className="flex flex-col items-center justify-center gap-2 rounded-lg border border-destructive/30 bg-destructive/5 px-6 py-10 text-center">
      <AlertTriangleIcon className="size-5 text-destructive" />
      <p className="font-medium text-destructive">Could not load this</p>
      <p className="max-w-lg text-sm text-muted-foreground">
        {message}
        {code && <span className="ml-1 font-mono text-xs">({code})</span>}
      </p>
      {retry && (
        <Button variant="outline" size="sm" className="mt-2" onClick={retry}>
          <RefreshCwIcon /> Try again
        </Button>
      )}
    </div>
  )
}
