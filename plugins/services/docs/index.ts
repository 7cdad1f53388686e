/**
 * service.docs: the management API described. `GET /api/v1/openapi.json` is an OpenAPI 3.1
 * document made from the very schemas the kernel validates requests with (every service's
 * RouteSpecs, and the /v1 surfaces' plain routes), so it cannot drift from what the gateway
 * accepts. `GET /docs` shows it in Swagger UI, served from the `swagger-ui-dist` package (no CDN).
 *
 *   services: { docs: {} }
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { definePlugin, notFound, raw, reply, type PublishedRoute, type RouteSpec, type Service } from '../../../plugin-api/index.ts'
import { openApiDocument } from './openapi.ts'
import { PAGE_SECURITY_HEADERS } from '../kit/page-headers.ts'

interface DocsConfig {
  title: string
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    title: { type: 'string', minLength: 1, default: 'AI Gateway API', description: 'The title of the document and of the /docs page.' },
  },
}

const SWAGGER_DIR = path.dirname(fileURLToPath(import.meta.resolve('swagger-ui-dist/package.json')))
/** The viewer's files /docs serves, and their types. */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
}

const PAGE = (title: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replace(/[<>&"]/g, '')}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head><body><div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script>
</body></html>`

// A file of its own, so the page needs no inline script.
const INIT = `window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#docs', deepLinking: true, persistAuthorization: true })`

export default definePlugin<DocsConfig, Service>({
  id: 'service.docs',
  kind: 'service',
  description: 'The OpenAPI document of the management API (/api/v1/openapi.json) and a viewer for it (/docs).',
  configSchema,
  async setup(ctx, config) {
    const files = new Map<string, Buffer>()
    const file = async (name: string): Promise<Buffer> => {
      let body = files.get(name)
      if (!body) files.set(name, (body = await readFile(path.join(SWAGGER_DIR, name))))
      return body
    }
    // Built once per set of routes (a reload that changes them builds it anew), not per request.
    let built: { routes: readonly PublishedRoute[]; doc: ReturnType<typeof openApiDocument> } | undefined
    const documentFor = (routes: readonly PublishedRoute[]) => {
      const same = built && built.routes.length === routes.length && built.routes.every((r, i) => r.route === routes[i].route && r.path === routes[i].path)
      if (!same) built = { routes, doc: openApiDocument(routes, config.title) }
      return built!.doc
    }
    const document: RouteSpec = {
      method: 'GET', path: '/api/v1/openapi.json', summary: 'The OpenAPI 3.1 document of the management API.', permission: null, public: true,
      handle: () => reply(documentFor(ctx.routes())),
    }
    const page: RouteSpec = {
      method: 'GET', path: '/docs', summary: 'The API documentation viewer.', permission: null, public: true,
      handle: () => raw(PAGE(config.title), 'text/html; charset=utf-8', { headers: { 'cache-control': 'no-cache', ...PAGE_SECURITY_HEADERS } }),
    }
    const asset: RouteSpec<unknown, unknown, { file: string }> = {
      method: 'GET', path: '/docs/:file', summary: 'The viewer\'s files.', permission: null, public: true,
      async handle(req) {
        const name = req.params.file
        if (name === 'init.js') return raw(INIT, 'text/javascript; charset=utf-8', { headers: { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' } })
        const type = ASSETS[name]
        if (!type) throw notFound(`No file /docs/${name}.`, 'unknown_url')
        return raw(await file(name), type, { headers: { 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' } })
      },
    }
    return { pages: [document, page, asset] }
  },
})
