/**
 * What went wrong with a change (a failed save, upload, deploy...): the API's message, and the
 * field at fault when the message does not already name it. The API quotes names in its messages
 * with backticks (`features: { custom_models: true }`): they show as code. Renders nothing without
 * an error, so a page writes `<ApiErrorAlert error={save.error} />` whatever the state.
 */
import type { ReactNode } from 'react'
import { ApiError } from '@/api/client'
import { Alert, AlertDescription } from '@/components/ui/alert'

/** `text` with its backtick-quoted parts as code (the odd parts of a split on backticks). */
function withCode(text: string): ReactNode[] {
  return text.split('`').map((part, i) => (i % 2 === 1 ? <code key={i} className="rounded bg-destructive/10 px-1 font-mono text-xs">{part}</code> : part))
}

export function ApiErrorAlert({ error, prefix, className }: { error: unknown; prefix?: string; className?: string }) {
  if (!error) return null
  const message = error instanceof Error ? error.message : String(error)
  const param = error instanceof ApiError && error.param && !message.includes(error.param) ? error.param : undefined
  return (
    <Alert variant="destructive" className={className}>
      <AlertDescription>
        {prefix}{withCode(message)}
        {param && <span className="ml-1 font-mono text-xs">({param})</span>}
      </AlertDescription>
    </Alert>
  )
}
