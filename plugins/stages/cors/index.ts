/**
 * stage.cors: `cors:` in gateway.yaml, @koa/cors on /v1 and /api/v1 in the `http` phase (every
 * HTTP request, before its route). Present only when the config has a `cors:` block, so without
 * one no response carries CORS headers; a reload that changes the block builds a new instance.
 */
import koaCors from '@koa/cors'
import { definePlugin, type JsonSchema, type Stage } from '../../../plugin-api/index.ts'

interface CorsConfig {
  origins: string[]
  headers?: string[]
  credentials: boolean
  max_age_s: number
}

/** What a browser script may read of a response. */
const EXPOSED = ['x-request-id', 'x-gateway-route', 'x-gateway-provider', 'x-gateway-model', 'x-gateway-attempts', 'x-gateway-warning', 'retry-after']

/** Only the public APIs; the console (same origin) and the kernel's /health and /metrics need none. */
const CORS_PATH = /^\/(v1|api\/v1)(\/|$)/

const SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Cross-origin requests from browser apps to /v1 and /api/v1 (off when absent).',
  required: ['origins'],
  properties: {
    origins: {
      type: 'array', minItems: 1, items: { type: 'string', pattern: '^(\\*|https?://[^/\\s]+)$' },
      description: 'Origins allowed to call the gateway, e.g. https://app.example.com; "*" allows any (not with credentials).',
    },
    headers: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9-]+$' }, description: 'Request headers a browser may send (default: those its preflight asks for).' },
    credentials: { type: 'boolean', default: false, description: 'Allow cookies and credentials (Access-Control-Allow-Credentials); needs explicit origins.' },
    max_age_s: { type: 'integer', minimum: 0, default: 600, description: 'How long a browser may cache a preflight answer.' },
  },
}

export default definePlugin<CorsConfig, Stage>({
  id: 'stage.cors',
  kind: 'stage',
  description: 'Cross-origin requests from browser apps to /v1 and /api/v1 (`cors:`).',
  configSchema: SCHEMA,
  enabledByDefault: { at: ['cors'], requires: ['cors'] },
  checkConfig(config) {
    const cors = config.cors as Partial<CorsConfig> | undefined
    if (!cors?.credentials || !cors.origins?.includes('*')) return []
    return [{ path: ['cors', 'origins'], message: "credentials: true needs the origins listed: a browser refuses '*' with credentials" }]
  },
  setup(_ctx, config) {
    const anyOrigin = config.origins.includes('*') && !config.credentials
    const allowed = new Set(config.origins)
    const cors = koaCors({
      // An origin not listed gets no Access-Control-Allow-Origin: the browser refuses the answer.
      origin: (ctx) => {
        if (anyOrigin) return '*'
        const origin = ctx.get('origin')
        return allowed.has(origin) ? origin : ''
      },
      allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      // Not listed: the headers the preflight asks for (the SDKs' own vary by SDK and version), for listed origins only.
      allowHeaders: config.headers,
      exposeHeaders: EXPOSED,
      credentials: config.credentials,
      maxAge: config.max_age_s,
      // Error answers keep their CORS headers, so a browser app can read a 401 or a 429.
      keepHeadersOnError: true,
    })
    return {
      operations: ['chat', 'embeddings'],
      http: (ctx, next) => (CORS_PATH.test(ctx.path) ? cors(ctx, next) : next()),
    }
  },
})
