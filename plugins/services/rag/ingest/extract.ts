/**
 * From an uploaded file to its text, in sections that keep where each came from: a PDF page by
 * page (unpdf, pdf.js's serverless build), Markdown by heading (mdast-util-from-markdown, so code
 * fences and setext headings are read as Markdown means them), HTML turned into Markdown first
 * (turndown) and then split the same way, a PowerPoint file slide by slide and a Word file whole
 * (office.ts), plain text whole. Bad input is a 4xx naming the file.
 */
import zlib from 'node:zlib'
import { GatewayError, badRequest } from '../../../../plugin-api/index.ts'
import type TurndownService from 'turndown'
import type { ExtractionLimits } from '../schema.ts'
import { officeSections } from './office.ts'
import { returnReader, stopReader, takeReader } from './readers.ts'

export type DocumentKind = 'text' | 'markdown' | 'html' | 'pdf' | 'docx' | 'pptx'

import type { Section } from './section.ts'
export type { Section }

/** Source code and other text OpenAI's file search takes (.py, .js, .ts, .go, .java, .c, .cs, .rb, .php, .sh, .tex, .css...), read as plain text. */
const CODE = 'c h cc cpp hpp cs css go java js mjs cjs jsx ts tsx php py rb rs sh bash kt swift scala sql tex yaml yml toml xml rst'.split(' ')

export const BY_EXTENSION: Readonly<Record<string, DocumentKind>> = {
  ...Object.fromEntries(CODE.map((ext) => [ext, 'text' as const])),
  txt: 'text', text: 'text', log: 'text', csv: 'text', json: 'text',
  md: 'markdown', markdown: 'markdown', mdx: 'markdown',
  html: 'html', htm: 'html', xhtml: 'html',
  pdf: 'pdf',
  docx: 'docx', pptx: 'pptx',
}
const BY_TYPE: Readonly<Record<string, DocumentKind>> = {
  'text/plain': 'text', 'text/csv': 'text', 'application/json': 'text', 'application/javascript': 'text', 'application/typescript': 'text',
  'application/x-sh': 'text', 'application/x-tex': 'text', 'application/xml': 'text', 'application/yaml': 'text', 'application/sql': 'text',
  'text/markdown': 'markdown', 'text/x-markdown': 'markdown',
  'text/html': 'html', 'application/xhtml+xml': 'html',
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
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

export const SUPPORTED = 'plain text (.txt, .json, .csv, source code such as .py, .ts, .go), Markdown (.md), HTML (.html), PDF (.pdf), Word (.docx) or PowerPoint (.pptx)'

export interface ExtractJob {
  readonly kind: DocumentKind
  readonly data: Uint8Array
  readonly filename: string
  /** The most bytes a PDF's compressed streams may inflate to, all together. */
  readonly maxInflatedBytes: number
  /** The most bytes a .docx or .pptx archive's entries may inflate to, all together. */
  readonly maxOfficeInflatedBytes: number
}
export type ExtractResult =
  | { readonly sections: Section[] }
  | { readonly error: { readonly message: string; readonly status?: number; readonly code?: string; readonly param?: string | null } }

/** How often the process's memory is looked at while a document is read. */
const MEMORY_CHECK_MS = 25
// Process-wide, not per snapshot: the threads and the memory they take are the process's, so a
// reload that briefly holds two snapshots still reads at most `concurrency` documents at once.
let running = 0
const waiting: (() => void)[] = []

/** Documents being read now (for tests and metrics). */
export const extractionsRunning = (): number => running

/**
 * The file's sections, read in a worker thread (readers.ts: kept and reused, one document at a
 * time each): parsing a large Markdown or HTML file takes seconds of CPU (a 1.8 MB Markdown file
 * held the event loop 25 s), deep nesting overflows the stack, and a small PDF can inflate to
 * gigabytes. Its heap is bounded, it is stopped (and not reused) after the timeout, a PDF's
 * compressed streams may inflate so far in all, and `limits.concurrency` run at once (up to
 * `limits.queue` others wait; past that, a 503). A 4xx for a file that has no text, cannot be read, or passes a bound.
 */
export async function extractInWorker(kind: DocumentKind, data: Buffer, filename: string, limits: ExtractionLimits): Promise<Section[]> {
  // Plain text is only decoded (linear, bounded by max_file_bytes): starting a thread for it cost
  // more than the reading (a batch of 2,000 source files waited on 2,000 thread starts).
  if (kind === 'text') return extractSections(kind, data, filename)
  if (running >= limits.concurrency && waiting.length >= limits.queue) {
    throw new GatewayError(`Documents are being read for other uploads; send '${filename}' again shortly.`, { status: 503, code: 'extraction_busy', param: 'file', headers: { 'retry-after': '5' } })
  }
  // A loop, not an if: a freed slot wakes the first waiter, but a caller arriving meanwhile may take it first.
  while (running >= limits.concurrency) await new Promise<void>((resolve) => waiting.push(resolve))
  running++
  try {
    return await runWorker({ kind, data: new Uint8Array(data), filename, maxInflatedBytes: limits.pdf_max_inflated_mb * 1024 * 1024, maxOfficeInflatedBytes: limits.office_max_inflated_mb * 1024 * 1024 }, limits)
  } finally {
    running--
    waiting.shift()?.()
  }
}

function runWorker(job: ExtractJob, limits: ExtractionLimits): Promise<Section[]> {
  const tooMuch = (what: string): GatewayError => new GatewayError(`'${job.filename}' cannot be indexed: reading it ${what}.`, { status: 422, code: 'document_too_complex', param: 'file' })
  return new Promise((resolve, reject) => {
    const reader = takeReader(limits.heap_mb)
    const { worker } = reader
    let settled = false
    /** The reading ended: `answered`, the thread is whole and reads the next document; else (a bound, a crash) it is stopped and replaced. */
    const settle = (fn: () => void, answered = false): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearInterval(watch)
      worker.off('message', onMessage).off('error', onError).off('exit', onExit)
      if (answered) returnReader(reader, limits.concurrency)
      else stopReader(reader, limits.concurrency)
      fn()
    }
    const timer = setTimeout(() => settle(() => reject(tooMuch(`took longer than ${limits.timeout_ms} ms (services.rag.extraction.timeout_ms)`))), limits.timeout_ms)
    // What pdf.js decodes lives in buffers outside the thread's heap (a 20 kB PDF of twice-deflated
    // text reached 4.4 GB): the process's growth is watched, and the reading stopped past memory_mb.
    // Growth from the lowest seen meanwhile: another thread that ends (an idle one retired, another
    // document's) frees memory, and from the start alone that would hide as much of this one's growth.
    let baseline = process.memoryUsage.rss()
    const watch = setInterval(() => {
      const rss = process.memoryUsage.rss()
      baseline = Math.min(baseline, rss)
      if (rss - baseline > limits.memory_mb * 1024 * 1024) settle(() => reject(tooMuch(`needs more than ${limits.memory_mb} MB (services.rag.extraction.memory_mb)`)))
    }, MEMORY_CHECK_MS)
    const onMessage = (result: ExtractResult): void => settle(() => {
      if ('sections' in result) return resolve(result.sections)
      const { message, status, code, param } = result.error
      reject(status ? new GatewayError(message, { status, code: code ?? 'invalid_file', param: param ?? 'file' }) : new GatewayError(`'${job.filename}' cannot be read: ${message}`, { status: 400, code: 'invalid_file', param: 'file' }))
    }, true)
    const onError = (err: Error & { code?: string }): void => settle(() => reject(
      err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? tooMuch(`needs more than ${limits.heap_mb} MB (services.rag.extraction.heap_mb)`) : new GatewayError(`'${job.filename}' cannot be read: ${err.message}`, { status: 400, code: 'invalid_file', param: 'file' }),
    ))
    const onExit = (code: number): void => settle(() => reject(new GatewayError(`'${job.filename}' could not be read (the reader stopped with code ${code}).`, { status: 500, code: 'extraction_failed' })))
    worker.once('message', onMessage).once('error', onError).once('exit', onExit)
    worker.postMessage(job, [job.data.buffer as ArrayBuffer])
  })
}

/** The file's sections; a 4xx for a file that has no text or cannot be read. (In the calling thread: extractInWorker is the bounded way.) */
export async function extractSections(kind: DocumentKind, data: Buffer, filename: string, limits: { maxInflatedBytes?: number; maxOfficeInflatedBytes?: number } = {}): Promise<Section[]> {
  if (kind === 'pdf' && limits.maxInflatedBytes !== undefined) checkInflatedSize(data, filename, limits.maxInflatedBytes)
  const sections = kind === 'docx' || kind === 'pptx' ? await officeSections(kind, data, filename, limits.maxOfficeInflatedBytes ?? OFFICE_MAX_INFLATED_BYTES) : await read(kind, data, filename)
  const withText = sections.filter((s) => s.text.trim().length > 0)
  if (withText.length === 0) {
    const why = kind === 'pdf' ? 'this PDF has no text layer (a scanned image? run OCR on it first)' : 'it holds no text'
    throw badRequest(`'${filename}' cannot be indexed: ${why}.`, 'file', 'no_text')
  }
  return withText
}

/** An Office file's bound when none is given (the setting's default). */
const OFFICE_MAX_INFLATED_BYTES = 256 * 1024 * 1024

async function read(kind: Exclude<DocumentKind, 'docx' | 'pptx'>, data: Buffer, filename: string): Promise<Section[]> {
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
    // Destroyed when read: the thread reads the next document too (readers.ts).
    pages = (await extractText(pdf, { mergePages: false }).finally(() => pdf.destroy())).text
  } catch (err) {
    throw new GatewayError(`'${filename}' cannot be read as a PDF: ${(err as Error).message}`, { status: 400, code: 'invalid_file', param: 'file' })
  }
  return pages.map((text, i) => ({ text, page: i + 1, offset: 0 }))
}

/**
 * A PDF's Flate-compressed streams (images aside: text extraction does not decode them) inflated
 * with a budget, before pdf.js inflates them without one: a 1.5 MB file can hold 1.5 GB of text
 * stream. Streams zlib cannot read are left to pdf.js.
 */
function checkInflatedSize(data: Buffer, filename: string, maxBytes: number): void {
  let budget = maxBytes
  for (let at = data.indexOf('stream'); at >= 0; at = data.indexOf('stream', at + 6)) {
    if (data.subarray(Math.max(0, at - 3), at).toString('latin1') === 'end') continue
    const dictionary = data.subarray(Math.max(0, at - 512), at).toString('latin1')
    const start = dictionary.lastIndexOf('<<')
    const header = start >= 0 ? dictionary.slice(start) : dictionary
    if (!header.includes('FlateDecode') || /\/Subtype\s*\/Image/.test(header)) continue
    let body = at + 6
    if (data[body] === 0x0d) body++
    if (data[body] === 0x0a) body++
    const end = data.indexOf('endstream', body)
    if (end < 0) break
    try {
      budget -= zlib.inflateSync(data.subarray(body, end), { maxOutputLength: budget + 1, finishFlush: zlib.constants.Z_SYNC_FLUSH }).length
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') budget = -1
    }
    if (budget < 0) throw new GatewayError(`'${filename}' cannot be indexed: its compressed text inflates to more than ${Math.round(maxBytes / 1024 / 1024)} MB (services.rag.extraction.pdf_max_inflated_mb).`, { status: 422, code: 'document_too_complex', param: 'file' })
    at = end
  }
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
