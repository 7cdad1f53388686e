/**
 * Multipart uploads within server.body_limit however they are sent: every byte counts (text fields,
 * part headers, a chunked body without content-length), and the number of parts is bounded; file
 * names in UTF-8 come back as sent, and download with a header any client reads.
 */
import http from 'node:http'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import contentDisposition from 'content-disposition'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { Files } from '../../plugins/contracts/files.ts'

const LIMIT = 64 * 1024
const BOUNDARY = 'B'

/** A multipart body of `fields` and one small file, sent chunked (no content-length), as a stream would. */
function postChunked(url: string, fields: readonly [string, string][]): Promise<{ status: number; body: { error?: { code?: string; message?: string } } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'transfer-encoding': 'chunked' } }, (res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => { text += chunk.toString() })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }))
    })
    req.on('error', (err) => (err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err))
    for (const [name, value] of fields) req.write(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
    req.write(`--${BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\ncontent-type: text/plain\r\n\r\nhello\r\n`)
    req.end(`--${BOUNDARY}--\r\n`)
  })
}

describe('multipart uploads', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(`version: 1
store: { plugin: embedded, memory: true, vector: false }
server: { body_limit: ${LIMIT} }
providers: { mock: { plugin: mock } }
routes: [ { model: m, targets: [ { provider: mock } ] } ]
services: { files: {} }
`)
  }, 120_000)
  afterAll(async () => { await gw?.close() })

  it('counts text fields against body_limit, in a chunked body with no content-length', async () => {
    const fields: [string, string][] = Array.from({ length: 20 }, (_, i) => [`f${i}[]`, 'x'.repeat(10 * 1024)])
    const res = await postChunked(`${gw.url}/v1/files`, [['purpose', 'user_data'], ...fields])
    expect(res.status).toBe(413)
    expect(res.body.error?.code).toBe('request_too_large')
  })

  it('refuses an upload of thousands of (empty) parts', async () => {
    // 1,100 parts of ~50 bytes: within the byte limit, past the parts one upload may have.
    const fields: [string, string][] = Array.from({ length: 1100 }, (_, i) => [`p${i}`, ''])
    const res = await postChunked(`${gw.url}/v1/files`, [['purpose', 'user_data'], ...fields])
    expect(res.status).toBe(413)
    expect(res.body.error?.code).toBe('too_many_parts')
  })

  it('refuses a text field over 1 MB (under a larger body_limit), rather than cutting it short', async () => {
    const roomy = await startTestGateway('version: 1\nstore: { plugin: embedded, memory: true, vector: false }\nserver: { body_limit: 8mb }\nproviders: { mock: { plugin: mock } }\nroutes: [ { model: m, targets: [ { provider: mock } ] } ]\nservices: { files: {} }\n')
    try {
      const res = await postChunked(`${roomy.url}/v1/files`, [['purpose', 'p'.repeat(1536 * 1024)]])
      expect(res.status).toBe(413)
      expect(res.body.error?.message).toContain("'purpose'")
    } finally {
      await roomy.close()
    }
  }, 60_000)

  it('accepts a small chunked upload', async () => {
    const res = await postChunked(`${gw.url}/v1/files`, [['purpose', 'user_data']])
    expect(res.status).toBe(200)
  })

  it('keeps a UTF-8 file name as sent, and downloads it with an ASCII fallback and filename* (nosniff)', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${gw.url}/v1`, maxRetries: 0 })
    const created = await client.files.create({ file: await toFile(Buffer.from('数据'), '报告 final.txt', { type: 'text/html' }), purpose: 'user_data' })
    expect(created.filename).toBe('报告 final.txt')
    const res = await fetch(`${gw.url}/v1/files/${created.id}/content`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('数据')
    const disposition = res.headers.get('content-disposition') ?? ''
    expect(disposition).toMatch(/^attachment; filename="[^"]*"; filename\*=UTF-8''/)
    expect(decodeURIComponent(disposition.split("UTF-8''")[1]!)).toBe('报告 final.txt')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('keeps quotes in an uploaded name, and downloads a stored name with a backslash, quotes and non-ASCII whole, in an ASCII-only header', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${gw.url}/v1`, maxRetries: 0 })
    // The SDK's form sends a quote as %22; the name is stored as the client named it.
    const uploaded = await client.files.create({ file: await toFile(Buffer.from('q'), 'plan "final" é.txt'), purpose: 'user_data' })
    expect(uploaded.filename).toBe('plan "final" é.txt')
    // A stored name may hold a backslash (an upload's may too: see below).
    const stored = await capability(gw, Files).put({ filename: 'Q3\\plan "final" é 报告.txt', purpose: 'user_data', contentType: 'text/plain', data: Buffer.from('x'), owner: { userId: null, department: null } })
    for (const [id, expected] of [[uploaded.id, 'plan "final" é.txt'], [stored.id, 'Q3_plan "final" é 报告.txt']] as const) {
      const res = await client.files.content(id)
      const header = res.headers.get('content-disposition') ?? ''
      // Nothing but printable ASCII on the wire (no raw Latin-1 byte), the name escaped so it stays one parameter.
      expect(header).toMatch(/^[\x20-\x7e]+$/)
      const parsed = contentDisposition.parse(header)
      expect(parsed.type).toBe('attachment')
      // filename* (UTF-8) carries the whole name, the backslash as `_` rather than cutting what came before it.
      expect(parsed.parameters.filename).toBe(expected)
      expect(header).toMatch(/; filename="plan \\"final\\" _\.txt"|; filename="Q3_plan \\"final\\" _ __\.txt"/)
    }
  })

  it.each([
    ['a name with a backslash in it, which Linux and macOS allow', 'a\\b.txt', 'a\\b.txt'],
    ['a Windows path (drive letter)', 'C:\\docs\\report.txt', 'report.txt'],
    ['a Windows network path', '\\\\server\\share\\notes.txt', 'notes.txt'],
    ['a path with slashes', 'home/me/data.jsonl', 'data.jsonl'],
    ['a Windows path with forward slashes', 'C:/docs/report.txt', 'report.txt'],
    ['a name that is only ..', '..', 'upload'],
  ])('keeps %s as its base name: %s is stored as %s', async (_what, sent, kept) => {
    // Sent as a browser's or curl's form sends it: the openai SDK cuts names at `/` and `\` itself before sending.
    const form = new FormData()
    form.append('purpose', 'user_data')
    form.append('file', new Blob(['x'], { type: 'text/plain' }), sent)
    const res = await fetch(`${gw.url}/v1/files`, { method: 'POST', body: form })
    expect(res.status).toBe(200)
    const created = await res.json() as OpenAI.FileObject
    expect(created.filename).toBe(kept)
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${gw.url}/v1`, maxRetries: 0 })
    expect((await client.files.retrieve(created.id)).filename).toBe(kept)
  })
})
