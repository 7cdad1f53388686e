/**
 * The published plugin API type-checks for a plugin with compiler settings of its own. The plugins
 * of test/fixtures/published-api (and the README's) are put in a folder outside the gateway, with
 * the gateway a devDependency (as `npm i -D <path>` links it) and the strictest settings a plugin
 * author may choose, then checked with tsc: before the declarations exist (a checkout with no build:
 * tsc reads the gateway's sources with the plugin's settings and finds errors in them) and after
 * `npm run build:types` wrote them (package.json's `types` conditions: nothing but the plugin's own code
 * is checked against its settings). The README's tsconfig is checked as written, on the README's plugin.
 */
import { spawn } from 'node:child_process'
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readmeBlock } from '../helpers/readme.ts'

const TSC = path.resolve('node_modules/typescript/bin/tsc')
/** As strict as tsc goes, and the libraries' declarations (the gateway's included) checked too. */
const STRICT = {
  compilerOptions: {
    module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false,
    strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, noPropertyAccessFromIndexSignature: true, noImplicitOverride: true,
  },
}

function run(args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args)
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('close', (status) => resolve({ status, output }))
  })
}

describe('the published plugin API, type-checked by a plugin with strict settings of its own', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-plugin-types-'))
  // The gateway as a checkout without a build: its manifest, sources and dependencies; dist/ comes later.
  const gateway = path.join(dir, 'ai-gateway')
  mkdirSync(gateway)
  copyFileSync('package.json', path.join(gateway, 'package.json'))
  for (const entry of ['plugin-api', 'plugins', 'node_modules']) symlinkSync(path.resolve(entry), path.join(gateway, entry), 'dir')
  // The plugins: the fixtures, and the README's in acme/ (its tsconfig is the README's).
  const plugins = path.join(dir, 'plugins')
  cpSync('test/fixtures/published-api', plugins, { recursive: true })
  mkdirSync(path.join(plugins, 'node_modules'))
  symlinkSync(gateway, path.join(plugins, 'node_modules', 'ai-gateway'), 'dir')
  writeFileSync(path.join(plugins, 'package.json'), JSON.stringify({ name: 'strict-plugins', type: 'module', private: true }))
  writeFileSync(path.join(plugins, 'tsconfig.json'), JSON.stringify({ ...STRICT, exclude: ['acme', 'node_modules'] }))
  mkdirSync(path.join(plugins, 'acme'))
  writeFileSync(path.join(plugins, 'acme', 'index.ts'), readmeBlock('\n## Plugins\n', 'ts'))
  writeFileSync(path.join(plugins, 'acme', 'tsconfig.json'), readmeBlock('and check with `npx tsc` and this `tsconfig.json`', 'json'))
  // A plugin that reaches every published entry point: the contracts, the data helpers, the schema builders.
  writeFileSync(path.join(plugins, 'entry-points.ts'), `import { definePlugin, type ModelEndpoint, type RouteSpec, type Service } from 'ai-gateway/plugin'
import { Queue, type QueueMessage } from 'ai-gateway/contracts/queue'
import type { Limiter } from 'ai-gateway/contracts/limiter'
import { pageOf, type Page } from 'ai-gateway/data'
import { listOf, recordSchema } from 'ai-gateway/schema'

export const first = (messages: QueueMessage<{ id: string }>[]): string | undefined => messages[0]?.body.id
export const limits = (limiter: Limiter | undefined, page: Page): [unknown, number, number] => [limiter, ...pageOf(page)]
export default definePlugin<{ name?: string }, Service>({
  id: 'service.strict', kind: 'service', description: 'Strict.', uses: [Queue],
  configSchema: { type: 'object', properties: { name: { type: 'string' } } },
  setup: () => ({ routes: [], pages: [] }),
})
export const answer = listOf(recordSchema({ id: { type: 'string' } }))
// A route's body and a wire's request are unknown until the plugin types them (never \`any\`).
export const untyped = (req: Parameters<RouteSpec['handle']>[0], wire: Parameters<ModelEndpoint['decode']>[0]): unknown[] => [
  // @ts-expect-error the body is unknown
  req.body.name,
  // @ts-expect-error the wire's body is unknown
  wire.model,
  req.params['id']?.toUpperCase(),
]
export const typed: RouteSpec<{ name: string }> = { method: 'POST', path: '/x', summary: 'x', permission: null, handle: (req) => req.body.name.toUpperCase() }
export const routes: readonly RouteSpec[] = [typed]
`)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("finds errors in the gateway's own files while no declarations are built (the checkout as cloned)", async () => {
    const checked = await run([TSC, '-p', plugins])
    expect(checked.status).not.toBe(0)
    expect(checked.output).toMatch(/^\S*plugin-api[\\/][\w/.-]+\.ts\(\d+,\d+\): error TS/m)
  }, 120_000)

  it('checks clean against the declarations npm run build:types writes, the README tsconfig too', async () => {
    const built = await run([path.resolve('scripts/build.mjs'), '--types', '--out', path.join(gateway, 'dist')])
    expect(built.status, built.output).toBe(0)
    const [strict, readme] = await Promise.all([run([TSC, '-p', plugins]), run([TSC, '-p', path.join(plugins, 'acme')])])
    expect(strict.output).toBe('')
    expect(strict.status).toBe(0)
    expect(readme.output).toBe('')
    expect(readme.status).toBe(0)
  }, 180_000)
})
