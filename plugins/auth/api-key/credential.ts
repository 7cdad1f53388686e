/**
 * The key a request presents: `Authorization: Bearer <key>` (OpenAI SDKs, and the Anthropic SDK
 * today) or `x-api-key: <key>` (older Anthropic clients, curl). A bearer token shaped like a JWT
 * is left to a jwt strategy, so the two can be configured together in either order.
 */
import type { AuthRequest } from '../../../plugin-api/index.ts'

/** Three base64url segments, the first a JSON object (`{"` encodes as `eyJ`). */
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/
const BEARER = /^bearer[ \t]+/i

export function presentedKey(headers: AuthRequest['headers']): string | undefined {
  const authorization = headers.authorization
  if (typeof authorization === 'string' && BEARER.test(authorization)) {
    const token = authorization.replace(BEARER, '').trim()
    if (token && !JWT_SHAPE.test(token)) return token
  }
  const apiKey = headers['x-api-key']
  if (typeof apiKey === 'string') {
    const key = apiKey.trim()
    if (key) return key
  }
  return undefined
}
