/**
 * A labelled form field with its validation message under it. The message is tied to the control
 * (aria-describedby, aria-invalid through `invalidProps`), so a screen reader says why it is refused;
 * a refused submit puts the focus on the first such control (`useFocusFirstInvalid`).
 */
import { useEffect, useRef, useState, type ReactNode } from 'react'
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

/**
 * After a submit the form's own checks refused, the first control marked invalid gets the focus
 * (and is scrolled to): in a long form the field at fault is often out of sight above the button.
 * `form` goes on the <form>; call `refused()` when the checks refuse.
 */
export function useFocusFirstInvalid() {
  const form = useRef<HTMLFormElement>(null)
  const [refusals, setRefusals] = useState(0)
  useEffect(() => {
    if (refusals) form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus()
  }, [refusals])
  return { form, refused: () => setRefusals((n) => n + 1) }
}
