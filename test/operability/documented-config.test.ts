/**
 * What the gateway shows a user to copy into gateway.yaml is a config it accepts: the README's
 * YAML examples validate (with the providers and routes they name supplied around them), and every
 * `{ ... ${VAR} ... }` snippet in the docs, the shipped configs, the editor schema's hover text and
 * the CLI's hints parses as YAML (an unquoted ${VAR} inside { } does not). The quick start's curl
 * and SDK snippet answer as written against the shipped gateway.yaml; the README's links reach
 * files and headings that exist, and its CLI lines are the commands' own usage and options.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isMap, parseDocument, stringify } from 'yaml'
import { runCli } from '../helpers/cli.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { builtinRegistry } from '../../core/plugins/loader.ts'
import { ConfigError, formatIssue, loadConfig } from '../../core/config/index.ts'
import { CORE_SCHEMA } from '../../core/config/validate.ts'

const README = readFileSync('README.md', 'utf8')
const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-documented-'))

/** The README's ```yaml blocks, each with the line its text starts on. */
function yamlBlocks(markdown: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = []
  let open: { line: number; lines: string[] } | undefined
  markdown.split('\n').forEach((line, i) => {
    if (!open && line.startsWith('```yaml')) open = { line: i + 2, lines: [] }
    else if (open && line.startsWith('```')) {
      blocks.push({ line: open.line, text: open.lines.join('\n') })
      open = undefined
    } else open?.lines.push(line)
  })
  return blocks
}

/** A block that shows alternatives line by line (`store: A` then `store: B`) is several examples: split where a top-level key comes again. */
function variants(block: { line: number; text: string }): { line: number; text: string }[] {
  const out: { line: number; lines: string[]; keys: Set<string> }[] = []
  block.text.split('\n').forEach((line, i) => {
    const key = /^([a-z_]+):/.exec(line)?.[1]
    if (out.length === 0 || (key && out[out.length - 1].keys.has(key))) out.push({ line: block.line + i, lines: [], keys: new Set() })
    const current = out[out.length - 1]
    current.lines.push(line)
    if (key) current.keys.add(key)
  })
  return out.map((v) => ({ line: v.line, text: v.lines.join('\n') }))
}

/** What the examples name without defining: providers, routes, a store and a limiter. */
const CONTEXT = {
  version: 1,
  store: { plugin: 'embedded', path: './data' },
  limits: { backend: { plugin: 'memory' } },
  providers: {
    openai: { plugin: 'openai', api_key: '${OPENAI_API_KEY}' },
    anthropic: { plugin: 'anthropic', api_key: '${ANTHROPIC_API_KEY}' },
    mock: { plugin: 'mock' },
  },
  roles: { intern: { permissions: ['chat'], scope: 'own_data' } },
  routes: ['chat-default', 'chat-research', 'text-embed', 'gpt-4o', 'mock'].map((model) => ({ model, targets: [{ provider: 'openai' }] }))
    .concat([{ model: 'claude-*', targets: [{ provider: 'anthropic' }] }]),
}
/** Named maps the example adds to; every other section it sets replaces the context's. */
const ADDED_TO = new Set(['providers', 'roles', 'services', 'surfaces'])

function inContext(example: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = { ...CONTEXT }
  for (const [key, value] of Object.entries(example)) {
    if (key === 'routes') {
      const named = new Set((value as { model: string }[]).map((r) => r.model))
      config.routes = [...(value as unknown[]), ...CONTEXT.routes.filter((r) => !named.has(r.model))]
    } else if (ADDED_TO.has(key)) config[key] = { ...(CONTEXT[key as keyof typeof CONTEXT] as object), ...(value as object) }
    else config[key] = value
  }
  return config
}

describe("the README's gateway.yaml examples", () => {
  // `plugins: [ ./plugins-extra/acme ]`: a third-party plugin folder beside the config.
  mkdirSync(path.join(dir, 'plugins-extra'))
  symlinkSync(path.resolve('test/fixtures/plugins/acme'), path.join(dir, 'plugins-extra', 'acme'))
  const sections = new Set(Object.keys(CORE_SCHEMA.properties as object))
  const examples = yamlBlocks(README).flatMap(variants).filter((v) => {
    const doc = parseDocument(v.text)
    // A block of gateway.yaml, not another file (a CI job, a compose file).
    return isMap(doc.contents) && doc.contents.items.every((pair) => sections.has(String((pair.key as { value?: unknown })?.value)))
      || doc.errors.length > 0
  })
    // The Plugins section's example lists the README's own plugin (./acme): test/kernel/plugin-outside-package.test.ts runs that pair as written.
    .filter((v) => !/^plugins: \[ \.\/acme \]/m.test(v.text))

  it('are found (each section the reference shows)', () => {
    expect(examples.length).toBeGreaterThan(15)
  })

  it('parse as YAML as written', () => {
    const errors = examples.flatMap((v) => parseDocument(v.text).errors.map((e) => `README.md:${v.line + e.linePos![0].line - 1}: ${e.message.split('\n')[0]}`))
    expect(errors).toEqual([])
  })

  it('are configs the gateway accepts', async () => {
    const registry = await builtinRegistry()
    const problems: string[] = []
    for (const v of examples) {
      const example = parseDocument(v.text).toJS() as Record<string, unknown>
      const text = stringify(inContext(example))
      try {
        await loadConfig({ text, label: `README example from line ${v.line}, merged into its context`, dir }, registry, {}, { allowMissingEnv: true })
      } catch (err) {
        problems.push(...(err instanceof ConfigError ? err.issues.map(formatIssue) : [`README.md:${v.line}: ${(err as Error).message}`]))
      }
    }
    expect(problems).toEqual([])
  })
})

/** `{ ... }` on one line that holds a `${`: what a user pastes as a flow mapping. */
function flowSnippets(text: string): string[] {
  const out: string[] = []
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '{' || text[i - 1] === '$') continue
    let depth = 0
    for (let j = i; j < text.length && text[j] !== '\n'; j++) {
      if (text[j] === '{') depth++
      else if (text[j] === '}' && --depth === 0) {
        if (text.slice(i, j + 1).includes('${')) out.push(text.slice(i, j + 1))
        break
      }
    }
  }
  return out
}

const unparsable = (snippets: string[]): string[] => snippets.filter((s) => parseDocument(s).errors.length > 0)

describe('config snippets with a ${VAR} inside { }', () => {
  it('parse as YAML in the docs, the shipped configs and the editor schema', () => {
    const docs = execFileSync('git', ['ls-files', 'README.md', '*/README.md', 'gateway.yaml', 'docker/config/*.yaml'], { encoding: 'utf8' }).split('\n').filter(Boolean)
    // Code in other languages (a plugin's TypeScript: `{ authorization: `Bearer ${...}` }`) is not pasted into YAML.
    const withoutCode = (text: string): string => text.replace(/^```(ts|typescript|js|javascript)\n[\s\S]*?^```$/gm, '')
    const found = docs.flatMap((file) => flowSnippets(withoutCode(readFileSync(file, 'utf8'))).map((s) => ({ file, s })))
    // The editor schema's descriptions (hover text), read as the strings they are.
    const descriptions: string[] = []
    JSON.parse(readFileSync('schemas/editor.schema.json', 'utf8'), (key, value: unknown) => {
      if (key === 'description' && typeof value === 'string') descriptions.push(value)
      return value
    })
    found.push(...descriptions.flatMap(flowSnippets).map((s) => ({ file: 'schemas/editor.schema.json', s })))
    expect(found.length).toBeGreaterThan(20)
    expect(found.filter(({ s }) => unparsable([s]).length > 0)).toEqual([])
  })

  it('parse as YAML in what `gateway worker` suggests for a queue and a store other processes reach', async () => {
    const file = path.join(dir, 'worker.yaml')
    writeFileSync(file, 'version: 1\nstore: { plugin: embedded, path: ./data }\nqueue: { plugin: memory }\nproviders: { mock: { plugin: mock } }\nroutes: [ { model: mock, targets: [ { provider: mock } ] } ]\n')
    const { code, stderr } = await runCli(['worker', '--config', file])
    expect(code).toBe(1)
    const snippets = flowSnippets(stderr)
    expect(snippets).toHaveLength(2)
    expect(unparsable(snippets)).toEqual([])
  })
})

/** The README's fenced blocks of one language, in order. */
function fenced(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1])
}

describe("the README's quick start, against the shipped gateway.yaml", () => {
  let gw: RunningGateway
  beforeAll(async () => {
    // As shipped, with no provider key set; its store in memory rather than in ./data.
    const shipped = parseDocument(readFileSync('gateway.yaml', 'utf8')).toJS() as Record<string, unknown>
    gw = await startTestGateway(stringify({ ...shipped, store: { plugin: 'embedded', memory: true } }), { env: {} })
  }, 60_000)
  afterAll(async () => { await gw?.close() })

  it('answers its curl as its SDK snippet says ("echo: Hello!"), streams included', async () => {
    const curl = fenced(README, 'sh').find((block) => block.startsWith('curl '))!
    const url = new URL(/curl (\S+)/.exec(curl)![1])
    const body = /-d '([^']+)'/.exec(curl)![1]
    const res = await fetch(`${gw.url}${url.pathname}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    expect(res.status).toBe(200)
    const snippet = fenced(README, 'ts')[0]
    expect(snippet).toContain(`baseURL: '${url.origin}/v1'`)
    const expected = /\/\/ "([^"]+)"/.exec(snippet)![1]
    expect((await res.json()).choices[0].message.content).toBe(expected)
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused' })
    let streamed = ''
    for await (const chunk of await client.chat.completions.create({ model: 'mock', stream: true, messages: [{ role: 'user', content: 'Hi' }] })) {
      streamed += chunk.choices[0]?.delta?.content ?? ''
    }
    expect(streamed).toBe('echo: Hi')
  })

  it('lists on /health the providers it leaves out for want of a key, and their routes', async () => {
    const health = await (await fetch(`${gw.url}/health`)).json()
    expect(Object.keys(health.config.providers_disabled).sort()).toEqual(['anthropic', 'gemini', 'groq', 'mistral', 'openai'])
    expect(health.config.providers_disabled.openai).toBe('OPENAI_API_KEY is not set')
    expect(health.config.routes_unavailable).toContain('chat-default')
    // The fields the Health section lists are the answer's.
    const [, top, config] = /`GET \/health` → `\{ (.*?), config: \{ (.*?) \} \}`/.exec(README)!
    expect(Object.keys(health)).toEqual([...top.split(', '), 'config'])
    expect(Object.keys(health.config)).toEqual(config.split(', '))
  })
})

describe("the README's references", () => {
  it('link to files that exist', () => {
    const targets = [...README.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t))
    expect(targets.length).toBeGreaterThan(20)
    expect(targets.filter((t) => !existsSync(t))).toEqual([])
  })

  it('link to headings that exist', () => {
    const slug = (heading: string) => heading.toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')
    const prose = README.replace(/^```[\s\S]*?^```/gm, '')
    const anchors = new Set([...prose.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1])))
    const links = [...README.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1])
    expect(links.filter((a) => !anchors.has(a))).toEqual([])
  })

  it('show each CLI command as its --help does, with options it takes', async () => {
    const lines = [...README.matchAll(/^npx gateway ((?:config )?[a-z]+) (.*?)(?:#|$)/gm)].map((m) => ({ command: m[1], rest: m[2].trim() }))
    const helps = new Map<string, string>()
    for (const command of new Set(lines.map((l) => l.command))) {
      const help = await runCli([...command.split(' '), '--help'])
      expect(help.code, `gateway ${command} --help`).toBe(0)
      helps.set(command, help.stdout)
    }
    // The CLI section's synopsis is each command's own usage line, placeholders and all.
    const synopsis = lines.filter((l) => l.rest.startsWith('['))
    expect(synopsis.map((l) => l.command)).toEqual(['start', 'worker', 'validate', 'schema', 'config diff'])
    for (const { command, rest } of synopsis) expect(helps.get(command)!.split('\n')[0]).toBe(`usage: gateway ${command} ${rest}`)
    // Every option an example passes is one the command takes.
    const unknown = lines.flatMap(({ command, rest }) => [...rest.matchAll(/--[a-z-]+/g)].map((m) => m[0])
      .filter((option) => !helps.get(command)!.includes(`${option} `)).map((option) => `npx gateway ${command} ${option}`))
    expect(unknown).toEqual([])
  }, 60_000)
})
