/**
 * From an uploaded file to its text, in sections that keep where each came from: a PDF page by
 * page (unpdf, pdf.js's serverless build), Markdown by heading (mdast-util-from-markdown, so code
 * fences and setext headings are read as Markdown means them), HTML turned into Markdown first
 * (turndown) and then split the same way, plain text whole. Bad input is a 4xx naming the file.
 */
import { GatewayError, badRequest } from '../../../../plugin-api/index.ts'
import type TurndownService from 'turndown'

export type DocumentKind = 'text' | 'markdown' | 'html' | 'pdf'

/** A run of text with its source: a PDF page, or the heading path it sits under. */
export interface Section {
  readonly text: string
  readonly page?: number
  readonly heading?: string
  /** Where the section starts in the document's extracted text (per page for a PDF). */
  readonly offset: number
}

const BY_EXTENSION: Readonly<Record<string, DocumentKind>> = {
  txt: 'text', text: 'text', log: 'text', csv: 'text', json: 'text',
  md: 'markdown', markdown: 'markdown', mdx: 'markdown',
  html: 'html', htm: 'html', xhtml: 'html',
  pdf: 'pdf',
}
const BY_TYPE: Readonly<Record<string, DocumentKind>> = {
  'text/plain': 'text', 'text/csv': 'text', 'application/json': 'text',
  'text/markdown': 'markdown', 'text/x-markdown': 'markdown',
  'text/html': 'html', 'application/xhtml+xml': 'html',
  'application/pdf': 'pdf',
}

/** The kind of a file, by its first bytes, its extension, then its declared type; undefined when unsupported. */
export function kindOf(filename: string, contentType: string, data: Buffer): DocumentKind | undefined {
  if (data.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf'
  const ext = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase()
  if (ext && BY_EXTENSION[ext]) return BY_EXTENSION[ext]
  const type = contentType.split(';')[0].trim().toLowerCase()
  if (BY_TYPE[type]) return BY_TYPE[type]
  return type.startsWith('text/') ? 'text' : undefined
}

export const SUPPORTED = 'plain text (.txt), Markdown (.md), HTML (.html) or PDF (.pdf)'

/** The file's sections; a 4xx for a file that has no text or cannot be read. */
export async function extractSections(kind: DocumentKind, data: Buffer, filename: string): Promise<Section[]> {
  const sections = await read(kind, data, filename)
  const withText = sections.filter((s) => s.text.trim().length > 0)
  if (withText.length === 0) {
    const why = kind === 'pdf' ? 'this PDF has no text layer (a scanned image? run OCR on it first)' : 'it holds no text'
    throw badRequest(`'${filename}' cannot be indexed: ${why}.`, 'file', 'no_text')
  }
  return withText
}

async function read(kind: DocumentKind, data: Buffer, filename: string): Promise<Section[]> {
  switch (kind) {
    case 'pdf': return pdfPages(data, filename)
    case 'markdown': return markdownSections(utf8(data, filename))
    case 'html': return markdownSections(await htmlToMarkdown(utf8(data, filename)))
    case 'text': return [{ text: utf8(data, filename), offset: 0 }]
  }
}

function utf8(data: Buffer, filename: string): string {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(data)
  // Mostly replacement characters: a binary file sent as text.
  const bad = (text.match(/\uFFFD/g)?.length ?? 0)
  if (bad > 16 && bad > text.length / 10) throw badRequest(`'${filename}' is not UTF-8 text; send ${SUPPORTED}.`, 'file', 'unsupported_file')
  return text.replace(/\r\n?/g, '\n')
}

async function pdfPages(data: Buffer, filename: string): Promise<Section[]> {
  let pages: string[]
  try {
    // Imported here, as turndown and mdast below: each is loaded when a file of its kind is first ingested.
    const { extractText, getDocumentProxy } = await import('unpdf')
    const pdf = await getDocumentProxy(new Uint8Array(data))
    pages = (await extractText(pdf, { mergePages: false })).text
  } catch (err) {
    throw new GatewayError(`'${filename}' cannot be read as a PDF: ${(err as Error).message}`, { status: 400, code: 'invalid_file', param: 'file' })
  }
  return pages.map((text, i) => ({ text, page: i + 1, offset: 0 }))
}

let turndown: TurndownService | undefined
async function htmlToMarkdown(html: string): Promise<string> {
  const { default: TurndownService } = await import('turndown')
  turndown ??= new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced' }).remove(['script', 'style', 'noscript', 'template'])
  return turndown.turndown(html)
}

/** Sections between headings, each under the path of headings above it (`Guide > Install`). */
export async function markdownSections(markdown: string): Promise<Section[]> {
  const { fromMarkdown } = await import('mdast-util-from-markdown')
  const tree = fromMarkdown(markdown)
  const sections: Section[] = []
  const path: string[] = []
  let start = 0
  let heading: string | undefined
  const flush = (end: number): void => {
    const text = markdown.slice(start, end)
    if (text.trim()) sections.push({ text, offset: start, ...(heading ? { heading } : {}) })
  }
  for (const node of tree.children) {
    if (node.type !== 'heading' || node.position?.start.offset === undefined) continue
    flush(node.position.start.offset)
    start = node.position.start.offset
    path.length = node.depth - 1
    path[node.depth - 1] = plainText(node).trim()
    heading = path.filter(Boolean).join(' > ')
  }
  flush(markdown.length)
  return sections
}

function plainText(node: { value?: string; children?: unknown[] }): string {
  if (typeof node.value === 'string') return node.value
  return (node.children ?? []).map((c) => plainText(c as { value?: string; children?: unknown[] })).join('')
}
