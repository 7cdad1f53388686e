/**
 * auth.session: the console's session cookie (made by service.auth at sign-in) as a credential.
 * The session resolves to its principal as of now (the user's current role and department, or
 * the key's current settings). A state-changing request (anything but GET, HEAD, OPTIONS) must
 * also carry the session's CSRF token in `x-csrf-token`: a page on another site can make the
 * browser send the cookie, never the token.
 *
 * A request that carries a credential of its own (Authorization, x-api-key) is left to the other
 * strategies, so scripts are never judged by a cookie they happen to hold.
 *
 *   auth: { strategies: [ { plugin: session }, { plugin: api-key, ... } ] }   # with services: { auth: {} }
 */
import { timingSafeEqual } from 'node:crypto'
import { definePlugin, forbidden, unauthorized, type AuthStrategy, type Principal } from '../../../plugin-api/index.ts'
import { Sessions } from '../../contracts/sessions.ts'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

function sameToken(sent: string | string[] | undefined, expected: string): boolean {
  if (typeof sent !== 'string') return false
  const a = Buffer.from(sent)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

export default definePlugin<Record<string, never>, AuthStrategy>({
  id: 'auth.session',
  kind: 'auth',
  description: 'The console\'s session cookie (service.auth), with a CSRF token on state-changing requests.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  needs: [Sessions],
  setup(ctx) {
    const sessions = ctx.tryGet(Sessions)
    if (!sessions) throw new Error('sessions are made by the auth service: add `auth: {}` under services: in gateway.yaml')
    return {
      async authenticate(req): Promise<Principal | null> {
        if (req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined) return null
        const token = sessions.tokenOf(req.headers)
        if (token === undefined) return null
        const session = await sessions.resolve(token)
        if (!session) throw unauthorized('Your session has ended (signed out, expired or idle too long); sign in again.', 'session_expired')
        if (!SAFE_METHODS.has(req.method.toUpperCase()) && !sameToken(req.headers['x-csrf-token'], session.csrfToken)) {
          throw forbidden('This request changes something and lacks the session\'s CSRF token (x-csrf-token, from GET /api/v1/auth/me).', 'csrf_token_invalid')
        }
        return session.principal
      },
    }
  },
})
