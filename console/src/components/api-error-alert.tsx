/**
 * What went wrong with a change (a failed save, upload, deploy...): the API's message, and the
 * field at fault when the message does not already name it. Renders nothing without an error,
 * so a page writes `<ApiErrorAlert error={save.error} />` whatever the state.
 */
import { ApiError } from '@/api/client'
import { Alert, AlertDescription } from '@/components/ui/alert'

export function ApiErrorAlert({ error, prefix, className }: { error: unknown; prefix?: string; className?: string }) {
  if (!error) return null
  const message = error instanceof Error ? error.message : String(error)
  const param = error instanceof ApiError && error.param && !message.includes(error.param) ? error.param : undefined
  return (
    <Alert variant="destructive" className={className}>
      <AlertDescription>
        {prefix}{message}
        {param && <span className="ml-1 font-mono text-xs">({param})</span>}
      </AlertDescription>
    </Alert>
  )
}
