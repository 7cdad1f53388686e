/** A multipart/form-data upload read whole within a byte limit (busboy): what the kernel gives a route's handler as `files`, and what a plugin reading its own uploads can use. */
import type { IncomingMessage } from 'node:http'
import busboy from 'busboy'
import { GatewayError, badRequest } from '../errors.ts'
import type { UploadedFile } from '../types.ts'

/** Parts one upload may have: the SDKs send a file and a few fields; thousands of empty parts are a way to hold memory. */
const MAX_FIELDS = 1000
const MAX_FILES = 100

/**
 * A multipart/form-data request: its text fields (a name ending in `[]`, as SDKs send lists,
 * gathers its values) and its files, all within `limit` bytes: every byte read counts, fields and
 * part headers too, also when no content-length was declared (chunked).
 */
export async function readMultipart(req: IncomingMessage, limit: number): Promise<{ fields: Record<string, string | string[]>; files: UploadedFile[] }> {
  const type = req.headers['content-type'] ?? ''
  if (!/^multipart\/form-data/i.test(type)) throw new GatewayError('Send the upload as multipart/form-data.', { status: 415, code: 'unsupported_media_type' })
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length'])
  if (declared !== undefined && declared > limit) throw tooLarge(limit)
  return new Promise((resolve, reject) => {
    // No prototype: a field named `__proto__` is a field like any other.
    const fields: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>
    const files: UploadedFile[] = []
    let total = 0
    let read = 0
    let failed = false
    const fail = (error: GatewayError): void => {
      if (failed) return
      failed = true
      req.unpipe()
      req.resume()
      reject(error)
    }
    let parser: busboy.Busboy
    try {
      // File names as UTF-8 (busboy's default for `filename=` is latin1: `报告.txt` became mojibake).
      // preservePath: busboy's own basename cuts at every backslash (`a\b.txt` became `b.txt`); `uploadName` decides.
      parser = busboy({ headers: req.headers, defParamCharset: 'utf8', preservePath: true, limits: { fileSize: limit, fieldSize: Math.min(1024 * 1024, limit), fields: MAX_FIELDS, files: MAX_FILES, parts: MAX_FIELDS + MAX_FILES } })
    } catch (err) {
      reject(badRequest(`The multipart body cannot be read: ${(err as Error).message}`, null, 'invalid_multipart'))
      return
    }
    req.on('data', (chunk: Buffer) => {
      read += chunk.length
      if (read > limit) fail(tooLarge(limit))
    })
    const tooManyParts = (): void => fail(new GatewayError(`The upload has more than ${MAX_FIELDS} fields or ${MAX_FILES} files.`, { status: 413, code: 'too_many_parts' }))
    parser.on('fieldsLimit', tooManyParts)
    parser.on('filesLimit', tooManyParts)
    parser.on('partsLimit', tooManyParts)
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) return fail(new GatewayError(`The form field '${name.slice(0, 100)}' is longer than ${Math.min(1024 * 1024, limit)} bytes.`, { status: 413, code: 'request_too_large', param: name.slice(0, 100) }))
      if (!name.endsWith('[]')) fields[name] = value
      else {
        const list = fields[name]
        if (Array.isArray(list)) list.push(value)
        else fields[name] = [value]
      }
    })
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length
        if (total > limit) fail(tooLarge(limit))
        else chunks.push(chunk)
      })
      stream.on('limit', () => fail(tooLarge(limit)))
      stream.on('end', () => {
        if (!failed) files.push({ field, filename: uploadName(info.filename), contentType: info.mimeType ?? 'application/octet-stream', data: Buffer.concat(chunks) })
      })
    })
    parser.on('error', (err: Error) => fail(badRequest(`The multipart body cannot be read: ${err.message}`, null, 'invalid_multipart')))
    parser.on('close', () => { if (!failed) resolve({ fields, files }) })
    req.pipe(parser)
  })
}

/**
 * The name an uploaded file is kept under: its base name, as OpenAI keeps it. A `/` always
 * separates a path's parts (no common file system allows it in a name); a `\` does only in what
 * is plainly a Windows path (`C:\docs\a.txt`, `\\server\share\a.txt`: some clients send a picked
 * file's full path), since elsewhere it is a character a name may hold (`a\b.txt` on Linux or
 * macOS stays whole). A quote is sent as %22 (the HTML standard's form encoding, which fetch's
 * FormData and so the official SDKs follow): the name as the client knew it. No name, or only
 * `.` / `..`: `upload`.
 */
export function uploadName(sent: string | undefined): string {
  const path = sent ?? ''
  const windows = /^(?:[A-Za-z]:\\|\\)/.test(path)
  const name = path.slice(Math.max(path.lastIndexOf('/'), windows ? path.lastIndexOf('\\') : -1) + 1).replaceAll('%22', '"')
  return name === '' || name === '.' || name === '..' ? 'upload' : name
}

/** The refusal of a body over `server.body_limit`. */
export function tooLarge(limit: number): GatewayError {
  return new GatewayError(`Request body is larger than the limit of ${limit} bytes (server.body_limit).`, { status: 413, code: 'request_too_large' })
}
