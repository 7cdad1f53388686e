/**
 * OpenID Connect sign-in with openid-client: the authorization code flow with PKCE (S256), state
 * and nonce. The issuer's metadata is discovered from its URL on first use (not at start: a
 * gateway must start while its identity provider is unreachable) and kept; a failed discovery is
 * tried again at the next sign-in.
 */
import * as client from 'openid-client'
import { GatewayError } from '../../../plugin-api/index.ts'
import type { Claims } from '../../contracts/claims.ts'
import type { OidcConfig } from './schema.ts'

export interface LoginStart {
  readonly url: URL
  readonly state: string
  readonly nonce: string
  readonly codeVerifier: string
}

export interface LoginChecks {
  readonly state: string
  readonly nonce: string
  readonly codeVerifier: string
}

export class OidcClient {
  readonly issuer: URL
  readonly label: string
  readonly #config: OidcConfig
  #discovered: Promise<client.Configuration> | undefined

  constructor(config: OidcConfig) {
    this.#config = config
    const authority = config.entra?.authority.replace(/\/+$/, '')
    const issuer = config.issuer ?? (config.entra ? `${authority}/${config.entra.tenant_id}/v2.0` : undefined)
    if (!issuer) throw Object.assign(new Error('oidc needs `issuer` (or `entra: { tenant_id }`)'), { path: ['oidc'] })
    if (!config.scopes.includes('openid')) throw Object.assign(new Error('scopes must include openid'), { path: ['oidc', 'scopes'] })
    this.issuer = new URL(issuer)
    if (this.issuer.protocol === 'http:' && !config.allow_http) {
      throw Object.assign(new Error('the issuer must be https (allow_http: true is for a local test issuer only)'), { path: ['oidc', 'issuer'] })
    }
    this.label = config.label ?? (config.entra ? 'Microsoft' : this.issuer.host)
  }

  #configuration(): Promise<client.Configuration> {
    this.#discovered ??= client
      .discovery(this.issuer, this.#config.client_id, this.#config.client_secret, undefined, {
        timeout: 10,
        ...(this.#config.allow_http ? { execute: [client.allowInsecureRequests] } : {}),
      })
      .catch((err: unknown) => {
        this.#discovered = undefined
        throw new GatewayError(`The identity provider cannot be reached right now (${(err as Error).message}); try again shortly.`, { status: 503, code: 'oidc_unavailable', cause: err })
      })
    return this.#discovered
  }

  /** Where to send the browser, and what its return must match. */
  async start(redirectUri: string): Promise<LoginStart> {
    const config = await this.#configuration()
    const codeVerifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const nonce = client.randomNonce()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.#config.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })
    return { url, state, nonce, codeVerifier }
  }

  /** The ID token's claims, once the code is exchanged and the token checked (signature, iss, aud, exp, nonce). */
  async finish(callbackUrl: URL, checks: LoginChecks): Promise<Claims> {
    const config = await this.#configuration()
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    })
    const claims = tokens.claims()
    if (!claims) throw new Error('the token response has no ID token')
    return claims as Claims
  }

  /** The issuer's sign-out page, when configured to use it and the issuer has one. */
  async signOutUrl(postLogoutRedirectUri: string): Promise<string | undefined> {
    if (!this.#config.sign_out_of_issuer) return undefined
    const config = await this.#configuration()
    if (!config.serverMetadata().end_session_endpoint) return undefined
    return client.buildEndSessionUrl(config, { client_id: this.#config.client_id, post_logout_redirect_uri: postLogoutRedirectUri }).href
  }
}
