import { describe, expect, it } from 'vitest'
import { ConfigError, formatIssue, loadConfig } from '../../core/config/index.ts'
import { builtinRegistry } from '../../core/plugins/loader.ts'
import { pluginSlots } from '../../core/config/slots.ts'
import { definePlugin } from '../../plugin-api/index.ts'

async function load(text: string, env: NodeJS.ProcessEnv = {}) {
  return loadConfig({ text, label: 'gw.yaml', dir: process.cwd() }, await builtinRegistry(), env)
}

async function issues(text: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await load(text, env)
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map(formatIssue)
    throw err
  }
  throw new Error('expected the config to be rejected')
}

const BASE = `version: 1
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`

describe('config loading', () => {
  it('accepts the shipped default config', async () => {
    const { loaded } = await loadConfig({ file: 'gateway.yaml' }, await builtinRegistry(), {})
    expect(loaded.config.routes?.map((r) => r.model)).toContain('mock')
  })

  it('rejects an unknown key, naming its line, column and path, and suggests the near miss', async () => {
    const text = `version: 1
server:
  port: 8080
  bodylimit: 1mb
`
    expect(await issues(text)).toEqual([`gw.yaml:4:3 server.bodylimit: unknown key 'bodylimit' (did you mean 'body_limit'?)`])
  })

  it('refuses infinite numbers and timers longer than Node runs (which it would fire after 1 ms), naming each', async () => {
    const text = `${BASE}    timeout_ms: 2147483648
server:
  request_timeout_ms: .inf
  shutdown_timeout_ms: 2147483647
`
    expect(await issues(text)).toEqual([
      'gw.yaml:7:17 routes[0].timeout_ms: must be at most 2147483647 (24.8 days)',
      'gw.yaml:9:23 server.request_timeout_ms: must be integer',
    ])
  })

  it('reports every problem at once, each at its own line', async () => {
    const text = `version: 1
providers:
  mock: { plugin: mock, latency_ms: -5 }
routes:
  - model: mock
    strategy: roundrobin
    targets: [ { provider: nowhere } ]
`
    const found = await issues(text)
    expect(found).toContain(`gw.yaml:6:15 routes[0].strategy: must be one of: "single", "fallback", "loadbalance", "least-latency"`)
    // Plugin-block and cross-reference checks run once the core shape is valid.
    const fixed = await issues(text.replace('roundrobin', 'fallback'))
    expect(fixed).toEqual([
      'gw.yaml:3:37 providers.mock.latency_ms: must be >= 0',
      `gw.yaml:7:28 routes[0].targets[0].provider: no provider named 'nowhere' under providers: (have: mock)`,
    ])
  })

  it('validates a plugin block against its own schema, unknown keys included', async () => {
    const found = await issues(BASE.replace('{ plugin: mock }', '{ plugin: mock, latncy_ms: 5 }'))
    expect(found).toEqual([`gw.yaml:3:25 providers.mock.latncy_ms: unknown key 'latncy_ms' (did you mean 'latency_ms'?)`])
  })

  it('names an unknown plugin, suggests the near miss and lists the known ones', async () => {
    const found = await issues(BASE.replace('{ plugin: mock }', '{ plugin: mokc }'))
    expect(found[0]).toMatch(/^gw\.yaml:3:19 providers\.mock\.plugin: unknown provider plugin 'mokc' \(did you mean 'mock'\?\); known: .*mock/)
    // A route's target that names a provider not under providers: likewise.
    const target = await issues(BASE.replace('{ provider: mock }', '{ provider: mokc }'))
    expect(target).toEqual([`gw.yaml:6:28 routes[0].targets[0].provider: no provider named 'mokc' (did you mean 'mock'?) under providers: (have: mock)`])
  })

  it('reports YAML syntax errors with their line', async () => {
    const found = await issues('version: 1\nroutes:\n  - model: [unclosed\n')
    expect(found).toHaveLength(1)
    expect(found[0]).toMatch(/^gw\.yaml:\d+:\d+ \(root\): YAML syntax: /)
    // Two documents (a pasted manifest's ---): said in the file's terms, not the YAML library's ("use YAML.parseAllDocuments()").
    expect(await issues(`${BASE}---\n${BASE}`)).toEqual([`gw.yaml:7:1 (root): YAML syntax: Source contains multiple documents: a config is one document (the --- line here starts a second one)`])
  })

  it('rejects a duplicate key', async () => {
    const found = await issues('version: 1\nversion: 1\n')
    expect(found[0]).toMatch(/^gw\.yaml:2:1 \(root\): YAML syntax: .*[Uu]nique/)
  })

  it('says what a value that fails its pattern should look like, from its description', async () => {
    expect(await issues(BASE.replace('version: 1', 'version: 1\nserver: { body_limit: 10 megabytes }'))).toEqual([
      'gw.yaml:2:23 server.body_limit: must match pattern "^[0-9]+(\\.[0-9]+)?\\s*(b|kb|mb|gb)?$" (Largest request body, e.g. 10mb.)',
    ])
  })

  it('requires version 1', async () => {
    expect(await issues('server: {}\n')).toEqual([`gw.yaml:1:1 (root): missing required key 'version'`])
    expect(await issues('version: 2\n')).toEqual(['gw.yaml:1:10 version: must be 1'])
  })

  it('rejects a route that can never match because an earlier one without conditions takes its name', async () => {
    const text = BASE + `  - model: mock\n    targets: [ { provider: mock } ]\n`
    expect(await issues(text)).toEqual([`gw.yaml:7:12 routes[1].model: unreachable: routes[0] already answers 'mock' unconditionally`])
    // A name a route lists twice (model and alias, or an alias again) is said as such, not as another route's.
    expect(await issues(BASE.replace('- model: mock', '- model: mock\n    aliases: [m2, mock, m2]'))).toEqual([
      `gw.yaml:6:19 routes[0].aliases[1]: 'mock' is already one of this route's names: remove it here`,
      `gw.yaml:6:25 routes[0].aliases[2]: 'm2' is already one of this route's names: remove it here`,
    ])
    // With a condition on the first, the second is its fallback: fine.
    const conditional = BASE.replace('targets: [ { provider: mock } ]', 'when: { roles: [admin] }\n    targets: [ { provider: mock } ]') + `  - model: mock\n    targets: [ { provider: mock } ]\n`
    await load(conditional)
  })
})

describe('environment interpolation', () => {
  it('replaces ${VAR} inside strings and ${VAR:-default} when unset', async () => {
    const text = BASE.replace('{ plugin: mock }', '{ plugin: mock, reply: "hello ${WHO}, from ${PLACE:-nowhere}" }')
    const { loaded } = await load(text, { WHO: 'world' })
    expect(loaded.config.providers?.mock.reply).toBe('hello world, from nowhere')
  })

  it('gives an unquoted scalar that is only a variable the type its value reads as', async () => {
    const text = `version: 1\nserver:\n  port: \${PORT:-8080}\n  shutdown_timeout_ms: \${GRACE}\n`
    const { loaded } = await load(text, { GRACE: '2500' })
    expect(loaded.config.server).toEqual({ port: 8080, shutdown_timeout_ms: 2500 })
  })

  it('explains that a variable inside a { } flow mapping must be quoted', async () => {
    const found = await issues(`version: 1\nserver: { port: \${PORT:-8080}, host: 0.0.0.0 }\nproviders:\n  mock: { plugin: mock }\nroutes:\n  - model: m\n    targets: [ { provider: mock } ]\n`)
    expect(found[0]).toMatch(/^gw\.yaml:2:\d+ \(root\): YAML syntax: .*quote it/)
    // One line: what follows is the parser losing its place (it was a dozen lines down to the last one).
    expect(found).toHaveLength(1)
  })

  it('names a key given twice, block or flow style, at its second place', async () => {
    expect(await issues(`version: 1\nproviders:\n  mock: { plugin: mock }\n  mock: { plugin: mock }\n`)).toEqual(["gw.yaml:4:3 (root): YAML syntax: Map keys must be unique: 'mock' is given twice"])
    expect(await issues(`version: 1\nserver: { port: 1, "port": 2 }\n`)).toEqual(["gw.yaml:2:20 (root): YAML syntax: Map keys must be unique: 'port' is given twice"])
  })

  it('places an alias without its anchor at the alias, with its path (it was reported at 1:1)', async () => {
    const text = `version: 1\nproviders:\n  mock: { plugin: mock }\nroutes:\n  - model: m\n    targets: *mock_targets\n`
    expect(await issues(text)).toEqual(['gw.yaml:6:14 routes[0].targets: YAML: the alias *mock_targets has no anchor &mock_targets before it'])
  })

  it('keeps a quoted variable a string', async () => {
    const found = await issues(`version: 1\nserver: { port: "\${PORT:-8080}" }\n`)
    expect(found).toEqual(['gw.yaml:2:17 server.port: must be integer'])
  })

  it('names a missing variable that has no default, at its line, with what to do: set it, or for a provider optional: true', async () => {
    const text = BASE.replace('{ plugin: mock }', '{ plugin: mock, reply: "${SECRET_REPLY}" }')
    expect(await issues(text)).toEqual([
      'gw.yaml:3:32 providers.mock.reply: environment variable SECRET_REPLY is not set (set it, or mark providers.mock `optional: true` to leave it out while it is unset)',
    ])
    // A provider's key is never given a default in the file: the hint for it is `optional: true`; elsewhere a default is.
    expect(await issues(`version: 1\nserver: { port: "\${GW_PORT_UNSET}" }\n`)).toEqual([
      'gw.yaml:2:17 server.port: environment variable GW_PORT_UNSET is not set (set it, or write ${GW_PORT_UNSET:-default} to give a default)',
    ])
  })

  it('refuses a malformed reference at its line, set or not, optional provider or not, instead of using its text as the value', async () => {
    const at = (value: string) => BASE.replace('{ plugin: mock }', `{ plugin: mock, reply: "${value}" }`)
    for (const [written, shown] of [['${KEY }', '${KEY }'], ['${KEY:fallback}', '${KEY:fallback}'], ['${KEY-fallback}', '${KEY-fallback}'], ['x ${} y', '${}'], ['os.environ/KEY', 'os.environ/KEY'], ['$KEY', '$KEY']]) {
      const found = await issues(at(written), { KEY: 'secret' })
      expect(found, written).toEqual([`gw.yaml:3:32 providers.mock.reply: '${shown}' is not a variable reference: write \${NAME} or \${NAME:-default} (NAME of letters, digits and _)`])
    }
    // An optional provider is left out when its variable is unset; a malformed reference is still an error.
    const optional = `version: 1\nproviders:\n  mock: { plugin: mock }\n  up: { plugin: openai, api_key: "\${OPENAI_KEY }", optional: true }\nroutes:\n  - model: mock\n    targets: [ { provider: mock } ]\n`
    expect(await issues(optional)).toEqual([`gw.yaml:4:34 providers.up.api_key: '\${OPENAI_KEY }' is not a variable reference: write \${NAME} or \${NAME:-default} (NAME of letters, digits and _)`])
    // A key pasted inside the braces is not echoed whole (the message reaches /health, the logs and CI): its start locates it.
    const pasted = await issues(at('${sk-proj-0123456789abcdefghijklmnopqrstuvwxyz}'))
    expect(pasted).toEqual([`gw.yaml:3:32 providers.mock.reply: '\${sk-proj-01…' is not a variable reference: write \${NAME} or \${NAME:-default} (NAME of letters, digits and _)`])
    // A whole value `$KEY` (shell style, as compose files write it) would be the API key `$KEY`: refused, unquoted too.
    expect(await issues(BASE.replace('{ plugin: mock }', '{ plugin: mock, reply: $KEY }'), { KEY: 'secret' })).toEqual([`gw.yaml:3:32 providers.mock.reply: '$KEY' is not a variable reference: write \${NAME} or \${NAME:-default} (NAME of letters, digits and _)`])
    // Well-formed references around it are untouched, and a $ alone is text.
    const { loaded } = await load(BASE.replace('{ plugin: mock }', '{ plugin: mock, reply: "p$ss ${A}-${B:-b}" }'), { A: 'a' })
    expect(loaded.config.providers?.mock.reply).toBe('p$ss a-b')
  })

  it('does not put the values of variables in the version hash it reports', async () => {
    const a = await load(BASE.replace('{ plugin: mock }', '{ plugin: mock, reply: "${R}" }'), { R: 'one' })
    const b = await load(BASE.replace('{ plugin: mock }', '{ plugin: mock, reply: "${R}" }'), { R: 'two' })
    expect(a.loaded.hash).toMatch(/^[0-9a-f]{12}$/)
    expect(a.loaded.hash).not.toBe(b.loaded.hash) // a secret rotation is a new version
    expect(a.loaded.hash).not.toContain('one')
  })
})

describe('third-party plugins', () => {
  it('loads a plugin from a folder listed under plugins:, relative to the config file', async () => {
    const text = `version: 1\nplugins: [ ./test/fixtures/plugins/acme ]\nproviders:\n  a: { plugin: acme, greeting: hi }\n`
    const { registry, loaded } = await load(text)
    expect(registry.get('provider', 'acme')?.origin).toBe('./test/fixtures/plugins/acme')
    expect(loaded.config.providers?.a.greeting).toBe('hi')
  })

  it('validates a third-party block against that plugin\'s schema', async () => {
    const text = `version: 1\nplugins: [ ./test/fixtures/plugins/acme ]\nproviders:\n  a: { plugin: acme }\n`
    expect(await issues(text)).toEqual([`gw.yaml:4:6 providers.a: missing required key 'greeting'`])
  })

  it('names a plugin that cannot be loaded, at its entry', async () => {
    const found = await issues(`version: 1\nplugins:\n  - ./test/fixtures/plugins/broken\n  - ./no/such/folder\n  - no-such-package-xyz\n`)
    expect(found).toHaveLength(3)
    expect(found[0]).toMatch(/^gw\.yaml:3:5 plugins\[0\]: cannot load plugin '\.\/test\/fixtures\/plugins\/broken': .*must export default a plugin manifest/)
    expect(found[1]).toMatch(/^gw\.yaml:4:5 plugins\[1\]: cannot load plugin '\.\/no\/such\/folder': no such file or folder/)
    // One line (CI reads a problem a line), saying where a package is looked for: not node's require stack.
    expect(found[2]).toBe(`gw.yaml:5:5 plugins[2]: cannot load plugin 'no-such-package-xyz': Cannot find module 'no-such-package-xyz' (a package is looked for from the config's folder, ${process.cwd()}, then beside the gateway: npm install it, or give its path)`)
  })
})

describe('plugins every config has (enabledByDefault)', () => {
  // A third-party stage every config with departments gets, its block made from parts of the config.
  const audit = definePlugin({
    id: 'stage.audit-all',
    kind: 'stage',
    configSchema: { type: 'object', additionalProperties: false, properties: { teams: { type: 'object' }, beta: { type: 'boolean' }, level: { type: 'string' } } },
    // `level` is included from a path the config leaves out: then it is not in the block.
    enabledByDefault: { at: ['features'], omit: ['audit'], requires: ['departments'], include: { teams: ['departments'], level: ['audit_level'] } },
    setup: () => ({}),
  })
  const slotsOf = async (text: string) => {
    const registry = (await builtinRegistry()).extend()
    registry.register(audit, 'test')
    const { loaded, registry: used } = await loadConfig({ text, label: 'gw.yaml', dir: process.cwd() }, registry, {})
    return pluginSlots(loaded.config, used.enabledByDefault()).filter((slot) => slot.name === 'audit-all' || slot.name === 'limits')
  }
  const ON = 'version: 1\nfeatures: { audit: true, beta: false }\ndepartments: { research: {}, sales: { limits: { requests_per_minute: 5 } } }\nlimits: { backend: { plugin: memory } }\n'

  it('is there when the config has what it requires, with the block it is given: its own, less what is omitted, with what is included', async () => {
    const slots = await slotsOf(ON)
    expect(slots.find((s) => s.name === 'audit-all')).toMatchObject({
      kind: 'stage', plugin: 'audit-all', implied: true, path: ['features'],
      block: { beta: false, teams: { research: {}, sales: { limits: { requests_per_minute: 5 } } } },
    })
    expect(Object.keys(slots.find((s) => s.name === 'audit-all')?.block ?? {}).sort()).toEqual(['beta', 'teams'])
    // The built-in limits stage takes its block the same way: limits: less the limiter's backend, with the departments and the limiter's name.
    expect(slots.find((s) => s.name === 'limits')?.block).toEqual({ departments: { research: {}, sales: { limits: { requests_per_minute: 5 } } }, limiter: 'memory' })
  })

  it('is not there when the config lacks what it requires, or turns it off', async () => {
    expect((await slotsOf(ON.replace(/departments: .*\n/, ''))).map((s) => s.name)).toEqual(['limits'])
    expect((await slotsOf(`${ON}stages: { audit-all: { enabled: false } }\n`)).map((s) => s.name)).toEqual(['limits'])
  })
})

describe('alternatives for one-plugin blocks', () => {
  const TEXT = 'version: 1\nstore:\n  - { plugin: postgres, url: "${ALT_PG_URL}" }\n  - { plugin: embedded, memory: true }\nlimits:\n  backend:\n    - { plugin: redis, url: "${ALT_REDIS_URL}" }\n    - { plugin: memory }\n'

  it('uses the first whose variables are all set, and says nothing of the others\' unset variables', async () => {
    const { loaded } = await load(TEXT)
    expect(loaded.config.store).toMatchObject({ plugin: 'embedded', memory: true })
    expect(loaded.config.limits?.backend).toMatchObject({ plugin: 'memory' })
    const set = await load(TEXT, { ALT_PG_URL: 'postgres://127.0.0.1/test', ALT_REDIS_URL: 'redis://127.0.0.1:6379' })
    expect(set.loaded.config.store).toMatchObject({ plugin: 'postgres', url: 'postgres://127.0.0.1/test' })
    expect(set.loaded.config.limits?.backend).toMatchObject({ plugin: 'redis', url: 'redis://127.0.0.1:6379' })
  })
})

describe('optional providers', () => {
  const text = `version: 1
providers:
  mock: { plugin: mock }
  paid: { plugin: openai, api_key: "\${PAID_KEY}", optional: true }
routes:
  - { model: both, strategy: fallback, targets: [ { provider: paid }, { provider: mock } ] }
  - { model: paid-only, targets: [ { provider: paid } ] }
`
  it('are left out, with the reason, when a variable they use is not set', async () => {
    const { loaded } = await load(text, {})
    expect(Object.keys(loaded.config.providers!)).toEqual(['mock'])
    expect([...loaded.disabledProviders]).toEqual([['paid', 'PAID_KEY is not set']])
  })

  it('are used when their variables are set', async () => {
    const { loaded } = await load(text, { PAID_KEY: 'sk-1' })
    expect(Object.keys(loaded.config.providers!)).toEqual(['mock', 'paid'])
    expect(loaded.disabledProviders.size).toBe(0)
  })

  it('without `optional`, a missing variable is still an error', async () => {
    expect(await issues(text.replace(', optional: true', ''), {})).toEqual([
      'gw.yaml:4:36 providers.paid.api_key: environment variable PAID_KEY is not set (set it, or mark providers.paid `optional: true` to leave it out while it is unset)',
    ])
  })

  it('the shipped config starts with no keys at all, and uses a provider whose key is set', async () => {
    const none = await loadConfig({ file: 'gateway.yaml' }, await builtinRegistry(), {})
    expect(Object.keys(none.loaded.config.providers!)).toEqual(['mock'])
    const withKey = await loadConfig({ file: 'gateway.yaml' }, await builtinRegistry(), { ANTHROPIC_API_KEY: 'sk-ant-test' })
    expect(Object.keys(withKey.loaded.config.providers!)).toEqual(['mock', 'anthropic'])
  })
})
