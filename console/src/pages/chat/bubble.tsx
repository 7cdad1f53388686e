/**
 * One message of a chat: the person's on the right, the answer on the left as Markdown, with its
 * sources. The last of each may carry actions: Edit (the question, sent again), Regenerate (the
 * answer), Retry (a failed answer, whose failure is said in plain words).
 */
import { BotIcon, CheckIcon, CopyIcon, FileTextIcon, PencilIcon, RefreshCwIcon, RotateCcwIcon, TriangleAlertIcon, UserIcon, WrenchIcon } from 'lucide-react'
import { MessageAttachments, type SentAttachment } from './attachments'
import { Suspense, lazy, memo, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react'
import { Link } from 'react-router'
import type { MessageSource } from '@/api/types'
import { Button } from '@/components/ui/button'
import { Textarea } from '@/components/ui/input'
import { cn } from '@/lib/utils'
import { sourceAnchor, sourceNumber } from './citations'
import type { Failure } from './failure'

export interface ChatTurn {
  readonly id: string
  readonly role: 'user' | 'assistant' | 'tool' | 'system' | 'developer'
  readonly content: string
  readonly streaming?: boolean
  readonly error?: Failure
  readonly stopped?: boolean
  /** A question the thread holds no answer to, with another question after it (the model failed on it). */
  readonly unanswered?: boolean
  /** A tool call the model made (name and arguments), shown as such. */
  readonly tool?: string
  /** A grounded answer's sources, which its [n] markers link to. */
  readonly sources?: readonly MessageSource[]
  /** A question's files. */
  readonly attachments?: readonly SentAttachment[]
}

// Markdown and highlighting load after the page: until they are here, an answer shows as plain text.
const loadMarkdown = () => import('./markdown')
const Markdown = lazy(loadMarkdown)
/** Fetch them as the chat page opens, not at an answer's first words: on a busy machine they came after the answer had ended. */
export const preloadMarkdown = (): void => void loadMarkdown().catch(() => undefined)
const PlainText = ({ text }: { text: string }) => <p className="whitespace-pre-wrap break-words">{text}</p>
const Dot = ({ delay = '0ms' }: { delay?: string }) => <span className="size-1.5 animate-bounce rounded-full bg-muted-foreground/60" style={{ animationDelay: delay }} />

function sourcePlace(s: MessageSource): string {
  return [s.page != null ? `p. ${s.page}` : null, s.heading].filter(Boolean).join(' · ')
}

/** The sources under an answer, numbered as its markers cite them; ones it does not cite are dimmed. */
function Sources({ messageId, sources }: { messageId: string; sources: readonly MessageSource[] }) {
  return (
    <div className="mt-3 border-t pt-2">
      <p className="mb-1 text-xs font-medium text-muted-foreground">Sources</p>
      <ol className="space-y-1 text-xs" aria-label="Sources">
        {sources.map((s, i) => {
          const n = sourceNumber(s, i)
          return (
            <li key={n} id={sourceAnchor(messageId, n)} tabIndex={-1} data-source={n} data-cited={s.cited ?? true}
              className={cn('flex items-start gap-1.5 rounded px-1 py-0.5 outline-none focus:bg-primary/10 focus:ring-1 focus:ring-primary/40', s.cited === false && 'opacity-60')}>
              <span className="font-mono text-muted-foreground">[{n}]</span>
              <FileTextIcon className="mt-0.5 size-3 shrink-0 text-muted-foreground" />
              <span className="min-w-0 flex-1 break-words">
                {/* The document on the Knowledge page (its collection open, its row marked), when the source names them. */}
                {s.collection_id && s.document_id
                  ? <Link to={`/knowledge?${new URLSearchParams({ collection: s.collection_id, document: s.document_id })}`} className="font-medium underline-offset-2 hover:underline" data-source-document>{s.filename}</Link>
                  : <span className="font-medium">{s.filename}</span>}
                {sourcePlace(s) && <span className="text-muted-foreground"> · {sourcePlace(s)}</span>}
                {s.cited === false && <span className="text-muted-foreground"> (not cited)</span>}
              </span>
              {typeof s.score === 'number' && <span className="shrink-0 font-mono text-muted-foreground" title="Relevance score">{s.score.toFixed(2)}</span>}
            </li>
          )
        })}
      </ol>
    </div>
  )
}

/** What can be done with a message now (each absent where it cannot). */
export interface TurnActions {
  /** The question, changed, sent again in its place: what came after it goes. */
  readonly onEdit?: (text: string) => void
  /** How many messages after this question an edit takes out of the thread (said before sending). */
  readonly editDrops?: number
  /** A new answer in place of this one. */
  readonly onRegenerate?: () => void
  /** This failed answer, tried again. */
  readonly onRetry?: () => void
}

/** The answer's Markdown to the clipboard, as written (ChatGPT's copy under each answer). */
function CopyAnswer({ text }: { text: string }) {
  const [copied, setCopied] = useState(false)
  async function copy() {
    await navigator.clipboard.writeText(text)
    setCopied(true)
    setTimeout(() => setCopied(false), 2000)
  }
  return (
    <Button type="button" variant="ghost" size="sm" className="h-7 gap-1 px-2 text-xs text-muted-foreground" onClick={() => void copy()} aria-label={copied ? 'Copied' : 'Copy answer'} title="Copy the answer">
      {copied ? <CheckIcon className="size-3.5" /> : <CopyIcon className="size-3.5" />} {copied ? 'Copied' : 'Copy'}
    </Button>
  )
}

/** The question being edited in place: Enter (or Save and send) sends it, Escape cancels. */
function EditBox({ initial, drops, onSave, onCancel }: { initial: string; drops: number; onSave: (text: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(initial)
  const save = () => { if (text.trim()) onSave(text.trim()) }
  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) { e.preventDefault(); save() }
    if (e.key === 'Escape') onCancel()
  }
  return (
    <div className="flex w-full flex-col gap-2">
      <Textarea aria-label="Your question, edited" className="field-sizing-content max-h-64 min-h-16 bg-background text-foreground" value={text} onChange={(e) => setText(e.target.value)} onKeyDown={onKeyDown} autoFocus />
      {drops > 0 && <p className="text-right text-xs text-muted-foreground">Sending removes the {drops} messages after this one.</p>}
      <div className="flex justify-end gap-2">
        <Button type="button" variant="outline" size="sm" onClick={onCancel}>Cancel</Button>
        <Button type="button" size="sm" onClick={save} disabled={!text.trim()}>Save and send</Button>
      </div>
    </div>
  )
}

// Memoised: while an answer streams, only its own bubble renders again.
export const Bubble = memo(function Bubble({ turn, actions }: { turn: ChatTurn; actions?: TurnActions }) {
  const [editing, setEditing] = useState(false)
  // An edit cancelled (Escape or Cancel) gives the focus back to its Edit button, not to the page.
  const editButton = useRef<HTMLButtonElement>(null)
  const [cancelled, setCancelled] = useState(0)
  useEffect(() => { if (cancelled) editButton.current?.focus() }, [cancelled])
  const mine = turn.role === 'user'
  const citations = useMemo(() => (turn.sources?.length ? { messageId: turn.id, numbers: turn.sources.map(sourceNumber) } : undefined), [turn.id, turn.sources])
  if (mine && editing && actions?.onEdit) {
    const onEdit = actions.onEdit
    return (
      <div className="ml-auto flex w-full max-w-[85%] gap-3" data-role={turn.role}>
        <EditBox initial={turn.content} drops={actions.editDrops ?? 0} onCancel={() => { setEditing(false); setCancelled((n) => n + 1) }} onSave={(text) => { setEditing(false); onEdit(text) }} />
      </div>
    )
  }
  return (
    <div className={cn('group/turn flex gap-3', mine && 'flex-row-reverse')} data-role={turn.role}>
      <div className={cn('mt-0.5 flex size-8 shrink-0 items-center justify-center rounded-full', mine ? 'bg-primary text-primary-foreground' : 'bg-muted text-muted-foreground')}>
        {mine ? <UserIcon className="size-4" /> : turn.tool || turn.role === 'tool' ? <WrenchIcon className="size-4" /> : <BotIcon className="size-4" />}
      </div>
      <div className={cn('min-w-0 max-w-[85%] rounded-2xl px-4 py-2.5 text-sm', mine ? 'bg-primary text-primary-foreground' : 'border bg-card shadow-xs')}>
        {mine ? (
          <>
            {turn.attachments && turn.attachments.length > 0 && <MessageAttachments attachments={turn.attachments} />}
            <p className="whitespace-pre-wrap break-words">{turn.content}</p>
            {turn.unanswered && <p className="mt-1 text-xs opacity-80">Not answered.</p>}
          </>
        ) : turn.tool ? (
          <p className="font-mono text-xs break-all">{turn.tool}</p>
        ) : (
          <>
            {turn.content ? (
              // While streaming, a caret follows the last line (index.css: .streaming).
              <div className={turn.streaming ? 'streaming' : undefined}>
                <Suspense fallback={<PlainText text={turn.content} />}><Markdown text={turn.content} citations={citations} /></Suspense>
              </div>
            ) : turn.streaming && <span className="inline-flex gap-1 py-2" aria-label="Waiting for the answer"><Dot /><Dot delay="150ms" /><Dot delay="300ms" /></span>}
            {turn.sources && turn.sources.length > 0 && <Sources messageId={turn.id} sources={turn.sources} />}
            {turn.stopped && <p className="mt-1 text-xs text-muted-foreground">Stopped.</p>}
            {turn.error && (
              <div role="alert" className="mt-1 flex flex-col gap-1.5">
                <p className="flex items-start gap-1.5 text-sm text-destructive"><TriangleAlertIcon className="mt-0.5 size-4 shrink-0" />{turn.error.title}</p>
                {turn.error.detail && <p className="text-xs break-words text-muted-foreground">{turn.error.detail}</p>}
                {actions?.onRetry && (
                  <Button type="button" variant="outline" size="sm" className="self-start" onClick={actions.onRetry}><RotateCcwIcon /> Retry</Button>
                )}
              </div>
            )}
            {!turn.streaming && !turn.error && turn.content && (
              <div className="-mb-1 -ml-2 mt-1 flex gap-0.5">
                <CopyAnswer text={turn.content} />
                {actions?.onRegenerate && (
                  <Button type="button" variant="ghost" size="sm" className="h-7 gap-1 px-2 text-xs text-muted-foreground" onClick={actions.onRegenerate} aria-label="Regenerate" title="Regenerate">
                    <RefreshCwIcon className="size-3.5" /> Regenerate
                  </Button>
                )}
              </div>
            )}
          </>
        )}
      </div>
      {mine && actions?.onEdit && (
        // Shown on hover or focus where there is a pointer; always on a touch screen (no hover there).
        <Button ref={editButton} type="button" variant="ghost" size="icon" className="size-8 self-center text-muted-foreground opacity-100 sm:opacity-0 sm:group-hover/turn:opacity-100 sm:focus-visible:opacity-100" onClick={() => setEditing(true)} aria-label="Edit" title="Edit the question">
          <PencilIcon className="size-3.5" />
        </Button>
      )}
    </div>
  )
})
