/**
 * A send refused because the session ended (signed out in another tab, expired: a 401): said in
 * plain words, with the way back in. The message stays in its box (drafts.ts keeps it across the
 * sign-in), so nothing typed is lost.
 */
import { useQueryClient } from '@tanstack/react-query'
import { LogInIcon } from 'lucide-react'
import { ME_KEY } from '@/auth/session'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Button } from '@/components/ui/button'

export function SessionEnded() {
  const queryClient = useQueryClient()
  return (
    <Alert variant="destructive">
      <AlertDescription className="flex flex-wrap items-center gap-3">
        <span className="min-w-0 flex-1">Your session has ended, so your message was not sent. It is kept in the box: sign in again to send it.</span>
        {/* No caller: the app shows its sign-in page, and this page again once signed in. */}
        <Button size="sm" variant="outline" onClick={() => queryClient.setQueryData(ME_KEY, null)}>
          <LogInIcon /> Sign in again
        </Button>
      </AlertDescription>
    </Alert>
  )
}
