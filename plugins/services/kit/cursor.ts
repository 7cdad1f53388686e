/**
 * A list's `after` cursor that names nothing of that list (deleted since, another list's, out of
 * the caller's reach) is a 400 naming it: read as an empty last page, a client paging on (the
 * SDK's auto-pagination) would stop there without a word, missing the rest.
 */
import { badRequest, type GatewayError } from '../../../plugin-api/index.ts'

export const unknownCursor = (what: string, id: string, param = 'after'): GatewayError =>
  badRequest(`\`${param}\` names no ${what} of this list: '${id}'. Page on from an id a previous page gave.`, param, 'invalid_value')
