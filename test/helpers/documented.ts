/**
 * Checks a real answer against what /api/v1/openapi.json documents for its path, method and
 * status, so a field a view adds or renames without its schema fails the test that calls it;
 * `documentedSuite` is the describe block's whole setup (a gateway, its document, the data test).
 */
import Ajv2020Module from 'ajv/dist/2020.js'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from './gateway.ts'

// ajv's CommonJS default export, as ESM sees it.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default

export interface DocumentedAnswers {
  /** Expect `body` (answered with `status`) to be what the document says `method path` answers; returns its `data`. */
  check(method: string, path: string, status: number, body: any): any
  /** Call `method path` on `baseUrl` (a JSON body, or FormData as it is) and check its answer; returns its `data`. */
  call(method: string, path: string, headers?: Record<string, string>, body?: unknown): Promise<any>
  /** The `METHOD /template` pairs checked so far. */
  readonly checked: ReadonlySet<string>
}

/** Checks answers against `doc`; `baseUrl` is the gateway `call` sends to (a suite's own: tests reach it as `suite.answers`). */
function documentedAnswers(doc: any, baseUrl = ''): DocumentedAnswers {
  const ajv = new Ajv2020({ strict: false, validateFormats: false })
  const checked = new Set<string>()
  const check: DocumentedAnswers['check'] = (method, path, status, body) => {
    expect(status, `${method} ${path}: ${JSON.stringify(body)}`).toBeLessThan(300)
    const bare = path.split('?')[0]
    const template = Object.keys(doc.paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(bare!))!
    const schema = doc.paths[template][method.toLowerCase()].responses[status].content['application/json'].schema
    // A shared schema is a $ref into the document's components: compiled beside them, it resolves.
    const validate = ajv.compile({ ...schema, components: doc.components })
    expect(validate(body), `${method} ${template}: ${ajv.errorsText(validate.errors)}`).toBe(true)
    checked.add(`${method} ${template}`)
    return body.data
  }
  return {
    checked,
    check,
    async call(method, path, headers = {}, body) {
      const form = body instanceof FormData
      const res = await fetch(`${baseUrl}${path}`, {
        method, headers: { ...headers, ...(body === undefined || form ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : form ? body : JSON.stringify(body),
      })
      return check(method, path, res.status, await res.json())
    },
  }
}

/** Expect every route under `prefixes` (at least `min` paths) to declare the `data` it answers (an object schema closed to other fields); a redirect or a download answers no data. */
export function expectDataDocumented(doc: any, prefixes: readonly string[], min: number): void {
  const routes = Object.entries<any>(doc.paths).filter(([path]) => prefixes.some((p) => path.startsWith(p)))
  expect(routes.length).toBeGreaterThanOrEqual(min)
  for (const [path, item] of routes) {
    for (const [method, op] of Object.entries<any>(item)) {
      const [status, success] = Object.entries<any>(op.responses).find(([s]) => s.startsWith('2') || s.startsWith('3'))!
      if (status.startsWith('3') || !success.content['application/json']) continue
      const data = success.content['application/json'].schema.properties.data
      expect(Object.keys(data).length, `${method} ${path}`).toBeGreaterThan(0)
      if (data.type === 'object') expect(data.additionalProperties, `${method} ${path}`).toBe(false)
    }
  }
}

/** A gateway started for a describe block, its document and the answers checked against it. */
export interface DocumentedSuite {
  readonly gw: RunningGateway
  readonly doc: any
  readonly answers: DocumentedAnswers
  /** `answers.call` with the suite's headers: call `method path` (a JSON body, or FormData) and check its answer; returns its `data`. */
  call(method: string, path: string, body?: unknown): Promise<any>
}

/** A gateway a suite started, and how to end all that was started with it. */
export interface StartedGateway {
  readonly gw: RunningGateway
  close(): Promise<void>
}

export type DocumentedSuiteOptions = {
  /** The caller's headers, for the document and every `call` (none where the gateway has no auth). */
  headers?: Record<string, string>
  /** The route prefixes whose every route must declare its data, and how many paths there are at least. */
  prefixes: readonly string[]
  routes: number
} & (
  | {
    /** The gateway.yaml text; a function when it names what an earlier `beforeAll` started (an upstream's URL). */
    config: string | (() => string)
  }
  | {
    /** Starts the gateway where a config alone does not: a capability's own start helper, with the store, upstream or issuer it brings. */
    start: () => Promise<StartedGateway>
  }
)

/** The gateway `config` makes, closed with nothing else. */
async function startFromConfig(config: string | (() => string)): Promise<StartedGateway> {
  const gw = await startTestGateway(typeof config === 'string' ? config : config())
  return { gw, close: () => gw.close() }
}

/**
 * Inside a `describe`: starts a gateway (from `config`, or by `start`, with the docs service,
 * which it lists) before the block's tests and closes it after, reads its OpenAPI document, and
 * adds the test that every route under `prefixes` declares its data. The block's own tests then
 * `call` routes, each answer checked against its documented schema.
 */
export function documentedSuite(options: DocumentedSuiteOptions): DocumentedSuite {
  const headers = options.headers ?? {}
  let started: StartedGateway & { doc: any; answers: DocumentedAnswers } | undefined
  const get = () => {
    if (!started) throw new Error('documentedSuite: the gateway has not started (read it inside a test, not at collection)')
    return started
  }
  beforeAll(async () => {
    const gateway = await ('start' in options ? options.start() : startFromConfig(options.config))
    try {
      const doc = await (await fetch(`${gateway.gw.url}/api/v1/openapi.json`, { headers })).json()
      started = { gw: gateway.gw, close: () => gateway.close(), doc, answers: documentedAnswers(doc, gateway.gw.url) }
    } catch (err) {
      await gateway.close()
      throw err
    }
  }, 120_000)
  afterAll(async () => { await started?.close() })

  it('declares a schema of its data for every route', () => {
    expectDataDocumented(get().doc, options.prefixes, options.routes)
  })

  return {
    get gw() { return get().gw },
    get doc() { return get().doc },
    get answers() { return get().answers },
    call: (method, path, body) => get().answers.call(method, path, headers, body),
  }
}
