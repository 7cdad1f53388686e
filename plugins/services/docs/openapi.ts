/**
 * An OpenAPI 3.1 document from the routes the gateway serves. Its schema objects are JSON Schema
 * 2020-12, so the RouteSpecs' schemas go in as they are.
 */
import type { JsonSchema, PublishedRoute } from '../../../plugin-api/index.ts'

type Operation = Record<string, unknown>

/** The /api/v1 envelope around a service's data (core/http/errors.ts writes it). */
const envelope = (data: JsonSchema | undefined, meta: JsonSchema | undefined): JsonSchema => ({
  type: 'object',
  required: ['success'],
  properties: {
    success: { type: 'boolean' },
    data: data ?? {},
    message: { type: 'string' },
    meta: meta ?? { type: 'object', description: 'Pagination (`meta.pagination`) on lists.' },
  },
})

const ERROR_ENVELOPE: JsonSchema = {
  type: 'object',
  required: ['success', 'error'],
  properties: {
    success: { const: false },
    error: { type: 'string', description: 'A machine-readable code.' },
    message: { type: 'string' },
    param: { type: 'string', description: 'The field at fault, when there is one: a body field (`params.temperature`), `query.<name>` or `path.<name>`.' },
    details: {},
  },
}

/**
 * A schema with a `title` goes into `components.schemas` under it, and each use becomes a `$ref`:
 * routes that share one schema constant (analytics' range meta) then share one generated type in
 * the console, instead of an identical copy per route. One title names one schema.
 */
function shared(schema: JsonSchema | undefined, components: Map<string, JsonSchema>): JsonSchema | undefined {
  const title = schema?.title
  if (typeof title !== 'string') return schema
  const known = components.get(title)
  if (known && known !== schema) throw new Error(`two different schemas are titled '${title}': a title names one shared schema in the OpenAPI document`)
  components.set(title, schema!)
  return { $ref: `#/components/schemas/${encodeURIComponent(title)}` }
}

/** `/threads/:id` → `/threads/{id}`; a pattern route (a regular expression) has no OpenAPI form. */
function openApiPath(path: string): string | undefined {
  if (path.includes('(')) return undefined
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')
}

function parameters(route: PublishedRoute['route'], path: string): unknown[] {
  const out: unknown[] = []
  const params = ('params' in route ? route.params : undefined) as { properties?: Record<string, JsonSchema> } | undefined
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    out.push({ name, in: 'path', required: true, schema: params?.properties?.[name] ?? { type: 'string' } })
  }
  const query = ('query' in route ? route.query : undefined) as { properties?: Record<string, JsonSchema>; required?: string[] } | undefined
  for (const [name, schema] of Object.entries(query?.properties ?? {})) {
    out.push({ name, in: 'query', required: query?.required?.includes(name) ?? false, schema, ...(typeof schema.description === 'string' ? { description: schema.description } : {}) })
  }
  return out
}

function operation({ route, area, owner }: PublishedRoute, path: string, components: Map<string, JsonSchema>): Operation {
  const op: Operation = { summary: route.summary, tags: [area === 'service' ? owner : `/v1 ${owner}`] }
  const params = parameters(route, path)
  if (params.length) op.parameters = params
  if ('operation' in route) {
    // A model endpoint: the wire format is the provider API's own (OpenAI's or Anthropic's document).
    op.requestBody = { required: true, content: { 'application/json': { schema: { type: 'object', description: `The ${route.wire ?? 'OpenAI'} request body.` } } } }
    op.responses = { 200: { description: 'The model\'s answer, or a server-sent event stream when `stream: true`.' } }
    return op
  }
  if (route.body === 'multipart') {
    op.requestBody = { required: true, content: { 'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string', contentMediaType: 'application/octet-stream' } } } } } }
  } else if (route.body) {
    op.requestBody = { required: true, content: { 'application/json': { schema: route.body } } }
  }
  const status = route.status ?? 200
  const data = area === 'service' ? envelope(shared(route.response, components), shared(route.meta, components)) : shared(route.response, components)
  op.responses = {
    [status]: status === 204 ? { description: 'Done.' }
      : status >= 300 && status < 400 ? { description: 'A redirect (the Location header).' }
      : route.produces ? { description: 'The bytes.', content: { [route.produces]: { schema: { type: 'string', contentMediaType: route.produces } } } }
      : { description: 'Success.', content: { 'application/json': { schema: data ?? {} } } },
    default: { description: 'An error.', content: { 'application/json': { schema: area === 'service' ? ERROR_ENVELOPE : { $ref: '#/components/schemas/OpenAIError' } } } },
  }
  if (route.permission) op['x-permission'] = route.permission
  if (!route.public) op.security = [{ bearer: [] }, { session: [] }]
  return op
}

export function openApiDocument(routes: readonly PublishedRoute[], title: string): Record<string, unknown> {
  const paths: Record<string, Record<string, Operation>> = {}
  const components = new Map<string, JsonSchema>()
  for (const published of routes) {
    const path = openApiPath(published.path)
    if (!path) continue
    ;(paths[path] ??= {})[published.route.method.toLowerCase()] = operation(published, path, components)
  }
  return {
    openapi: '3.1.0',
    info: { title, version: '1', description: 'The management API (/api/v1, answers in the `{ success, data, message, error, details, meta }` envelope) and the gateway\'s own /v1 routes beside the provider APIs.' },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key, or a JWT from the configured issuer.' },
        session: { type: 'apiKey', in: 'cookie', name: 'gw_session', description: 'The console\'s sign-in session.' },
      },
      schemas: {
        ...Object.fromEntries(components),
        OpenAIError: { type: 'object', properties: { error: { type: 'object', properties: { message: { type: 'string' }, type: { type: 'string' }, code: { type: ['string', 'null'] }, param: { type: ['string', 'null'] } } } } },
      },
    },
  }
}
