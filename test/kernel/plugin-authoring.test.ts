/**
 * A third party writing a plugin, as the README's "Plugins" section tells them: the real `gateway`
 * CLI and the official OpenAI SDK, the plugin in a folder outside the gateway. A syntax error is
 * found by file, line and column; an edit to the plugin's code takes effect on a reload, without a
 * restart; `gateway validate` runs the plugin's own config check, not its setup.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, startCli } from '../helpers/cli.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-plugin-authoring-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A provider answering `reply()` from its folder's reply module (`ext`: mjs or ts). */
function providerPlugin(name: string, ext: 'mjs' | 'ts', reply: string): void {
  mkdirSync(path.join(dir, name), { recursive: true })
  writeFileSync(path.join(dir, name, 'package.json'), JSON.stringify({ name, type: 'module' }))
  writeFileSync(path.join(dir, name, `index.${ext}`), `import { definePlugin } from 'ai-gateway/plugin'
import { reply } from './reply.${ext}'

export default definePlugin({
  id: 'provider.${name}',
  kind: 'provider',
  configSchema: { type: 'object' },
  setup() {
    const started = reply()
    return {
      async chat(req) {
        if (req.messages[0].content === 'slow') await new Promise((resolve) => setTimeout(resolve, 1500))
        const content = \`\${reply()} (set up by \${started})\`
        return {
          id: 'x', object: 'chat.completion', created: 0, model: req.model,
          choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }
      },
    }
  },
})
`)
  writeReply(name, ext, reply)
}

const writeReply = (name: string, ext: string, reply: string) => writeFileSync(path.join(dir, name, `reply.${ext}`), `export function reply() {\n  return ${reply}\n}\n`)

function configFor(name: string): string {
  const file = path.join(dir, `${name}.yaml`)
  writeFileSync(file, `version: 1\nplugins: [ ./${name} ]\nproviders:\n  p: { plugin: ${name} }\nroutes:\n  - { model: m, targets: [ { provider: p } ] }\n`)
  return file
}

describe('a plugin with a syntax error', () => {
  it('fails `gateway validate` at its plugins: entry, naming the file, line, column and source line (JavaScript)', async () => {
    providerPlugin('broken-js', 'mjs', "'one'")
    writeFileSync(path.join(dir, 'broken-js', 'index.mjs'), "import { definePlugin } from 'ai-gateway/plugin'\n\nexport default definePlugin({\n  id: 'provider.broken-js', kind: 'provider',\n  setup() { return { chat( { } } },\n})\n")
    const { code, stdout } = await runCli(['validate', configFor('broken-js')])
    expect(code).toBe(1)
    expect(stdout).toContain(`broken-js.yaml:2:12 plugins[0]: cannot load plugin './broken-js': syntax error at ${path.join(dir, 'broken-js', 'index.mjs')}:5:32: Expected ")" but found "}", in \`setup() { return { chat( { } } },\``)
  })

  it('names the file the plugin imports where the error is, in TypeScript too, and the start fails the same way', async () => {
    providerPlugin('broken-ts', 'ts', "'one' as string +")
    const file = configFor('broken-ts')
    const expected = `broken-ts.yaml:2:12 plugins[0]: cannot load plugin './broken-ts': syntax error at ${path.join(dir, 'broken-ts', 'reply.ts')}:3:1: Unexpected "}", in \`}\``
    const { code, stdout } = await runCli(['validate', file])
    expect(code).toBe(1)
    expect(stdout).toContain(expected)
    const started = await startCli(['--config', file, '--port', '0', '--no-watch'], { GATEWAY_DATA_DIR: dir }).then(() => 'started', (err: Error) => err.message)
    expect(started).toContain(expected)
  }, 60_000)
})

describe('a TypeScript plugin in a folder without a package.json', () => {
  it('is refused saying to declare it an ES module, not "Cannot require() ES Module ... in a cycle"', async () => {
    providerPlugin('untyped', 'ts', "'one'")
    rmSync(path.join(dir, 'untyped', 'package.json'))
    const { code, stdout } = await runCli(['validate', configFor('untyped')])
    expect(code).toBe(1)
    expect(stdout).toContain(`untyped.yaml:2:12 plugins[0]: cannot load plugin './untyped': ${path.join(dir, 'untyped', 'index.ts')} was loaded as CommonJS, which its \`import\`/\`export\` are not: put a package.json saying "type": "module" in its folder (or name it .mts)`)
  })
})

describe("a plugin's code edited while the gateway runs", () => {
  it('takes effect on the next reload (SIGHUP), the plugin set up anew, a request in flight finishing on the old code; back to an earlier version, that code answers again', async () => {
    providerPlugin('edited', 'ts', "'version one'")
    const gateway = await startCli(['--config', configFor('edited'), '--port', '0', '--no-watch'], { GATEWAY_DATA_DIR: dir })
    try {
      const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 })
      const ask = async (content = 'hi') => (await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content }] })).choices[0].message.content
      const reload = async (nth: number) => {
        gateway.child.kill('SIGHUP')
        const until = Date.now() + 20_000
        while ((gateway.output().match(/config reloaded/g) ?? []).length < nth) {
          if (Date.now() > until) throw new Error(`no reload:\n${gateway.output()}`)
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
      expect(await ask()).toBe('version one (set up by version one)')

      // The helper module the entry imports is what changed: the entry alone re-imported would still run the old one.
      const inFlight = ask('slow')
      await new Promise((resolve) => setTimeout(resolve, 200))
      writeReply('edited', 'ts', "'version two'")
      await reload(1)
      expect(await ask()).toBe('version two (set up by version two)')
      // A request that started before the reload finishes on the instance it started on, with its code.
      expect(await inFlight).toBe('version one (set up by version one)')

      writeReply('edited', 'ts', "'version one'")
      await reload(2)
      expect(await ask()).toBe('version one (set up by version one)')
    } finally {
      gateway.child.kill('SIGTERM')
      await gateway.exited
    }
  }, 90_000)
})

describe('gateway validate', () => {
  it("runs a listed plugin's checkConfig and prints its message at the YAML line, without running its setup", async () => {
    mkdirSync(path.join(dir, 'checked'))
    writeFileSync(path.join(dir, 'checked', 'index.mjs'), `export default {
  id: 'provider.checked', kind: 'provider',
  configSchema: { type: 'object', properties: { level: { type: 'number' } } },
  checkConfig: (config, at) => (at.block.level > 3 ? [{ path: [...at.path, 'level'], message: 'at most 3 levels (said by the plugin)' }] : []),
  setup() { throw new Error('setup ran') },
}
`)
    const file = path.join(dir, 'checked.yaml')
    writeFileSync(file, 'version: 1\nplugins: [ ./checked ]\nproviders:\n  p:\n    plugin: checked\n    level: 5\n')
    const { code, stdout } = await runCli(['validate', file])
    expect(code).toBe(1)
    expect(stdout).toBe(`${file}:6:12 providers.p.level: at most 3 levels (said by the plugin)\n`)
  })
})
