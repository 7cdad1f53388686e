/**
 * The layout's promises, checked on the sources (type imports included): plugins reach the gateway
 * only through the published API (plugin-api/), as a third party's plugin must; the published API
 * stands alone (it names neither the kernel nor a plugin); the kernel imports no plugin.
 */
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve('.')
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|tsx|mts)$/.test(e.name))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
}

/** Every relative import of the files under `dir` that lands in one of `forbidden`, as `file -> target`. */
function importsInto(dir: string, forbidden: readonly string[]): string[] {
  const found: string[] = []
  for (const file of sources(dir)) {
    for (const m of readFileSync(path.join(ROOT, file), 'utf8').matchAll(IMPORT)) {
      const target = path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), m[1] ?? m[2]!))
      if (forbidden.some((f) => target === f || target.startsWith(`${f}/`))) found.push(`${file} -> ${target}`)
    }
  }
  return found
}

describe('module boundaries', () => {
  it('plugins import nothing of the kernel: only plugin-api/ (and their own kits and contracts)', () => {
    expect(importsInto('plugins', ['core', 'cli'])).toEqual([])
  })

  it('the published API imports neither the kernel nor a plugin', () => {
    expect(importsInto('plugin-api', ['core', 'cli', 'plugins'])).toEqual([])
  })

  it('the kernel imports no plugin and not the CLI', () => {
    expect(importsInto('core', ['plugins', 'cli'])).toEqual([])
  })

  it('finds imports where they are (the check is not vacuous)', () => {
    expect(importsInto('core', ['plugin-api']).length).toBeGreaterThan(10)
    expect(importsInto('plugins', ['plugin-api']).length).toBeGreaterThan(100)
  })
})
