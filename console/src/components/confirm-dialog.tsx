/**
 * The question before something is removed for good (a chat, an assistant, a key, a document): what
 * goes and what follows from it, Cancel, and the action, disabled while it runs. A refused change
 * keeps the dialog open with the API's message in it; a done one closes it.
 */
import type { ReactNode } from 'react'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { Button } from '@/components/ui/button'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog'

/** What the dialog reads of the mutation it runs (TanStack Query's). */
interface Change { readonly isPending: boolean; readonly error: unknown; reset: () => void }

export function ConfirmDialog({ open, title, children, action, pendingAction, change, onConfirm, onClose }: {
  open: boolean
  title: ReactNode
  /** What goes, and what follows from it. */
  children: ReactNode
  /** The button's words ("Delete chat"), and while it runs ("Deleting…"). */
  action: string
  pendingAction?: string
  change: Change
  /** Runs the change; the dialog closes once it is done (it stays open, saying why, when refused). */
  onConfirm: () => Promise<unknown>
  onClose: () => void
}) {
  const close = () => { change.reset(); onClose() }
  return (
    <Dialog open={open} onOpenChange={(next) => { if (!next) close() }}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>{title}</DialogTitle>
          <DialogDescription>{children}</DialogDescription>
        </DialogHeader>
        <ApiErrorAlert error={change.error} />
        <DialogFooter>
          <Button variant="outline" onClick={close}>Cancel</Button>
          <Button variant="destructive" disabled={change.isPending} onClick={() => void onConfirm().then(close, () => undefined)}>
            {change.isPending && pendingAction ? pendingAction : action}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  )
}
