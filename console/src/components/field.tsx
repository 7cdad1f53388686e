/**
 * A labelled form field with its validation message under it. The message is tied to the control
 * (aria-describedby, aria-invalid through `invalidProps`), so a screen reader says why it is refused.
 */
import type { ReactNode } from 'react'
import { Label } from '@/components/ui/label'
import { cn } from '@/lib/utils'

export function Field({ id, label, hint, error, className, children }: { id: string; label: ReactNode; hint?: ReactNode; error?: string; className?: string; children: ReactNode }) {
  return (
    <div className={cn('grid min-w-0 content-start gap-2', className)}>
      <Label htmlFor={id}>
        {label}
        {hint && <span className="font-normal text-muted-foreground"> ({hint})</span>}
      </Label>
      {children}
      {error && <p id={`${id}-error`} className="text-xs text-destructive" data-field-error={id}>{error}</p>}
    </div>
  )
}

/** The attributes a control of a `Field` carries when its value is refused. */
export const invalidProps = (id: string, error: string | undefined) =>
  error ? { 'aria-invalid': true as const, 'aria-describedby': `${id}-error` } : {}
