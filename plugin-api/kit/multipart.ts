/** A multipart/form-data upload read whole within a byte limit (busboy): what the kernel gives a route's handler as `files`, and what a plugin reading its own uploads can use. */
import type { IncomingMessage } from 'node:http'
import busboy from 'busboy'
import { GatewayError, badRequest } from '../errors.ts'
import type { UploadedFile } from '../types.ts'

/** A multipart/form-data request: its text fields (a name ending in `[]`, as SDKs send lists, gathers its values) and its files, all within `limit` bytes. */
export async function readMultipart(req: IncomingMessage, limit: number): Promise<{ fields: Record<string, string | string[]>; files: UploadedFile[] }> {
  const type = req.headers['content-type'] ?? ''
  if (!/^multipart\/form-data/i.test(type)) throw new GatewayError('Send the upload as multipart/form-data.', { status: 415, code: 'unsupported_media_type' })
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length'])
  if (declared !== undefined && declared > limit) throw tooLarge(limit)
  return new Promise((resolve, reject) => {
    const fields: Record<string, string | string[]> = {}
    const files: UploadedFile[] = []
    let total = 0
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
      parser = busboy({ headers: req.headers, limits: { fileSize: limit, fieldSize: 1024 * 1024 } })
    } catch (err) {
      reject(badRequest(`The multipart body cannot be read: ${(err as Error).message}`, null, 'invalid_multipart'))
      return
    }
    parser.on('field', (name, value) => { fields[name] = name.endsWith('[]') ? [...(fields[name] ?? []), value] : value })
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length
        if (total > limit) fail(tooLarge(limit))
        else chunks.push(chunk)
      })
      stream.on('limit', () => fail(tooLarge(limit)))
      stream.on('end', () => {
        if (!failed) files.push({ field, filename: info.filename ?? 'upload', contentType: info.mimeType ?? 'application/octet-stream', data: Buffer.concat(chunks) })
      })
    })
    parser.on('error', (err: Error) => fail(badRequest(`The multipart body cannot be read: ${err.message}`, null, 'invalid_multipart')))
    parser.on('close', () => { if (!failed) resolve({ fields, files }) })
    req.pipe(parser)
  })
}

/** The refusal of a body over `server.body_limit`. */
export function tooLarge(limit: number): GatewayError {
  return new GatewayError(`Request body is larger than the limit of ${limit} bytes (server.body_limit).`, { status: 413, code: 'request_too_large' })
}
