/**
 * The message box under a chat: Enter sends, Shift+Enter is a new line, and while an answer
 * streams the send button becomes Stop. Both chat modes (threads, and the single exchange of a
 * gateway without the conversations service) use it; in threads it attaches knowledge too (`#`,
 * the Attach knowledge button, the chips: knowledge.tsx) and files (the paperclip, paste or drop:
 * attachments.tsx).
 */
import { ArrowUpIcon, SquareIcon } from 'lucide-react'
import { useEffect, useRef, useState, type DragEvent, type KeyboardEvent } from 'react'
import { Button } from '@/components/ui/button'
import { Textarea } from '@/components/ui/input'
import { cn } from '@/lib/utils'
import { AttachFiles, PendingChips, type Attachments } from './attachments'
import { AttachKnowledge, KnowledgeChips, useHashPicker, type ChatKnowledge } from './knowledge'

export function Composer({ draft, setDraft, send, running, disabled, knowledge, attachments }: {
  draft: string
  setDraft: (text: string) => void
  send: () => void
  /** The answer streaming now, if any: Stop aborts it. */
  running: AbortController | undefined
  /** Nothing to send to (no model chosen, or the thread is gone). */
  disabled: boolean
  /** The chat's knowledge, where the gateway offers some. */
  knowledge?: ChatKnowledge
  /** Files sent with the message, where the chat keeps threads. */
  attachments?: Attachments
}) {
  const [dragging, setDragging] = useState(false)
  const hasFiles = (e: DragEvent) => e.dataTransfer.types.includes('Files')
  const drop = attachments && !disabled ? {
    onDragOver: (e: DragEvent) => { if (hasFiles(e)) { e.preventDefault(); setDragging(true) } },
    onDragLeave: () => setDragging(false),
    onDrop: (e: DragEvent) => { if (!hasFiles(e)) return; e.preventDefault(); setDragging(false); attachments.add([...e.dataTransfer.files]) },
  } : {}
  // A file still uploading, or one that failed (said on its chip), holds the message back.
  const held = !!attachments && (attachments.uploading || attachments.failed)
  const box = useRef<HTMLTextAreaElement>(null)
  const hash = useHashPicker(knowledge, draft, setDraft, box)
  // As an answer starts or ends, the control that had the focus (Stop, Regenerate, Retry, an edited
  // question's Save and send) is gone and the focus fell to the page: it comes back to the box, so the
  // next question is typed at once. Not on a touch screen, where focusing the box opens the keyboard.
  useEffect(() => {
    const lost = document.activeElement === null || document.activeElement === document.body
    if (lost && !disabled && !window.matchMedia('(pointer: coarse)').matches) box.current?.focus()
  }, [running, disabled])
  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (hash.onKeyDown(e)) return
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault()
      send()
    }
  }
  return (
    <div className={cn('border-t bg-card/60 px-4 py-3 sm:px-6', dragging && 'bg-primary/10 outline-2 -outline-offset-2 outline-dashed outline-primary')} {...drop}>
      {knowledge && <KnowledgeChips knowledge={knowledge} />}
      {attachments && <PendingChips attachments={attachments} />}
      <form className="relative mx-auto flex max-w-3xl items-end gap-2" onSubmit={(e) => { e.preventDefault(); send() }}>
        {attachments && <AttachFiles attachments={attachments} disabled={disabled} />}
        {knowledge && <AttachKnowledge knowledge={knowledge} disabled={disabled} />}
        {hash.listbox}
        <Textarea
          ref={box}
          aria-label="Message"
          placeholder={knowledge ? 'Message… (# for knowledge)' : 'Message…'}
          className="field-sizing-content max-h-48 min-h-11 resize-none"
          rows={1}
          value={draft}
          onChange={(e) => { setDraft(e.target.value); hash.track(e) }}
          onKeyDown={onKeyDown}
          onPaste={attachments ? (e) => { const files = [...e.clipboardData.files]; if (files.length) { e.preventDefault(); attachments.add(files) } } : undefined}
          disabled={disabled}
          {...hash.boxProps}
        />
        {/* Keyed: one button element turned from Stop into Send kept the focus, and lost it as Send was disabled. */}
        {running ? (
          <Button key="stop" type="button" variant="outline" size="icon" className="size-11" onClick={() => running.abort()} aria-label="Stop">
            <SquareIcon className="fill-current" />
          </Button>
        ) : (
          <Button key="send" type="submit" size="icon" className="size-11" disabled={!draft.trim() || disabled || held} aria-label="Send">
            <ArrowUpIcon />
          </Button>
        )}
      </form>
      <p className="mx-auto mt-1.5 hidden max-w-3xl text-xs text-muted-foreground sm:block">Enter to send · Shift+Enter for a new line{knowledge ? ' · # to answer from knowledge' : ''}{attachments ? ' · paste or drop images and documents' : ''}</p>
    </div>
  )
}
