/** One message of a chat: the person's on the right, the answer on the left as Markdown, with its sources. */
import { BotIcon, FileTextIcon, UserIcon, WrenchIcon } from 'lucide-react'
import { Suspense, lazy, memo } from 'react'
import type { Citation } from '@/api/types'
import { cn } from '@/lib/utils'

export interface ChatTurn {
  readonly id: string
  readonly role: 'user' | 'assistant' | 'tool' | 'system' | 'developer'
  readonly content: string
  readonly streaming?: boolean
  readonly error?: string
  readonly stopped?: boolean
  /** A tool call the model made (name and arguments), shown as such. */
  readonly tool?: string
  readonly citations?: readonly Citation[]
}

// Markdown and highlighting load after the page: until they are here (a few ms), an answer shows as plain text.
const Markdown = lazy(() => import('./markdown'))
const PlainText = ({ text }: { text: string }) => <p className="whitespace-pre-wrap break-words">{text}</p>
const Dot = ({ delay = '0ms' }: { delay?: string }) => <span className="size-1.5 animate-bounce rounded-full bg-muted-foreground/60" style={{ animationDelay: delay }} />

function Sources({ citations }: { citations: readonly Citation[] }) {
  return (
    <ol className="mt-2 space-y-1 border-t pt-2 text-xs text-muted-foreground" aria-label="Sources">
      {citations.map((c, i) => (
        <li key={i} className="flex items-start gap-1.5" data-citation>
          <span className="font-mono">[{c.index ?? i + 1}]</span>
          <FileTextIcon className="mt-0.5 size-3 shrink-0" />
          <span className="min-w-0 break-words">
            {c.title ?? c.filename ?? c.document_id ?? 'source'}
            {c.page != null && `, p. ${c.page}`}
            {c.heading && ` · ${c.heading}`}
          </span>
        </li>
      ))}
    </ol>
  )
}

// Memoised: while an answer streams, only its own bubble renders again.
export const Bubble = memo(function Bubble({ turn }: { turn: ChatTurn }) {
  const mine = turn.role === 'user'
  return (
    <div className={cn('flex gap-3', mine && 'flex-row-reverse')} data-role={turn.role}>
      <div className={cn('mt-0.5 flex size-8 shrink-0 items-center justify-center rounded-full', mine ? 'bg-primary text-primary-foreground' : 'bg-muted text-muted-foreground')}>
        {mine ? <UserIcon className="size-4" /> : turn.tool || turn.role === 'tool' ? <WrenchIcon className="size-4" /> : <BotIcon className="size-4" />}
      </div>
      <div className={cn('min-w-0 max-w-[85%] rounded-2xl px-4 py-2.5 text-sm', mine ? 'bg-primary text-primary-foreground' : 'border bg-card shadow-xs')}>
        {mine ? (
          <p className="whitespace-pre-wrap break-words">{turn.content}</p>
        ) : turn.tool ? (
          <p className="font-mono text-xs break-all">{turn.tool}</p>
        ) : (
          <>
            {turn.content ? (
              // While streaming, a caret follows the last line (index.css: .streaming).
              <div className={turn.streaming ? 'streaming' : undefined}>
                <Suspense fallback={<PlainText text={turn.content} />}><Markdown text={turn.content} /></Suspense>
              </div>
            ) : turn.streaming && <span className="inline-flex gap-1 py-2" aria-label="Waiting for the answer"><Dot /><Dot delay="150ms" /><Dot delay="300ms" /></span>}
            {turn.citations && turn.citations.length > 0 && <Sources citations={turn.citations} />}
            {turn.stopped && <p className="mt-1 text-xs text-muted-foreground">Stopped.</p>}
            {turn.error && <p className="mt-1 text-xs text-destructive">{turn.error}</p>}
          </>
        )}
      </div>
    </div>
  )
})
