/**
 * Console sessions, as the auth.session strategy reads them: service.auth signs people in and
 * keeps their sessions (the user_sessions table); the strategy turns a request's session cookie
 * into the session's principal. A third-party sign-in service may provide the same capability.
 */
import { token, type AuthRequest, type Principal, type Token } from '../../plugin-api/index.ts'

export interface LiveSession {
  /** Who the session acts as, as of now (a user's current role and department; a key's current settings). */
  readonly principal: Principal
  /** What every state-changing request of this session must send in `x-csrf-token`. */
  readonly csrfToken: string
  readonly expiresAt: Date
  /** How the person signed in. */
  readonly method: 'oidc' | 'api_key'
}

export interface Sessions {
  /** The session cookie's value in these request headers, if any. */
  tokenOf(headers: AuthRequest['headers']): string | undefined
  /** The live session of this cookie value, or undefined: unknown, expired, idle too long, signed out, or its key revoked. */
  resolve(token: string): Promise<LiveSession | undefined>
  /**
   * The URL people open the console at (service.auth's `public_url`), when configured: behind a
   * reverse proxy at https://host/gateway/ its path is the prefix the console's pages and API calls
   * go through (service.console writes it into the page as its <base href>).
   */
  readonly publicUrl?: URL
}

export const Sessions: Token<Sessions> = token<Sessions>('Sessions')
