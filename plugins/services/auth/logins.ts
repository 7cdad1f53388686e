/**
 * OpenID Connect logins under way (auth_logins): what the callback must match, kept server-side
 * and bound to the browser by the login cookie. A login is used once: the callback takes it out.
 */
import type { SqlClient } from '../../../plugin-api/index.ts'
import { sha256 } from './sessions.ts'

export interface PendingLogin {
  readonly state: string
  readonly nonce: string
  readonly codeVerifier: string
  readonly redirectUri: string
  readonly returnTo: string
}

export class LoginStore {
  readonly #sql: SqlClient
  readonly #ttlS: number

  constructor(sql: SqlClient, ttlS: number) {
    this.#sql = sql
    this.#ttlS = ttlS
  }

  async save(cookieValue: string, login: PendingLogin): Promise<void> {
    await this.#sql.query(
      `INSERT INTO auth_logins (id_hash, state, nonce, code_verifier, redirect_uri, return_to, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
      [sha256(cookieValue), login.state, login.nonce, login.codeVerifier, login.redirectUri, login.returnTo, this.#ttlS],
    )
  }

  /** The login this cookie started, taken out (a second callback with it finds nothing); undefined when unknown or expired. */
  async take(cookieValue: string): Promise<PendingLogin | undefined> {
    const { rows } = await this.#sql.query<{ state: string; nonce: string; code_verifier: string; redirect_uri: string; return_to: string; live: boolean }>(
      'DELETE FROM auth_logins WHERE id_hash = $1 RETURNING state, nonce, code_verifier, redirect_uri, return_to, expires_at > now() AS live',
      [sha256(cookieValue)],
    )
    const row = rows[0]
    if (!row || !row.live) return undefined
    return { state: row.state, nonce: row.nonce, codeVerifier: row.code_verifier, redirectUri: row.redirect_uri, returnTo: row.return_to }
  }
}
