/** Reading JSON request bodies within the snapshot's limits (depth bounded before parsing); multipart uploads are the kit's (plugin-api/kit/multipart.ts). */
import type { Transform } from 'node:stream'
import zlib from 'node:zlib'
import type Koa from 'koa'
import getRawBody from 'raw-body'
import { GatewayError, badRequest } from '../../plugin-api/errors.ts'
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../../plugin-api/kit/json-depth.ts'
import { tooLarge } from '../../plugin-api/kit/multipart.ts'

/** `empty`: what an empty body reads as (a route whose fields are all optional); without it an empty body is a 400. */
export async function readJson(ctx: Koa.Context, limit: number, empty?: unknown): Promise<unknown> {
  const declared = ctx.request.length
  // A body with a declared type must be JSON (absent is fine: `curl --data-binary` and empty POSTs).
  const type = ctx.get('content-type')
  if (type && declared !== 0 && !JSON_TYPE.test(type)) {
    throw new GatewayError(`The request body must be JSON: send Content-Type: application/json (got '${type.split(';')[0].slice(0, 100)}').`, { status: 415, code: 'unsupported_media_type', param: 'content-type' })
  }
  // The limit applies to the compressed size as sent and to the decompressed size read (no zip bombs).
  if (declared !== undefined && declared > limit) throw tooLarge(limit)
  const encoding = ctx.get('content-encoding').trim().toLowerCase() || 'identity'
  const decoder = DECODERS[encoding]
  if (!decoder) {
    throw new GatewayError(`Content-Encoding '${encoding.slice(0, 40)}' is not supported; send the body as it is, or gzip, deflate or br.`, { status: 415, code: 'unsupported_content_encoding', param: 'content-encoding' })
  }
  let text: string
  try {
    // Read as bytes and decoded whole (a UTF-8 BOM skipped): raw-body's `encoding` streams through iconv-lite, 1-2% of a request's CPU.
    const bytes = await getRawBody(decoder === 'identity' ? ctx.req : ctx.req.pipe(decoder()), { limit, length: decoder === 'identity' ? declared : undefined })
    text = bytes.toString('utf8', bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0)
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') throw tooLarge(limit)
    if (decoder !== 'identity') {
      ctx.req.resume()
      throw badRequest(`The request body is not valid ${encoding} data (Content-Encoding: ${encoding}).`, 'content-encoding', 'invalid_content_encoding')
    }
    throw new GatewayError('Could not read the request body.', { status: 400, code: 'invalid_body', cause: err })
  }
  if (text.length === 0) {
    if (empty !== undefined) return empty
    throw badRequest('The request body is empty; send a JSON object.', null, 'invalid_json')
  }
  if (jsonDepthExceeds(text)) throw badRequest(`The request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep, the limit.`, null, 'invalid_json')
  try {
    return JSON.parse(text)
  } catch (err) {
    // The parser quotes the text near the error: keep that out of a message when it is not readable text.
    const message = (err as Error).message
    throw badRequest(`The request body is not valid JSON${/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(message) ? ' (is it compressed without a Content-Encoding header?)' : `: ${message}`}`, null, 'invalid_json')
  }
}

/** application/json, and any `+json` type (application/merge-patch+json...). */
const JSON_TYPE = /^\s*application\/([\w.-]+\+)?json\s*(;|$)/i

const DECODERS: Record<string, 'identity' | (() => Transform)> = {
  identity: 'identity',
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
}
