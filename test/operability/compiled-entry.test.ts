/**
 * bin/gateway.js runs dist/ only while the sources are as they were built (scripts/compiled.mjs):
 * an edit, an added or a removed source after `npm run build` runs the TypeScript sources instead,
 * and the image (a build without sources) runs dist/.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

interface Compiled {
  compiledEntry(root: string, env?: Record<string, string | undefined>): { entry: string | undefined; stale: boolean }
  sourceManifest(root: string): unknown
}
const { compiledEntry, sourceManifest } = (await import(pathToFileURL(path.resolve(import.meta.dirname, '../../scripts/compiled.mjs')).href)) as Compiled

const SOURCES = ['core/config/validate.ts', 'core/store/migrations/001.sql', 'plugin-api/index.ts', 'cli/main.ts', 'plugins/surfaces/openai/index.ts', 'schemas/gateway.schema.json', 'config/models.json']

let root: string
const write = (rel: string, text: string): void => {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
  writeFileSync(path.join(root, rel), text)
}
/** What `npm run build` leaves: the entry and the stamp with the sources' manifest. */
const build = (stamp: object = { built_at: new Date().toISOString(), sources: sourceManifest(root) }): void => {
  write('dist/cli/main.js', '')
  write('dist/BUILD.json', JSON.stringify(stamp))
}
const entry = (env: Record<string, string | undefined> = {}) => compiledEntry(root, env)

describe('scripts/compiled.mjs: dist/ or the sources', () => {
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'gw-compiled-'))
    for (const rel of SOURCES) write(rel, `// ${rel}\n`)
    build()
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  it('runs dist/ right after a build', () => {
    expect(entry()).toEqual({ entry: path.join(root, 'dist', 'cli', 'main.js'), stale: false })
  })

  it('runs the sources after an edit in place (the folder is unchanged), and says why', () => {
    appendFileSync(path.join(root, 'core/config/validate.ts'), 'export {}\n')
    expect(entry()).toEqual({ entry: undefined, stale: true })
  })

  it('runs the sources after a file is added or removed', () => {
    write('core/store/migrations/002.sql', 'select 1;\n')
    expect(entry().stale).toBe(true)
    build()
    expect(entry().stale).toBe(false)
    rmSync(path.join(root, 'plugins/surfaces/openai/index.ts'))
    expect(entry().stale).toBe(true)
  })

  it('runs dist/ in the image: no sources, config/ holding only the gateway.yaml', () => {
    for (const dir of ['core', 'plugin-api', 'cli', 'plugins', 'schemas', 'config']) rmSync(path.join(root, dir), { recursive: true })
    write('config/gateway.yaml', 'routes: []\n')
    expect(entry()).toEqual({ entry: path.join(root, 'dist', 'cli', 'main.js'), stale: false })
  })

  it('does not trust a build without a manifest; GATEWAY_TS=1 and a missing build run the sources', () => {
    build({ built_at: new Date().toISOString() })
    expect(entry()).toEqual({ entry: undefined, stale: true })
    build()
    expect(entry({ GATEWAY_TS: '1' })).toEqual({ entry: undefined, stale: false })
    rmSync(path.join(root, 'dist'), { recursive: true })
    expect(entry()).toEqual({ entry: undefined, stale: false })
  })
})
