/**
 * service.auth, mounted at /api/v1/auth: console sign-in. People sign in through an OpenID
 * Connect issuer (Microsoft Entra ID, or any issuer with discovery), or trade an API key for a
 * session; either way they get an HttpOnly session cookie backed by the user_sessions table
 * (owned here), which the auth.session strategy accepts on every route, with a CSRF token on
 * state-changing calls. An OIDC session is the same principal as the jwt strategy makes of the
 * same person's token (one claims mapping, plugins/contracts/claims.ts).
 *
 *   services: { auth: { oidc: { entra: { tenant_id }, client_id, client_secret } } }
 *   auth: { strategies: [ { plugin: session }, { plugin: api-key, ... } ] }
 */
import { fileURLToPath } from 'node:url'
import { Store, definePlugin, type Service } from '../../../plugin-api/index.ts'
import { Identity } from '../../contracts/capabilities.ts'
import { claimMapping, roleMapRoles, subjectPrefixIssues } from '../../contracts/claims.ts'
import { ConfigKeyDirectory, NO_CONFIG_KEYS } from '../../contracts/config-keys.ts'
import { undefinedRoles } from '../../contracts/roles.ts'
import { Sessions } from '../../contracts/sessions.ts'
import { SESSION_COOKIE, readCookie } from './cookies.ts'
import { OidcClient } from './oidc.ts'
import { authRoutes } from './routes.ts'
import { configSchema, type AuthConfig } from './schema.ts'
import { SessionStore } from './sessions.ts'

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url))

export default definePlugin<AuthConfig, Service>({
  id: 'service.auth',
  kind: 'service',
  description: 'Console sign-in: OpenID Connect (authorization code + PKCE) or an API key, to an HttpOnly session cookie with CSRF protection.',
  configSchema,
  needs: [Store],
  // ConfigKeyDirectory: a config-key session follows gateway.yaml's keys; this service is rebuilt with the api-key strategy.
  uses: [Identity, ConfigKeyDirectory],
  provides: [Sessions],
  checkConfig: (config, at) => [
    ...undefinedRoles(roleMapRoles(at.block.oidc).map(([path, role]) => [['oidc', ...path], role]), at),
    ...subjectPrefixIssues(config, [...at.path, 'oidc']),
  ],
  async setup(ctx, config) {
    const store = ctx.tryGet(Store)
    const identity = ctx.tryGet(Identity)
    if (!store || !identity) throw new Error('sessions are kept in the store: add `store:` to gateway.yaml (e.g. store: { plugin: embedded })')
    const oidc = config.oidc ? new OidcClient(config.oidc) : undefined
    await store.migrate({ owner: 'auth', dir: MIGRATIONS })
    const configKeys = ctx.tryGet(ConfigKeyDirectory) ?? NO_CONFIG_KEYS
    const sessions = new SessionStore(store.sql, identity, configKeys, { ttlS: config.session_ttl_s, idleS: config.idle_timeout_s, cacheTtlS: config.cache_ttl_s })
    const unsubscribe = identity.events.subscribe((event) => sessions.forget(event))
    ctx.provide(Sessions, {
      tokenOf: (headers) => readCookie(headers, SESSION_COOKIE),
      resolve: (token) => sessions.resolve(token),
      ...(config.public_url ? { publicUrl: new URL(config.public_url) } : {}),
    })
    if (oidc) ctx.logger.info({ issuer: oidc.issuer.href }, 'console sign-in with OpenID Connect')
    const service = authRoutes({
      config, sessions, identity, oidc, logger: ctx.logger,
      mapping: config.oidc ? claimMapping(config.oidc, config.oidc.entra !== undefined) : undefined,
    })
    return {
      ...service,
      dispose() {
        unsubscribe()
        sessions.clear()
      },
    }
  },
})
