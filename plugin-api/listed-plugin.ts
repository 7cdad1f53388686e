/**
 * How the kernel imports a third party's plugin (one `plugins:` lists), beyond node's `import()`:
 * - it meets the gateway's published API wherever it lives (provide-api.mjs) and loads as TypeScript
 *   in the compiled gateway too (tsx, registered on first need);
 * - a reload after its code was edited imports the new code: the entry's URL carries the code's
 *   digest (`?gateway-code=`), which the resolve hook passes on to the plugin's own files, so node's
 *   module cache (keyed by URL) holds one copy per version; code back to an earlier version reuses
 *   that copy. A package from node_modules is imported once (it changes by a deploy, a restart);
 * - a syntax error names its file, line, column and source line: node's SyntaxError from `import()`
 *   names none (tsx's says `:1:1`), so on that failure only esbuild (tsx's own) reads the files again.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** Files read into a plugin folder's code digest: scripts and JSON, not node_modules or dot-folders, at most this many. */
const CODE_FILE = /\.([mc]?[jt]sx?|json)$/
const MAX_CODE_FILES = 1000

/** Per entry file: the URL each code digest was imported under (the first version under its plain URL). */
const versions = new Map<string, Map<string, string>>()

let typescriptLoader: Promise<void> | undefined

/** The compiled gateway (dist/) has no TypeScript loader: tsx is registered when a TypeScript plugin is first imported. */
function needsTypeScriptLoader(file: string): boolean {
  return /\.[mc]?ts$/.test(file) && !/\.[mc]?ts$/.test(fileURLToPath(import.meta.url))
}

/** Import the module of a listed plugin: its code as the files hold it now. */
export async function importListedPlugin(file: string): Promise<Record<string, unknown>> {
  // provide-api.mjs registers a resolve hook that every later import passes through (node's hooks thread): only once a plugin is listed.
  ((await import(new URL('./provide-api.mjs', import.meta.url).href)) as { provideApi(): void }).provideApi()
  if (needsTypeScriptLoader(file)) await (typescriptLoader ??= import('tsx/esm/api').then(({ register }) => { register() }))
  const url = versionedUrl(file)
  try {
    return (await import(url)) as Record<string, unknown>
  } catch (err) {
    const located = syntaxError(file, err) ?? commonJsTypeScript(file, err)
    throw located ? new Error(located, { cause: err }) : err
  }
}

/** tsx compiles a `.ts` file as CommonJS unless its package.json says `"type": "module"`, and node's error says nothing of that. */
function commonJsTypeScript(file: string, err: unknown): string | undefined {
  if ((err as { code?: string } | null)?.code !== 'ERR_REQUIRE_CYCLE_MODULE' || !/\.tsx?$/.test(file)) return undefined
  return `${file} was loaded as CommonJS, which its \`import\`/\`export\` are not: put a package.json saying "type": "module" in its folder (or name it .mts)`
}

/** The code digest of a listed plugin's folder (its entry's), for the config's version; undefined for a package from node_modules. */
export function pluginCodeDigest(file: string): string | undefined {
  if (file.split(path.sep).includes('node_modules')) return undefined
  const hash = createHash('sha256')
  for (const code of codeFiles(path.dirname(file))) hash.update(code).update('\0').update(readFileSync(code)).update('\0')
  return hash.digest('hex').slice(0, 12)
}

function versionedUrl(file: string): string {
  const plain = pathToFileURL(file).href
  const digest = pluginCodeDigest(file)
  if (digest === undefined) return plain
  const seen = versions.get(file) ?? versions.set(file, new Map()).get(file)!
  if (!seen.has(digest)) seen.set(digest, seen.size === 0 ? plain : `${plain}?gateway-code=${digest}`)
  return seen.get(digest)!
}

function codeFiles(dir: string, found: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (found.length >= MAX_CODE_FILES || entry.name.startsWith('.') || entry.name === 'node_modules') continue
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) codeFiles(full, found)
    else if (entry.isFile() && CODE_FILE.test(entry.name)) found.push(full)
  }
  return found
}

interface EsbuildMessage { text: string; location: { file: string; line: number; column: number; lineText: string } | null }
type BuildSync = (options: Record<string, unknown>) => unknown

/** Where an import failed to parse, said in one line; undefined when the failure is no syntax error (or esbuild is not installed). */
function syntaxError(file: string, err: unknown): string | undefined {
  const { name, message, code } = (err ?? {}) as { name?: string; message?: string; code?: string }
  // node's SyntaxError, tsx's lexer ("Parse error"), esbuild's ("Transform failed"), and tsx's fallback to require() of an ES module that failed to parse.
  if (name !== 'SyntaxError' && !/parse error|transform failed/i.test(message ?? '') && code !== 'ERR_REQUIRE_CYCLE_MODULE') return undefined
  let buildSync: BuildSync
  try {
    buildSync = (createRequire(createRequire(import.meta.url).resolve('tsx')) ('esbuild') as { buildSync: BuildSync }).buildSync
  } catch {
    return undefined
  }
  try {
    // Bundled to follow the plugin's own imports (a syntax error in a file it imports), packages left out; nothing is written.
    buildSync({ entryPoints: [file], bundle: true, write: false, packages: 'external', platform: 'node', format: 'esm', logLevel: 'silent' })
    return undefined
  } catch (failure) {
    const first = ((failure as { errors?: EsbuildMessage[] }).errors ?? []).find((e) => e.location)
    if (!first?.location) return undefined
    const { file: where, line, column, lineText } = first.location
    return `syntax error at ${path.resolve(where)}:${line}:${column + 1}: ${first.text}, in \`${lineText.trim()}\``
  }
}

/** A config's version (`hash`) with its listed plugins' code folded in: a reload after an edit to one is a new version, built anew, not "unchanged". */
export function withPluginCode<T extends { readonly hash: string }>(loaded: T, files: readonly string[]): T {
  const digests = files.map((file) => pluginCodeDigest(file)).filter((digest) => digest !== undefined)
  return digests.length ? { ...loaded, hash: createHash('sha256').update(loaded.hash).update(digests.join(',')).digest('hex').slice(0, 12) } : loaded
}
