/**
 * Word (.docx) and PowerPoint (.pptx) files to text. Both are zip archives of XML: a small file can
 * inflate to gigabytes, so the archive's entries' declared sizes are added up (fflate reads the
 * central directory, inflating nothing) and an archive past the bound is refused before anything
 * inflates. What is then inflated is held to those declared sizes (fflate inflates an entry into a
 * buffer of its declared size), and a .docx reaches mammoth repacked uncompressed, so mammoth's
 * own unzip cannot inflate more than was counted either.
 * A .docx is one section (mammoth's raw text, paragraphs apart); a .pptx a section per slide
 * (ppt/slides/slideN.xml in slide order, the `<a:t>` runs of each paragraph), its number as `page`.
 */
import { strFromU8, unzipSync, zipSync, type UnzipFileInfo } from 'fflate'
import { GatewayError } from '../../../../plugin-api/index.ts'
import type { Section } from './section.ts'

export type OfficeKind = 'docx' | 'pptx'

const NAMES: Record<OfficeKind, string> = { docx: 'a Word document', pptx: 'a PowerPoint presentation' }
const SLIDE = /^ppt\/slides\/slide(\d+)\.xml$/

const unreadable = (kind: OfficeKind, filename: string, why: string): GatewayError =>
  new GatewayError(`'${filename}' cannot be read as ${NAMES[kind]}: ${why}`, { status: 400, code: 'invalid_file', param: 'file' })

/** The archive's entries as its central directory declares them; a 422 when they inflate past `maxBytes` together. */
function entriesOf(kind: OfficeKind, data: Uint8Array, filename: string, maxBytes: number): UnzipFileInfo[] {
  const entries: UnzipFileInfo[] = []
  try {
    unzipSync(data, { filter: (entry) => { entries.push(entry); return false } })
  } catch (err) {
    throw unreadable(kind, filename, (err as Error).message)
  }
  const declared = entries.reduce((sum, e) => sum + e.originalSize, 0)
  if (declared > maxBytes) {
    throw new GatewayError(`'${filename}' cannot be indexed: its contents inflate to more than ${Math.round(maxBytes / 1024 / 1024)} MB (services.rag.extraction.office_max_inflated_mb).`, { status: 422, code: 'document_too_complex', param: 'file' })
  }
  return entries
}

/** The entries `wanted` keeps, inflated (each into at most its declared size). */
function inflated(kind: OfficeKind, data: Uint8Array, filename: string, wanted: (name: string) => boolean): Record<string, Uint8Array> {
  try {
    return unzipSync(data, { filter: (entry) => wanted(entry.name) })
  } catch (err) {
    throw unreadable(kind, filename, (err as Error).message)
  }
}

export async function officeSections(kind: OfficeKind, data: Buffer, filename: string, maxInflatedBytes: number): Promise<Section[]> {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  const entries = entriesOf(kind, bytes, filename, maxInflatedBytes)
  return kind === 'docx' ? docxSections(bytes, filename) : pptxSections(bytes, filename, entries)
}

async function docxSections(data: Uint8Array, filename: string): Promise<Section[]> {
  const files = inflated('docx', data, filename, () => true)
  if (!files['word/document.xml']) throw unreadable('docx', filename, 'it has no word/document.xml.')
  // Stored, not deflated: what mammoth unzips is what was counted.
  const repacked = zipSync(files, { level: 0 })
  const { default: mammoth } = await import('mammoth')
  let text: string
  try {
    text = (await mammoth.extractRawText({ buffer: Buffer.from(repacked.buffer, repacked.byteOffset, repacked.byteLength) })).value
  } catch (err) {
    throw unreadable('docx', filename, (err as Error).message)
  }
  return [{ text: text.replace(/\r\n?/g, '\n').replace(/\n{3,}/g, '\n\n').trim(), offset: 0 }]
}

function pptxSections(data: Uint8Array, filename: string, entries: readonly UnzipFileInfo[]): Section[] {
  const slides = entries.map((e) => ({ name: e.name, number: Number(SLIDE.exec(e.name)?.[1]) })).filter((s) => Number.isInteger(s.number)).sort((a, b) => a.number - b.number)
  if (slides.length === 0) throw unreadable('pptx', filename, 'it has no slides (ppt/slides/slideN.xml).')
  const files = inflated('pptx', data, filename, (name) => SLIDE.test(name))
  return slides.map((s) => ({ text: slideText(strFromU8(files[s.name] ?? new Uint8Array())), page: s.number, offset: 0 }))
}

/** A slide's text: its paragraphs (`<a:p>`) a line each, of their runs' text (`<a:t>`). */
export function slideText(xml: string): string {
  const lines: string[] = []
  for (const paragraph of xml.split(/<\/a:p>/)) {
    const runs = [...paragraph.matchAll(/<a:t(?:\s[^>]*)?>([^<]*)<\/a:t>/g)].map((m) => unescapeXml(m[1]!))
    if (runs.length) lines.push(runs.join(''))
  }
  return lines.join('\n')
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: '\'' }

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] !== '#') return ENTITIES[name] ?? whole
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole
  })
}
