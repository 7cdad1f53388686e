/**
 * A third party's plugin with the mistakes a JavaScript author makes (no types to catch them): the
 * config load fails at the plugin's block or its `plugins:` entry, naming the plugin and what is
 * wrong, instead of a gateway that starts and answers 502s or 403s, or a message about the
 * config's root.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../helpers/gateway.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-plugin-mistakes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A plugin folder holding `manifest` (JavaScript source of the default export) and a config using it; the start's error. */
async function startWith(name: string, manifest: string, blocks: string): Promise<string> {
  mkdirSync(path.join(dir, name))
  writeFileSync(path.join(dir, name, 'index.mjs'), `export default ${manifest}\n`)
  const file = path.join(dir, `${name}.yaml`)
  writeFileSync(file, `version: 1\nplugins: [ ./${name} ]\n${blocks}`)
  const gw = await startTestGateway({ file }).catch((err: unknown) => err as Error)
  if (!(gw instanceof Error)) {
    await gw.close()
    throw new Error(`${name}: the gateway started`)
  }
  return gw.message
}

const ROUTE = 'routes:\n  - { model: m, targets: [ { provider: p } ] }\n'

describe('a third-party plugin with a mistake', () => {
  it('refuses a provider without chat at its block, instead of answering every request 502', async () => {
    const message = await startWith('no-chat', `{ id: 'provider.no-chat', kind: 'provider', configSchema: { type: 'object' }, setup: () => ({ complete() {} }) }`, `providers:\n  p: { plugin: no-chat }\n${ROUTE}`)
    expect(message).toMatch(/no-chat\.yaml:4:6 providers\.p: plugin provider\.no-chat: it has no chat\(req, call\) function, which every provider needs/)
  })

  it('refuses an auth strategy without authenticate', async () => {
    const message = await startWith('no-auth', `{ id: 'auth.no-auth', kind: 'auth', configSchema: { type: 'object' }, setup: () => ({ authorize: async () => null }) }`, 'auth:\n  strategies: [ { plugin: no-auth } ]\n')
    expect(message).toMatch(/no-auth\.yaml:4:\d+ auth\.strategies\[0\]: plugin auth\.no-auth: it has no authenticate\(req\) function, which every auth strategy needs/)
  })

  it('refuses a stage whose phase is misspelt (it would never run), saying which phase it meant', async () => {
    const message = await startWith('typo-stage', `{ id: 'stage.typo-stage', kind: 'stage', configSchema: { type: 'object' }, setup: () => ({ acess() { throw new Error('never') } }) }`, 'stages:\n  guard: { plugin: typo-stage }\n')
    expect(message).toMatch(/typo-stage\.yaml:4:\d+ stages\.guard: plugin stage\.typo-stage: its `acess` is no stage phase, so it would never run: did you mean 'access'\?/)
  })

  it("refuses a service route without a permission (every caller but an admin's would be a 403 'undefined' permission)", async () => {
    const route = `{ method: 'GET', path: '/hello', summary: 'Hello', handle: () => ({ hello: 'world' }) }`
    const message = await startWith('open-service', `{ id: 'service.open-service', kind: 'service', configSchema: { type: 'object' }, setup: () => ({ routes: [${route}] }) }`, 'services:\n  hello: { plugin: open-service }\n')
    expect(message).toMatch(/open-service\.yaml:4:\d+ services\.hello: plugin service\.open-service: its route GET \/hello has no `permission`: the permission a caller's role needs, or null for any authenticated caller/)
  })

  it('refuses a service route without a handler, and one with a method HTTP has not', async () => {
    expect(await startWith('no-handler', `{ id: 'service.no-handler', kind: 'service', configSchema: { type: 'object' }, setup: () => ({ routes: [{ method: 'GET', path: '/x', summary: 'X', permission: null, handler() {} }] }) }`, 'services:\n  x: { plugin: no-handler }\n'))
      .toMatch(/services\.x: plugin service\.no-handler: it has no handle\(req\) function, which its route GET \/x needs/)
    expect(await startWith('bad-method', `{ id: 'service.bad-method', kind: 'service', configSchema: { type: 'object' }, setup: () => ({ routes: [{ method: 'get', path: '/x', summary: 'X', permission: null, handle() {} }] }) }`, 'services:\n  x: { plugin: bad-method }\n'))
      .toMatch(/services\.x: plugin service\.bad-method: its route get \/x has method "get": one of GET, POST, PUT, PATCH, DELETE/)
  })

  it('names the plugin and the schema keyword of a configSchema that is not a JSON Schema, at its plugins: entry', async () => {
    const message = await startWith('bad-schema', `{ id: 'provider.bad-schema', kind: 'provider', configSchema: { type: 'object', properties: { url: { type: 'url' } } }, setup: () => ({ chat() {} }) }`, `providers:\n  p: { plugin: bad-schema }\n${ROUTE}`)
    expect(message).toMatch(/bad-schema\.yaml:2:12 plugins\[0\]: cannot load plugin '\.\/bad-schema': plugin provider\.bad-schema's configSchema is not a valid JSON Schema: configSchema\/properties\/url\/type must be equal to one of the allowed values/)
  })

  it("says to list a capability in the manifest's uses when setup asks for one it did not list (not that the config lacks it)", async () => {
    // The Tokenizer token as `token('Tokenizer')` makes it; service.tokenizer, which provides it, is in every config.
    const tokenizer = "{ key: Symbol.for('gateway:Tokenizer'), description: 'Tokenizer' }"
    const message = await startWith('unlisted', `{ id: 'provider.unlisted', kind: 'provider', configSchema: { type: 'object' }, setup(ctx) { ctx.get(${tokenizer}); return { chat() {} } } }`, `providers:\n  p: { plugin: unlisted }\n${ROUTE}`)
    expect(message).toMatch(/providers\.p: plugin provider\.unlisted failed to set up: asks for Tokenizer without listing it in its manifest's `uses` \(or `needs`\)/)
  })

  it('says what a module exports when its manifest is not the default export', async () => {
    mkdirSync(path.join(dir, 'named'))
    writeFileSync(path.join(dir, 'named', 'index.mjs'), "export const plugin = { id: 'provider.named', kind: 'provider', configSchema: {}, setup: () => ({ chat() {} }) }\n")
    writeFileSync(path.join(dir, 'named.yaml'), 'version: 1\nplugins: [ ./named ]\n')
    const refused = await startTestGateway({ file: path.join(dir, 'named.yaml') }).catch((err: unknown) => err as Error)
    expect((refused as Error).message).toMatch(/named\.yaml:2:12 plugins\[0\]: cannot load plugin '\.\/named': .*index\.mjs must export default a plugin manifest \(definePlugin\) or an array of them; its default export is missing \(named exports: plugin\)/)
  })

  it('names the plugin whose checkConfig throws, at its block (not the config root)', async () => {
    const message = await startWith('throwing-check', `{ id: 'provider.throwing-check', kind: 'provider', configSchema: { type: 'object' }, checkConfig: (config, at) => at.block.limits.max, setup: () => ({ chat() {} }) }`, `providers:\n  p: { plugin: throwing-check }\n${ROUTE}`)
    expect(message).toMatch(/throwing-check\.yaml:4:6 providers\.p: plugin provider\.throwing-check: its checkConfig failed: Cannot read properties of undefined/)
  })

  it("loads a package folder by its index when its package.json names no main, and says so when its main is not built", async () => {
    const manifest = "export default { id: 'provider.packaged', kind: 'provider', configSchema: { type: 'object' }, setup: () => ({ chat() {} }) }\n"
    mkdirSync(path.join(dir, 'packaged'))
    writeFileSync(path.join(dir, 'packaged', 'package.json'), JSON.stringify({ name: 'packaged', type: 'module' }))
    writeFileSync(path.join(dir, 'packaged', 'index.mjs'), manifest)
    writeFileSync(path.join(dir, 'packaged.yaml'), `version: 1\nplugins: [ ./packaged ]\nproviders:\n  p: { plugin: packaged }\n${ROUTE}`)
    const gw = await startTestGateway({ file: path.join(dir, 'packaged.yaml') })
    await gw.close()
    writeFileSync(path.join(dir, 'packaged', 'package.json'), JSON.stringify({ name: 'packaged', type: 'module', main: 'dist/index.js' }))
    const refused = await startTestGateway({ file: path.join(dir, 'packaged.yaml') }).catch((err: unknown) => err as Error)
    expect((refused as Error).message).toMatch(/packaged\.yaml:2:12 plugins\[0\]: cannot load plugin '\.\/packaged': the main of .*packaged\/package\.json, dist\/index\.js, names no file \(not built yet\?\)/)
  })

  it('says to rename a plugin whose id a built-in has', async () => {
    const message = await startWith('clash', `{ id: 'provider.openai', kind: 'provider', configSchema: { type: 'object' }, setup: () => ({ chat() {} }) }`, '')
    expect(message).toMatch(/clash\.yaml:2:12 plugins\[0\]: cannot load plugin '\.\/clash': plugin provider\.openai from \.\/clash clashes with the built-in plugin of that id: give it another name/)
  })
})
