/**
 * A PDF's text riding on its file part, for the targets that read no PDF. OpenAI, Anthropic and
 * Gemini read a chat request's PDF file part natively; an OpenAI-compatible server (vLLM, Groq,
 * Mistral, DeepSeek) answers 400 to it or ignores it. Which target a request reaches is known only
 * when it is called (a route falls back from Anthropic to vLLM), so the part keeps the PDF and
 * carries a way to its text (a symbol key: never serialised, so never sent); a provider that reads
 * no PDF swaps such parts for the text, in the `<file name="…">` block other documents are sent in.
 * The request carries the same key as a mark, so a provider looks at one property of a request,
 * not at its messages, to know whether there is anything to swap.
 */
import type { ChatRequest } from '../../plugin-api/index.ts'

/** The text of a file part's document, read when a target first asks (read once: the reader caches it). */
export type FileText = () => Promise<string>

export const FILE_TEXT: unique symbol = Symbol('file text')

type Hinted = { [FILE_TEXT]?: FileText | true }

/** `part` (a chat file part) carrying its document's text for targets that read no PDF. */
export function withFileText<T extends object>(part: T, text: FileText): T {
  return Object.assign(part, { [FILE_TEXT]: text })
}

/** `request` marked as carrying file parts with their text when one of its messages does (the conversations service's requests only). */
export function markFileTexts(request: ChatRequest): ChatRequest {
  const carries = request.messages.some((m) => Array.isArray(m.content) && (m.content as object[]).some((p) => typeof (p as Hinted)[FILE_TEXT] === 'function'))
  return carries ? Object.assign(request, { [FILE_TEXT]: true }) : request
}

/** Whether `request` carries file parts with their text: one property read, free for every other request. */
export const carriesFileTexts = (request: object): boolean => (request as Hinted)[FILE_TEXT] === true

/** The block a document's text is sent in, as an attached .docx or .txt is. */
export const fileBlock = (filename: string, text: string): string => `<file name="${filename}">\n${text}\n</file>`

/**
 * For a target that reads no PDF: `request` with each file part that carries its text sent as that
 * text instead. A copy; `request` is left as it is (the route may fall back to a target that reads it).
 */
export async function withFileTextsAsText(request: ChatRequest): Promise<ChatRequest> {
  const messages = await Promise.all(request.messages.map(async (message) => {
    if (!Array.isArray(message.content) || !(message.content as object[]).some((p) => typeof (p as Hinted)[FILE_TEXT] === 'function')) return message
    const content = await Promise.all((message.content as object[]).map(async (part) => {
      const text = (part as Hinted)[FILE_TEXT]
      if (typeof text !== 'function') return part
      const filename = (part as { file?: { filename?: string } }).file?.filename ?? 'document.pdf'
      return { type: 'text' as const, text: fileBlock(filename, await text()) }
    }))
    return { ...message, content } as typeof message
  }))
  return { ...request, messages }
}
