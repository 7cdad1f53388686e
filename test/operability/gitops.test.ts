/**
 * GitOps tooling: `gateway validate` reports every problem at once (unset variables, schema,
 * references, undefined roles) and can run without secrets; the editor schema is a valid 2020-12
 * schema that the shipped gateway.yaml passes as written; `gateway config diff`; the CLI's help,
 * version and usage errors.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import Ajv2020Module from 'ajv/dist/2020.js'
import { parse as parseYaml } from 'yaml'
import { runCli } from '../helpers/cli.ts'
import { mergedSchema } from '../../cli/schema.ts'
import { configDiff } from '../../cli/diff.ts'
import { builtinRegistry } from '../../core/plugins/loader.ts'
import { loadConfig } from '../../core/config/index.ts'

const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default
const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-gitops-'))
const write = (name: string, text: string): string => {
  const file = path.join(dir, name)
  writeFileSync(file, text)
  return file
}

const BROKEN = `version: 1
server: { port: 8080, bodylimit: 10mb }
providers:
  openai: { plugin: openai, api_key: "\${C17_UNSET_KEY_A}" }
  other: { plugin: openai, api_key: "\${C17_UNSET_KEY_B}" }
routes:
  - model: chat
    targets: [ { provider: opnai } ]
auth:
  strategies:
    - plugin: api-key
      keys: [ { key: "\${C17_UNSET_ADMIN}", user: admin, role: wizard } ]
`

describe('gateway validate', () => {
  it('reports every problem at once: unset variables, unknown keys, bad references and undefined roles', async () => {
    const file = write('broken.yaml', BROKEN)
    const { code, stdout } = await runCli(['validate', file])
    expect(code).toBe(1)
    const lines = stdout.trim().split('\n')
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/broken\.yaml:4:\d+ providers\.openai\.api_key: environment variable C17_UNSET_KEY_A is not set/),
      expect.stringMatching(/broken\.yaml:5:\d+ providers\.other\.api_key: environment variable C17_UNSET_KEY_B is not set/),
      expect.stringMatching(/broken\.yaml:12:\d+ auth\.strategies\[0\]\.keys\[0\]\.key: environment variable C17_UNSET_ADMIN is not set/),
      expect.stringMatching(/broken\.yaml:2:\d+ server\.bodylimit: unknown key 'bodylimit' \(did you mean 'body_limit'\?\)/),
    ]))
  })

  it('--allow-missing-env: unset variables are warnings, and the rest is still checked (roles, references)', async () => {
    const fixed = BROKEN.replace('bodylimit', 'body_limit')
    const { code, stdout } = await runCli(['validate', '--allow-missing-env', write('ci.yaml', fixed)])
    expect(code).toBe(1)
    expect(stdout).toMatch(/ci\.yaml:8:\d+ routes\[0\]\.targets\[0\]\.provider: no provider named 'opnai'/)
    expect(stdout).toMatch(/ci\.yaml:12:\d+ auth\.strategies\[0\]\.keys\[0\]\.role: no role named 'wizard'/)
    expect(stdout).not.toMatch(/is not set/)
    const good = fixed.replace('opnai', 'openai').replace('wizard', 'admin')
    const ok = await runCli(['validate', '--allow-missing-env', write('ci-ok.yaml', good)])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/ci-ok\.yaml:4:\d+ providers\.openai\.api_key: environment variable C17_UNSET_KEY_A is not set .*\(warning\)/)
    expect(ok.stdout).toMatch(/ci-ok\.yaml: ok/)
  })

  it('warns of a secret written in the file (a provider key, a config key, a default, a URL\'s password) at its line, not of one read from ${VAR}; the exit code is unchanged', async () => {
    const text = `version: 1
providers:
  env: { plugin: openai, api_key: "\${C17_SET_KEY}" }
  lit: { plugin: openai, api_key: sk-written-here }
  dflt: { plugin: openai, api_key: "\${C17_UNSET_KEY_A:-sk-default-here}" }
routes:
  - model: chat
    targets: [ { provider: env } ]
store: { plugin: postgres, url: "postgres://gw:pw-written-here@db:5432/gw" }
telemetry:
  otel: { endpoint: "http://127.0.0.1:4318/v1/traces", headers: { authorization: "Bearer \${C17_SET_KEY}" } }
auth:
  strategies:
    - plugin: api-key
      keys: [ { key: "0123456789abcdef-written", user: admin, role: admin } ]
`
    const file = write('secrets.yaml', text)
    const { code, stdout } = await runCli(['validate', file], { C17_SET_KEY: 'sk-from-the-environment' })
    expect(code).toBe(0)
    const warning = (at: string, what = 'a secret') => `${file}:${at}: ${what} written in the file (reviewed, and kept in git): keep it in the environment and write "\${NAME}" here (warning)`
    expect(stdout.trim().split('\n')).toEqual([
      warning('4:35 providers.lit.api_key'),
      warning('5:36 providers.dflt.api_key'),
      warning('9:33 store.url', 'a URL with its password'),
      warning('15:22 auth.strategies[0].keys[0].key'),
      `${file}: ok`,
    ])
    expect(stdout).not.toContain('sk-from-the-environment')
  })

  it('refuses a route that never answers: a name an earlier glob route takes, or an earlier route with the same when: conditions, or a flag features: does not list (a typo), each at its line', async () => {
    const text = `version: 1
providers: { m: { plugin: mock } }
routes:
  - { model: "gpt-*", targets: [ { provider: m } ] }
  - { model: gpt-4o, aliases: [ "gpt-4*", local ], targets: [ { provider: m, model: local-4o } ] }
  - { model: beta, when: { feature: betta }, targets: [ { provider: m } ] }
  - { model: "gpt-*", when: { departments: [research] }, targets: [ { provider: m } ] }
  - { model: mini, when: { roles: [admin] }, targets: [ { provider: m } ] }
  - { model: mini, aliases: [ tiny ], when: { roles: [admin] }, targets: [ { provider: m, model: other } ] }
features: { beta: true }
`
    const { code, stdout } = await runCli(['validate', write('dead-routes.yaml', text)])
    expect(code).toBe(1)
    expect(stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/\/dead-routes\.yaml:5:\d+ routes\[1\]\.model: unreachable: routes\[0\] \('gpt-\*'\) already answers 'gpt-4o' unconditionally; the first match wins, so put this route above it$/),
      expect.stringMatching(/\/dead-routes\.yaml:5:\d+ routes\[1\]\.aliases\[0\]: unreachable: routes\[0\] \('gpt-\*'\) already answers 'gpt-4\*'/),
      expect.stringMatching(/\/dead-routes\.yaml:6:\d+ routes\[2\]\.when\.feature: no flag 'betta' under features: \(have: beta\); a route behind an unlisted flag is never served/),
      // A route pasted with the same when: as an earlier one for its name is never reached either.
      expect.stringMatching(/\/dead-routes\.yaml:9:\d+ routes\[5\]\.model: unreachable: routes\[4\] already answers 'mini' under the same when: conditions; the first match wins/),
      // The same glob again is the kernel's to say, once.
      expect.stringMatching(/\/dead-routes\.yaml:7:\d+ routes\[3\]\.model: unreachable: routes\[0\] already answers 'gpt-\*' unconditionally$/),
    ])
    const fixed = `version: 1
providers: { m: { plugin: mock } }
routes:
  - { model: "gpt-*", when: { departments: [research] }, targets: [ { provider: m } ] }
  - { model: gpt-4o, aliases: [ "gpt-4*", local ], targets: [ { provider: m, model: local-4o } ] }
  - { model: "gpt-*", targets: [ { provider: m } ] }
  - { model: beta, when: { feature: beta }, targets: [ { provider: m } ] }
  - { model: later, when: { feature: later }, targets: [ { provider: m } ] }
features: { beta: true, later: false }
`
    expect(await runCli(['validate', write('live-routes.yaml', fixed)])).toMatchObject({ code: 0, stdout: expect.stringMatching(/live-routes\.yaml: ok/) })
  })

  it('names a setting that names a route no route answers (RAG, conversations, vector stores, semantic cache), at its line, as a start would', async () => {
    const text = `version: 1
providers: { m: { plugin: mock } }
routes: [ { model: m, targets: [ { provider: m } ] }, { model: "embed-*", targets: [ { provider: m } ] } ]
store: { plugin: embedded, path: ./data }
cache: { plugin: semantic, embedding_route: embeddings }
services:
  rag: { embedding_route: embed-small }
  conversations: { title_route: cheap, default_route: m }
surfaces:
  vector-stores: { rewrite_route: rewriter }
`
    const { code, stdout } = await runCli(['validate', write('route-settings.yaml', text)])
    expect(code).toBe(1)
    expect(stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/route-settings\.yaml:5:\d+ cache\.embedding_route: no route answers 'embeddings' \(add it under routes:\)$/),
      expect.stringMatching(/route-settings\.yaml:8:\d+ services\.conversations\.title_route: no route answers 'cheap'/),
      expect.stringMatching(/route-settings\.yaml:10:\d+ surfaces\.vector-stores\.rewrite_route: no route answers 'rewriter'/),
    ])
    // Deployed fine-tuned models are routes the file does not list: left to the check at start.
    expect((await runCli(['validate', write('custom-models.yaml', `${text}features: { custom_models: true }\n`)])).code).toBe(0)
  })

  it('says which service lacks what it needs (a store, a queue, a capability another plugin provides), at its block, before anything starts', async () => {
    const text = `version: 1
providers: { m: { plugin: mock } }
routes: [ { model: m, targets: [ { provider: m } ] } ]
services:
  conversations: {}
  batches: {}
`
    const { code, stdout } = await runCli(['validate', write('needs.yaml', text)])
    expect(code).toBe(1)
    expect(stdout).toMatch(/needs\.yaml:5:\d+ services\.conversations: service\.conversations needs Store, which no plugin this config sets up provides: add `store:`/)
    expect(stdout).toMatch(/needs\.yaml:6:\d+ services\.batches: service\.batches needs Queue, .*add `queue:`/)
    expect(stdout).toMatch(/needs\.yaml:6:\d+ services\.batches: service\.batches needs Files, which no plugin this config sets up provides: add services: \{ files: \{\} \}/)
    const fixed = text.replace('services:\n', 'store: { plugin: embedded, memory: true }\nqueue: { plugin: memory }\nservices:\n  files: {}\n')
    const ok = await runCli(['validate', write('needs-ok.yaml', fixed)])
    expect(ok.stdout).toMatch(/needs-ok\.yaml: ok/)
  })

  it('says what an auth strategy or a service would refuse at start: a session without the auth service, keys from nowhere, threads without conversations', async () => {
    const text = `version: 1
providers: { m: { plugin: mock } }
routes: [ { model: m, targets: [ { provider: m } ] } ]
auth:
  strategies:
    - { plugin: session }
    - { plugin: api-key }
    - { plugin: api-key, virtual_keys: true }
services: { chat: {}, assistants: {} }
`
    const { code, stdout } = await runCli(['validate', write('start-refusals.yaml', text)])
    expect(code).toBe(1)
    const lines = stdout.trim().split('\n')
    expect(lines).toHaveLength(5)
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/start-refusals\.yaml:6:\d+ auth\.strategies\[0\]: auth\.session needs Sessions, which no plugin this config sets up provides: add services: \{ auth: \{\} \}$/),
      expect.stringMatching(/start-refusals\.yaml:7:\d+ auth\.strategies\[1\]\.keys: no keys to accept: list keys/),
      expect.stringMatching(/start-refusals\.yaml:8:\d+ auth\.strategies\[2\]\.virtual_keys: virtual_keys needs a store: add `store:`/),
      expect.stringMatching(/start-refusals\.yaml:9:\d+ services\.chat: service\.chat needs Conversations, .*add services: \{ conversations: \{\} \}$/),
      expect.stringMatching(/start-refusals\.yaml:9:\d+ services\.assistants: service\.assistants needs Conversations, .*add services: \{ conversations: \{\} \}$/),
    ]))
    const fixed = text.replace('auth:\n', 'store: { plugin: embedded, memory: true }\nauth:\n').replace('{ chat: {}, assistants: {} }', '{ auth: {}, conversations: {}, chat: {}, assistants: {} }')
    expect(await runCli(['validate', write('start-refusals-fixed.yaml', fixed)])).toMatchObject({ code: 0, stdout: expect.stringMatching(/start-refusals-fixed\.yaml: ok/) })
  })

  it('a role defined under roles: is accepted', async () => {
    const registry = await builtinRegistry()
    const text = `version: 1
roles: { analyst: { permissions: [chat], scope: own_data } }
auth: { strategies: [ { plugin: api-key, keys: [ { key: sk-analyst-key-000000001, user: a, role: analyst } ] } ] }
`
    await expect(loadConfig({ text, label: 'roles.yaml', dir }, registry)).resolves.toBeDefined()
    await expect(loadConfig({ text: text.replace('role: analyst', 'role: analyts'), label: 'roles.yaml', dir }, registry)).rejects.toThrow(/no role named 'analyts'/)
  })

  it('a role a role_map hands out (jwt strategy, sign-in service) must be defined, and is named with its line', async () => {
    const registry = await builtinRegistry()
    const text = `version: 1
roles: { analyst: { permissions: [chat], scope: own_data } }
store: { plugin: embedded }
auth:
  strategies:
    - plugin: jwt
      issuer: https://issuer.example
      audience: gateway
      jwks_uri: https://issuer.example/jwks
      role_map: { Readers: analyst, Writers: editor }
services:
  auth:
    oidc: { issuer: https://issuer.example, client_id: console, role_map: { Admins: admin, Owners: owner } }
`
    const error = await loadConfig({ text, label: 'maps.yaml', dir }, registry).then(() => undefined, (err: Error) => err)
    const lines = error?.message.split('\n')
    expect(lines).toHaveLength(2)
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^maps\.yaml:10:\d+ auth\.strategies\[0\]\.role_map\.Writers: no role named 'editor' \(have: user, department_admin, admin, analyst\); define it under roles:$/),
      expect.stringMatching(/^maps\.yaml:13:\d+ services\.auth\.oidc\.role_map\.Owners: no role named 'owner' /),
    ]))
    const fixed = text.replace('editor', 'analyst').replace('owner', 'admin')
    await expect(loadConfig({ text: fixed, label: 'maps.yaml', dir }, registry)).resolves.toBeDefined()
  })
})

describe('the editor schema', () => {
  it('passes the JSON Schema 2020-12 meta-schema, and accepts the shipped gateway.yaml as written (${VAR} values)', async () => {
    const schema = mergedSchema(await builtinRegistry())
    const ajv = new Ajv2020({ strict: false })
    expect(ajv.validateSchema(schema), JSON.stringify(ajv.errors)).toBe(true)
    expect(JSON.stringify(schema)).not.toMatch(/"(allOf|enum)":\[\]/)
    const validate = ajv.compile(schema)
    const shipped = parseYaml(readFileSync('gateway.yaml', 'utf8'))
    expect(validate(shipped), JSON.stringify(validate.errors)).toBe(true)
    // A typo is still caught, and a number that is neither a number nor a ${VAR} is refused.
    expect(validate({ ...shipped, server: { port: 'eighty' } })).toBe(false)
    expect(validate({ ...shipped, server: { port: '${PORT}' } })).toBe(true)
    // A block keyed by its plugin's name (no `plugin:`) is checked against that plugin's own keys.
    expect(validate({ ...shipped, services: { ...shipped.services, rag: { embedding_route: 'mock' } } })).toBe(true)
    expect(validate({ ...shipped, services: { ...shipped.services, rag: { embeding_route: 'mock' } } })).toBe(false)
    expect(validate({ ...shipped, services: { ...shipped.services, analytics: { default_range_days: 'week' } } })).toBe(false)
  })

  it('accepts the image\'s and the Kubernetes ConfigMap\'s gateway.yaml as written: a ${VAR} where a checked string or a choice goes', async () => {
    const validate = new Ajv2020({ strict: false }).compile(mergedSchema(await builtinRegistry()))
    const configMap = readFileSync('docker/k8s/gateway.yaml', 'utf8').split(/^---$/m).map((doc) => parseYaml(doc)).find((doc) => doc?.kind === 'ConfigMap')
    for (const text of [readFileSync('docker/config/gateway.yaml', 'utf8'), configMap.data['gateway.yaml'] as string]) {
      const config = parseYaml(text)
      expect(config.auth.strategies.at(-1).keys[0].key).toBe('${ADMIN_KEY}')
      expect(validate(config), JSON.stringify(validate.errors)).toBe(true)
    }
    const key = (value: string) => ({ version: 1, auth: { strategies: [{ plugin: 'api-key', keys: [{ key: value, user: 'admin', role: 'admin' }] }] } })
    expect(validate(key('short'))).toBe(false)
    expect(validate({ version: 1, logging: { level: '${LOG_LEVEL:-info}' } })).toBe(true)
    expect(validate({ version: 1, logging: { level: 'verbose' } })).toBe(false)
  })

  it('is the file the shipped gateway.yaml names (regenerate: npx gateway schema > schemas/editor.schema.json)', async () => {
    expect(readFileSync('gateway.yaml', 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./schemas/editor.schema.json')
    const file = JSON.parse(readFileSync('schemas/editor.schema.json', 'utf8'))
    expect(file).toEqual(JSON.parse(JSON.stringify(mergedSchema(await builtinRegistry()))))
  })
})

describe('gateway config diff', () => {
  const OLD = `version: 1
providers:
  mock: { plugin: mock }
  openai: { plugin: openai, api_key: "sk-old-secret-1111" }
routes:
  - { model: chat, targets: [ { provider: openai, model: gpt-4o-mini } ] }
  - { model: mock, targets: [ { provider: mock } ] }
departments: { research: { models: [chat] } }
features: { beta: false }
`
  const NEW = `version: 1
providers:
  mock: { plugin: mock }
  openai: { plugin: openai, api_key: "sk-new-secret-2222" }
routes:
  - { model: chat, strategy: fallback, targets: [ { provider: openai, model: gpt-4o-mini }, { provider: mock } ] }
  - { model: cheap, targets: [ { provider: mock } ] }
departments: { research: { models: [chat, cheap] } }
logging: { level: debug }
features: { beta: true }
`

  it('says what a rollout changes, in words (exit 1), never showing a secret; no change is exit 0', async () => {
    const a = write('old.yaml', OLD)
    const b = write('new.yaml', NEW)
    const { code, stdout } = await runCli(['config', 'diff', a, b])
    expect(code).toBe(1)
    expect(stdout).toContain('routes chat: changed (target added: mock; strategy added: "fallback")')
    expect(stdout).toContain('routes mock: removed')
    expect(stdout).toContain('routes cheap: added (targets: mock)')
    expect(stdout).toContain('providers openai: changed (api_key changed)')
    expect(stdout).toContain('departments research: changed (models: ["chat"] → ["chat","cheap"])')
    expect(stdout).toContain('features beta: changed (false → true)')
    expect(stdout).toMatch(/logging logging: added/)
    expect(stdout).not.toMatch(/sk-(old|new)-secret/)
    const same = await runCli(['config', 'diff', a, a])
    expect([same.code, same.stdout.trim()]).toEqual([0, 'no change'])
  })

  it('as JSON', async () => {
    const registry = await builtinRegistry()
    const load = async (text: string) => (await loadConfig({ text, label: 'x.yaml', dir }, registry)).loaded.config
    const changes = configDiff(await load(OLD), await load(NEW))
    expect(changes).toContainEqual({ section: 'routes', name: 'cheap', change: 'added', details: ['targets: mock'] })
    expect(JSON.stringify(changes)).not.toMatch(/secret/)
  })

  it('names what changed in the limiter backend by its keys, never its values (the Redis URL holds a password)', async () => {
    const config = (timeout: number) => `version: 1
providers: { mock: { plugin: mock } }
routes: [ { model: m, targets: [ { provider: mock } ] } ]
limits:
  backend: { plugin: redis, url: "\${C17_LIMITS_REDIS_URL}", timeout_ms: ${timeout} }
  policies: [ { scope: user, requests_per_minute: 60 } ]
`
    const env = { C17_LIMITS_REDIS_URL: 'redis://:redis-pass-8b1e@redis.internal:6379' }
    const text = await runCli(['config', 'diff', write('limits-old.yaml', config(100)), write('limits-new.yaml', config(200))], env)
    expect([text.code, text.stdout.trim()]).toEqual([1, 'limits limits: changed (backend.timeout_ms changed)'])
    const json = await runCli(['config', 'diff', '--json', write('limits-memory.yaml', config(100).replace(/\{ plugin: redis.*\}/, '{ plugin: memory }')), write('limits-redis.yaml', config(100))], env)
    expect(json.stdout).toMatch(/backend\.plugin: memory → redis/)
    expect(text.stdout + json.stdout).not.toMatch(/redis-pass/)
  })

  it('names routes that traded places: the first match wins, so swapping two globs that overlap reroutes the names both match', async () => {
    const routes = [
      '  - { model: mock, targets: [ { provider: mock } ] }',
      '  - { model: "gpt-4*", targets: [ { provider: mock, model: local-4o } ] }',   // gpt-4o-mini matches both
      '  - { model: "*-mini", targets: [ { provider: mock } ] }',
      '  - { model: last, targets: [ { provider: mock } ] }',
    ]
    const config = (order: number[]) => `version: 1\nproviders: { mock: { plugin: mock } }\nroutes:\n${order.map((i) => routes[i]).join('\n')}\n`
    const { code, stdout } = await runCli(['config', 'diff', write('ordered.yaml', config([0, 1, 2, 3])), write('reordered.yaml', config([0, 2, 1, 3]))])
    expect([code, stdout.trim()]).toEqual([1, 'routes (order): changed (first match wins: gpt-4*, *-mini → *-mini, gpt-4*)'])
  })
})

describe('the CLI', () => {
  it('--version, --help per command, and an unknown option as one clear line with exit code 2', async () => {
    const version = await runCli(['--version'])
    expect([version.code, version.stdout]).toEqual([0, expect.stringMatching(/^ai-gateway \d+\.\d+\.\d+/)])
    const help = await runCli(['config', 'diff', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/usage: gateway config diff \[--json\] OLD NEW[\s\S]*Exit 0 when nothing changes/)
    const bad = await runCli(['validate', '--bogus'])
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^gateway validate: Unknown option '--bogus'/)])
    const none = await runCli([])
    expect(none.code).toBe(2)
  })
})
