/**
 * RAG test fixtures: a deterministic embedding model (hashed bag of words, so texts sharing
 * words are near), an OpenAI-shaped upstream serving it (reached through provider.openai, the
 * real wire), a gateway config with users in two departments, uploads and polling.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { strToU8, zipSync } from 'fflate'
import { PDFDocument, StandardFonts } from 'pdf-lib'
import type { MockUpstream } from '../helpers/upstream.ts'
import { lastUserText, researchAndSales, startOpenAIUpstream, upstreamRoutes, type OpenAIUpstream } from '../helpers/openai-upstream.ts'
import type { RunningGateway } from '../helpers/gateway.ts'

export const DIMENSIONS = 256
const STOP = new Set('a an the of to in on for and or is are be by with at from what which how who when where does do can must should after per its it this that as into than up my our your their there'.split(' '))

/** Words of a text, lower-cased, without stop words and a plural's s. */
const words = (text: string): string[] =>
  (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => !STOP.has(w)).map((w) => (w.length > 3 && w.endsWith('s') ? w.slice(0, -1) : w))

/** A unit vector: each word adds 1 at a hashed position. */
export function bagOfWords(text: string, dimensions = DIMENSIONS): number[] {
  const v = new Array<number>(dimensions).fill(0)
  for (const w of words(text)) v[createHash('sha1').update(w).digest().readUInt32BE(0) % dimensions] += 1
  const norm = Math.hypot(...v)
  return norm === 0 ? v.map((_, i) => (i === 0 ? 1 : 0)) : v.map((x) => x / norm)
}

export const fixture = (name: string): Buffer => readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/rag', name))

export async function pdfOf(pages: readonly string[][]): Promise<Buffer> {
  const pdf = await PDFDocument.create()
  const font = await pdf.embedFont(StandardFonts.Helvetica)
  for (const lines of pages) {
    const page = pdf.addPage([600, 800])
    lines.forEach((line, i) => page.drawText(line, { x: 40, y: 750 - i * 18, size: 11, font }))
  }
  return Buffer.from(await pdf.save())
}

const xml = (body: string): Uint8Array => strToU8(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>${body}`)
const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** A minimal valid Word file: its paragraphs, and `extra` parts (e.g. a large one, to bound). */
export function docxOf(paragraphs: readonly string[], extra: Record<string, Uint8Array> = {}): Buffer {
  return Buffer.from(zipSync({
    '[Content_Types].xml': xml('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
    '_rels/.rels': xml('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'),
    'word/document.xml': xml(`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${paragraphs.map((p) => `<w:p><w:r><w:t xml:space="preserve">${escapeXml(p)}</w:t></w:r></w:p>`).join('')}</w:body></w:document>`),
    ...extra,
  }))
}

/** A minimal PowerPoint file: slides (numbered from 1) of paragraphs of runs. */
export function pptxOf(slides: readonly (readonly (readonly string[])[])[]): Buffer {
  const slide = (paragraphs: readonly (readonly string[])[]) => xml(`<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/>${paragraphs.map((runs) => `<a:p>${runs.map((r) => `<a:r><a:rPr lang="en-US" dirty="0"/><a:t>${escapeXml(r)}</a:t></a:r>`).join('')}</a:p>`).join('')}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>`)
  return Buffer.from(zipSync({
    '[Content_Types].xml': xml('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'),
    ...Object.fromEntries(slides.map((paragraphs, i) => [`ppt/slides/slide${i + 1}.xml`, slide(paragraphs)])),
  }))
}

export const KEYS = {
  alice: 'alice-key-0123456789abcdef',
  bob: 'bob-key-0123456789abcdef',
  carol: 'carol-key-0123456789abcdef',
  dana: 'dana-key-0123456789abcdef',
  admin: 'admin-key-0123456789abcdef',
} as const
export type User = keyof typeof KEYS

export function ragConfig(upstream: MockUpstream, extra = ''): string {
  return `version: 1
store: { plugin: embedded, memory: true }
${upstreamRoutes(upstream)}${researchAndSales([
    { key: KEYS.alice, user: 'alice', department: 'research' },
    { key: KEYS.bob, user: 'bob', department: 'research' },
    { key: KEYS.carol, user: 'carol', department: 'sales' },
    { key: KEYS.dana, user: 'dana', department: 'research', role: 'department_admin' },
    { key: KEYS.admin, user: 'root', role: 'admin' },
  ])}services:
  rag: { embedding_route: embedder, chunking: { max_tokens: 100, overlap_tokens: 10 }, max_file_bytes: 200000, embed_batch_size: 4${extra} }
`
}

/** ragConfig with OpenAI's /v1/vector_stores and /v1/files on. */
export const vectorStoresConfig = (upstream: MockUpstream, extra = ''): string =>
  ragConfig(upstream, extra).replace('services:\n', 'surfaces:\n  vector-stores: {}\nservices:\n  files: {}\n')

export interface Api {
  (method: string, pathName: string, user: User, body?: unknown): Promise<{ status: number; body: any }>
  upload(collection: string, user: User, files: { name: string; type: string; data: Buffer }[], attributes?: Record<string, unknown>): Promise<{ status: number; body: any }>
  /** Wait until every document of the collection is completed or failed. */
  settled(collection: string, user?: User): Promise<any[]>
}

export function api(gw: RunningGateway): Api {
  const call = async (method: string, pathName: string, user: User, body?: unknown) => {
    const res = await fetch(`${gw.url}/api/v1/rag${pathName}`, {
      method, headers: { authorization: `Bearer ${KEYS[user]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, body: await res.json() }
  }
  return Object.assign(call, {
    async upload(collection: string, user: User, files: { name: string; type: string; data: Buffer }[], attributes?: Record<string, unknown>) {
      const form = new FormData()
      for (const f of files) form.append('file', new Blob([new Uint8Array(f.data)], { type: f.type }), f.name)
      if (attributes) form.append('attributes', JSON.stringify(attributes))
      const res = await fetch(`${gw.url}/api/v1/rag/collections/${collection}/documents`, { method: 'POST', headers: { authorization: `Bearer ${KEYS[user]}` }, body: form })
      return { status: res.status, body: await res.json() }
    },
    async settled(collection: string, user: User = 'admin') {
      const deadline = Date.now() + 20_000
      for (;;) {
        const { body } = await call('GET', `/collections/${collection}/documents`, user)
        const docs = body.data as any[]
        if (docs.every((d) => d.status === 'completed' || d.status === 'failed')) return docs
        if (Date.now() > deadline) throw new Error(`documents not settled: ${JSON.stringify(docs.map((d) => [d.filename, d.status, d.progress]))}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    },
  })
}

export type RagUpstream = OpenAIUpstream

/**
 * OpenAI's wire with embeddings from bagOfWords; a chat answer quotes the system message's first
 * citation marker and the user's question (streamed word by word when asked), so a test sees
 * what the model was given.
 */
export function startRagUpstream(): Promise<RagUpstream> {
  return startOpenAIUpstream({
    embed: (text, dimensions) => bagOfWords(text, dimensions ?? DIMENSIONS),
    reply: (body) => {
      const messages = body.messages as { role: string; content: string }[]
      const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => m.content).join('\n')
      const cited = /\[(\d+)\]/.exec(system)?.[1]
      return cited ? `According to the sources [${cited}]: ${lastUserText(body)}` : `No sources: ${lastUserText(body)}`
    },
  })
}
