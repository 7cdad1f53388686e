/** Read a JSON request body within the snapshot's size limit and the nesting limit (core/api/json-depth.ts). */
import type Koa from 'koa'
import getRawBody from 'raw-body'
import { GatewayError, badRequest } from '../errors.ts'
import { MAX_JSON_DEPTH, jsonDepthExceeds } from '../api/json-depth.ts'

export async function readJson(ctx: Koa.Context, limit: number): Promise<unknown> {
  // The body is read as JSON whatever the Content-Type says (curl -d sends form-urlencoded):
  // what matters is whether it parses.
  const declared = ctx.request.length
  if (declared !== undefined && declared > limit) throw tooLarge(limit)
  let text: string
  try {
    text = await getRawBody(ctx.req, { limit, length: declared, encoding: 'utf8' })
  } catch (err) {
    if ((err as { type?: string }).type === 'entity.too.large') throw tooLarge(limit)
    throw new GatewayError('Could not read the request body.', { status: 400, code: 'invalid_body', cause: err })
  }
  if (text.length === 0) throw badRequest('The request body is empty; send a JSON object.', null, 'invalid_json')
  if (jsonDepthExceeds(text)) throw badRequest(`The request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep, the limit.`, null, 'invalid_json')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw badRequest(`The request body is not valid JSON: ${(err as Error).message}`, null, 'invalid_json')
  }
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError(`Request body is larger than the limit of ${limit} bytes (server.body_limit).`, { status: 413, code: 'request_too_large' })
}
