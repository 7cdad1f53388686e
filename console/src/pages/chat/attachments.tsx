/**
 * Files sent with a chat message: picked with the paperclip, pasted or dropped on the composer,
 * uploaded at once to /api/v1/files (purpose `vision` for an image, `user_data` for a document,
 * with progress), shown as chips that can be removed before sending; the sent message lists them
 * (name, kind, an image's thumbnail). The gateway checks them again (attachments of
 * /api/v1/chat/threads/:id/messages); the limits here only say it sooner, in words.
 */
import { FileTextIcon, ImageIcon, Loader2Icon, PaperclipIcon, TriangleAlertIcon, XIcon } from 'lucide-react'
import { useCallback, useRef, useState } from 'react'
import { gatewayUrl, requestHeaders } from '@/api/client'
import { Button } from '@/components/ui/button'
import { cn } from '@/lib/utils'

/** What the gateway sends to a model (plugins/services/conversations/attachments.ts). */
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp']
const MAX_IMAGE_BYTES = 5 * 1024 * 1024
/** A document's bound is the gateway's request body limit (10 MB by default), below its 32 MB for a PDF. */
const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
const MAX_FILES = 10
/** Documents the gateway sends as their text (read by its RAG service; without one it says so when the message is sent). */
const DOCUMENTS = ['.pdf', '.docx', '.pptx', '.txt', '.md', '.csv', '.json', '.html']
export const ACCEPT = [...IMAGE_TYPES, 'application/pdf', ...DOCUMENTS].join(',')

/** A file attached to the message being written. */
export interface Pending {
  readonly key: string
  readonly name: string
  /** Unknown for a file put back after a failed send. */
  readonly bytes?: number
  readonly image: boolean
  /** 0..1 while it uploads. */
  readonly progress: number
  /** The uploaded file's id, once it is in. */
  readonly id?: string
  /** Why it cannot be sent, in words. */
  readonly error?: string
}

/** A file a kept message carries, as the chat API lists it. */
export interface SentAttachment {
  readonly file_id: string
  readonly filename: string | null
  readonly kind: 'image' | 'file'
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

const isDocument = (file: File) => file.type === 'application/pdf' || DOCUMENTS.some((ext) => file.name.toLowerCase().endsWith(ext))

/** Why `file` cannot be attached, or undefined. */
function refusal(file: File): string | undefined {
  const image = IMAGE_TYPES.includes(file.type)
  if (!image && !isDocument(file)) return 'Only images (PNG, JPEG, GIF, WebP) and documents (PDF, Word, PowerPoint, text, Markdown, CSV, JSON, HTML) can be attached.'
  const max = image ? MAX_IMAGE_BYTES : MAX_DOCUMENT_BYTES
  if (file.size > max) return `Larger than ${formatBytes(max)}.`
  return undefined
}

/** Upload one file, reporting progress; resolves with its id. XMLHttpRequest: fetch reports no upload progress. */
function upload(file: File, onProgress: (done: number) => void, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', gatewayUrl('/api/v1/files'))
    xhr.withCredentials = true
    requestHeaders('POST').forEach((value, name) => xhr.setRequestHeader(name, value))
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total) }
    xhr.onload = () => {
      let body: { data?: { id?: string }; message?: string } = {}
      try { body = JSON.parse(xhr.responseText) as typeof body } catch { /* not JSON: said by status */ }
      if (xhr.status >= 200 && xhr.status < 300 && body.data?.id) resolve(body.data.id)
      else reject(new Error(body.message ?? `The upload failed (HTTP ${xhr.status}).`))
    }
    xhr.onerror = () => reject(new Error('The upload failed: the gateway could not be reached.'))
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'))
    signal.addEventListener('abort', () => xhr.abort(), { once: true })
    const form = new FormData()
    form.append('purpose', IMAGE_TYPES.includes(file.type) ? 'vision' : 'user_data')
    form.append('file', file, file.name)
    xhr.send(form)
  })
}

/** The files attached to the message being written. */
export function useAttachments() {
  const [list, setList] = useState<readonly Pending[]>([])
  const uploads = useRef(new Map<string, AbortController>())
  const patch = (key: string, change: Partial<Pending>) => setList((now) => now.map((p) => (p.key === key ? { ...p, ...change } : p)))

  const add = useCallback((files: readonly File[]) => {
    setList((now) => {
      const room = Math.max(0, MAX_FILES - now.length)
      const added: Pending[] = files.map((file, i) => {
        const key = `${Date.now()}-${i}-${file.name}`
        const error = i >= room ? `At most ${MAX_FILES} files go with one message.` : refusal(file)
        const pending: Pending = { key, name: file.name, bytes: file.size, image: IMAGE_TYPES.includes(file.type), progress: 0, error }
        if (!error) {
          const controller = new AbortController()
          uploads.current.set(key, controller)
          upload(file, (progress) => patch(key, { progress }), controller.signal)
            .then((id) => patch(key, { id, progress: 1 }))
            .catch((err: unknown) => { if (!controller.signal.aborted) patch(key, { error: (err as Error).message }) })
            .finally(() => uploads.current.delete(key))
        }
        return pending
      })
      return [...now, ...added]
    })
  }, [])
  const remove = useCallback((key: string) => {
    uploads.current.get(key)?.abort()
    setList((now) => now.filter((p) => p.key !== key))
  }, [])
  const clear = useCallback(() => setList([]), [])
  /** Files of a message that was not sent, back on the box with its text (already uploaded). */
  const restore = useCallback((files: readonly SentAttachment[]) => {
    setList((now) => (now.length ? now : files.map((f) => ({ key: f.file_id, name: f.filename ?? f.file_id, image: f.kind === 'image', progress: 1, id: f.file_id }))))
  }, [])
  const uploading = list.some((p) => !p.id && !p.error)
  const failed = list.some((p) => p.error)
  return { list, add, remove, clear, restore, uploading, failed, ready: list.filter((p) => p.id) }
}
export type Attachments = ReturnType<typeof useAttachments>

/** The paperclip: picks files to attach. */
export function AttachFiles({ attachments, disabled }: { attachments: Attachments; disabled: boolean }) {
  const input = useRef<HTMLInputElement>(null)
  return (
    <>
      <input
        ref={input} type="file" multiple accept={ACCEPT} className="hidden" data-testid="attach-input"
        onChange={(e) => { attachments.add([...(e.target.files ?? [])]); e.target.value = '' }}
      />
      <Button type="button" variant="ghost" size="icon" className="size-11 shrink-0" disabled={disabled} onClick={() => input.current?.click()} aria-label="Attach files" title="Attach images or documents">
        <PaperclipIcon />
      </Button>
    </>
  )
}

/** The files attached to the message being written, each with its state and a remove button. */
export function PendingChips({ attachments }: { attachments: Attachments }) {
  if (!attachments.list.length) return null
  return (
    <ul className="mx-auto mb-2 flex max-w-3xl flex-wrap gap-2" aria-label="Attached files">
      {attachments.list.map((p) => (
        <li key={p.key} className={cn('flex max-w-full items-center gap-2 rounded-lg border bg-background px-2.5 py-1.5 text-xs', p.error && 'border-destructive/60')}>
          {p.error ? <TriangleAlertIcon className="size-4 shrink-0 text-destructive" /> : !p.id ? <Loader2Icon className="size-4 shrink-0 animate-spin text-muted-foreground" /> : <KindIcon image={p.image} />}
          <span className="min-w-0">
            <span className="block max-w-48 truncate font-medium">{p.name}</span>
            <span className={cn('block', p.error ? 'text-destructive' : 'text-muted-foreground')}>
              {p.error ?? (p.id ? (p.bytes === undefined ? 'Attached' : formatBytes(p.bytes)) : `Uploading… ${Math.round(p.progress * 100)}%`)}
            </span>
          </span>
          <Button type="button" variant="ghost" size="icon" className="size-6 shrink-0" onClick={() => attachments.remove(p.key)} aria-label={`Remove ${p.name}`}>
            <XIcon className="size-3.5" />
          </Button>
        </li>
      ))}
    </ul>
  )
}

const KindIcon = ({ image }: { image: boolean }) => (image ? <ImageIcon className="size-4 shrink-0" /> : <FileTextIcon className="size-4 shrink-0" />)

/** The files a sent message carries: an image as its thumbnail, a document as its name. */
export function MessageAttachments({ attachments }: { attachments: readonly SentAttachment[] }) {
  return (
    <ul className="mb-1.5 flex flex-wrap justify-end gap-1.5" aria-label="Attachments">
      {attachments.map((a) => (
        <li key={a.file_id} className="flex max-w-full items-center gap-1.5 rounded-lg bg-primary-foreground/15 px-2 py-1 text-xs" data-attachment={a.kind}>
          {a.kind === 'image'
            ? <img src={gatewayUrl(`/api/v1/files/${encodeURIComponent(a.file_id)}/content`)} alt="" className="size-10 rounded object-cover" />
            : <KindIcon image={false} />}
          <span className="max-w-48 truncate">{a.filename ?? a.file_id}</span>
        </li>
      ))}
    </ul>
  )
}
