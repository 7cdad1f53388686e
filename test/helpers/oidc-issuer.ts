/**
 * A real OpenID Connect issuer for tests (oidc-provider), on a free port: discovery, JWKS, the
 * authorization and token endpoints, PKCE required. Its sign-in screen is replaced by one that
 * signs in at once as `issuer.account` (the person the test says is at the keyboard), so a test
 * or a browser goes issuer → gateway without filling a form. Everything else is the library's own.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Provider, { type Account } from 'oidc-provider'

export interface TestAccount {
  readonly sub: string
  readonly name?: string
  readonly email?: string
  readonly roles?: readonly string[]
  readonly groups?: readonly string[]
}

export interface TestIssuer {
  readonly url: string
  readonly clientId: string
  readonly clientSecret: string
  /** Who signs in next. */
  account: TestAccount
  /** Answer the next sign-in with this OAuth error (e.g. access_denied) instead. */
  refuseNext: string | undefined
  /** How many times the sign-in screen was shown: a browser with a live session at the issuer skips it. */
  interactions: number
  close(): Promise<void>
}

export interface TestIssuerOptions {
  readonly redirectUris: () => readonly string[]
  /** Where the issuer may send people back after signing them out (RP-initiated logout). */
  readonly postLogoutRedirectUris?: () => readonly string[]
  readonly account?: TestAccount
}

export async function startTestIssuer(options: TestIssuerOptions): Promise<TestIssuer> {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const clientId = 'gateway-console'
  const clientSecret = 'console-secret-for-tests-only'
  const accounts = new Map<string, TestAccount>()

  // Made at the first request: by then the gateway under test has its port, so its redirect URI is known.
  const makeProvider = () => new Provider(url, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [...options.redirectUris()],
      post_logout_redirect_uris: [...(options.postLogoutRedirectUris?.() ?? [])],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    pkce: { required: () => true },
    claims: { openid: ['sub'], profile: ['name', 'roles', 'groups'], email: ['email'] },
    // The ID token carries the profile claims, as Entra's does (no userinfo call needed).
    conformIdTokenClaims: false,
    cookies: { keys: ['test-issuer-cookie-key'] },
    async findAccount(_ctx, sub): Promise<Account> {
      const account = accounts.get(sub) ?? { sub }
      return { accountId: sub, claims: async () => ({ ...account }) }
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // The sign-out question, as a plain form a test can read and submit (logout=yes signs out).
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true, logoutSource: async (ctx, form) => {
      ctx.body = `<!doctype html><title>Sign out</title>${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`
    } } },
  })

  const issuer: TestIssuer = {
    url,
    clientId,
    clientSecret,
    account: options.account ?? { sub: 'alice', name: 'Alice Example', email: 'alice@example.com', roles: ['Gateway.User'] },
    refuseNext: undefined,
    interactions: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }

  let provider: Provider | undefined
  let callback: ReturnType<Provider['callback']> | undefined
  server.on('request', async (req, res) => {
    provider ??= makeProvider()
    callback ??= provider.callback()
    if (!req.url?.startsWith('/interaction/')) return callback(req, res)
    try {
      const details = await provider.interactionDetails(req, res)
      issuer.interactions += 1
      if (issuer.refuseNext) {
        const error = issuer.refuseNext
        issuer.refuseNext = undefined
        return await provider.interactionFinished(req, res, { error, error_description: 'refused in the test' }, { mergeWithLastSubmission: false })
      }
      const account = issuer.account
      accounts.set(account.sub, account)
      const grant = new provider.Grant({ accountId: account.sub, clientId: String(details.params.client_id) })
      grant.addOIDCScope(String(details.params.scope))
      const grantId = await grant.save()
      await provider.interactionFinished(req, res, { login: { accountId: account.sub }, consent: { grantId } }, { mergeWithLastSubmission: false })
    } catch (err) {
      res.statusCode = 500
      res.end(String(err))
    }
  })
  return issuer
}
