/** Load gateway.yaml: parse keeping positions (errors name file:line:col), interpolate `${VAR}` and `${VAR:-default}`. */
import { readFile } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml'
import { ConfigError, dottedPath, type ConfigIssue, type ConfigPath } from './issues.ts'
import { SLOT_SHAPES, valueAt } from './slots.ts'
import type { GatewayConfig } from './types.ts'

export interface ParsedConfig {
  /** The file it came from (or a label for in-memory text). */
  readonly source: string
  /** The interpolated config, not yet validated. */
  readonly data: unknown
  /** sha256 of the interpolated config, short: the config version shown on /health. */
  readonly hash: string
  /** Optional providers left out because a variable they need is not set, with the reason. */
  readonly disabledProviders: ReadonlyMap<string, string>
  /** Unset variables, reported with the validation's issues (errors, or warnings with allowMissingEnv). */
  readonly envIssues: readonly ConfigIssue[]
  /** With allowMissingEnv: the dotted paths whose value is unknown (their schema checks are skipped). */
  readonly unsetPaths: ReadonlySet<string>
  readonly allowMissingEnv: boolean
  /** Line and column (1-based) of the node at `path`, or of its nearest existing parent. */
  locate(path: ConfigPath, atKey?: boolean): { line: number; col: number }
  /** A ConfigIssue for `path`. */
  issue(path: ConfigPath, message: string, atKey?: boolean): ConfigIssue
}

/** A validated config. */
export interface LoadedConfig extends ParsedConfig {
  readonly config: GatewayConfig
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/

export interface ParseOptions {
  /** CI without secrets: an unset variable is a warning and the checks that depend on its value are skipped. */
  allowMissingEnv?: boolean
}

export async function readConfigFile(file: string, env: NodeJS.ProcessEnv = process.env, options: ParseOptions = {}): Promise<ParsedConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message
    throw new ConfigError([{ file, line: 1, col: 1, path: '', message: `cannot read config: ${reason}` }])
  }
  return parseConfigText(text, file, env, options)
}

export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env, options: ParseOptions = {}): ParsedConfig {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
  const position = (offset: number): { line: number; col: number } => lineCounter.linePos(offset)

  const issues: ConfigIssue[] = []
  const lines = text.split('\n')
  for (const e of doc.errors) {
    const { line, col } = position(e.pos[0])
    // `{ port: ${PORT} }` is a YAML error: in a flow mapping, braces end the plain scalar.
    const hint = /\{[^}]*\$\{/.test(lines[line - 1] ?? '') ? ' (a ${VAR} inside a { } mapping must be quoted: quote it, "${VAR}", or use block style)' : ''
    const key = e.code === 'DUPLICATE_KEY' ? `: '${/^["']?([^"':,}]*)/.exec(lines[line - 1].slice(col - 1))![1].trim()}' is given twice` : ''
    issues.push({ file: source, line, col, path: '', message: `YAML syntax: ${e.message.split('\n')[0].replace(/; please use YAML\.parseAllDocuments\(\)$/, ': a config is one document (the --- line here starts a second one)')}${key}${hint}` })
    // What follows an unquoted ${VAR} in { } is the parser losing its place: one line says it all.
    if (hint) break
  }
  if (issues.length) throw new ConfigError(issues)

  const missing: { keys: (string | number)[]; issue: ConfigIssue; variable: string }[] = []
  interpolate(doc, env, (node, keys, variable, message) => {
    const issue = { file: source, ...position(node.range?.[0] ?? 0), path: dottedPath(keys), message }
    if (variable) missing.push({ keys, variable, issue })
    else throw new ConfigError([issue])
  })
  const data = (doc.toJS() ?? {}) as { providers?: Record<string, { optional?: unknown } | null> }

  // A provider marked `optional: true` whose variables are not set is left out, not an error: the shipped config lists every provider, and those with a key in the environment work.
  chooseAlternatives(data as Record<string, unknown>, missing)
  const disabled = new Map<string, string>()
  const envIssues: ConfigIssue[] = []
  const unsetPaths = new Set<string>()
  for (const m of missing) {
    const name = m.keys[0] === 'providers' ? String(m.keys[1]) : undefined
    if (name !== undefined && data.providers?.[name]?.optional === true) {
      if (!disabled.has(name)) disabled.set(name, `${m.variable} is not set`)
    } else {
      envIssues.push(m.issue)
      unsetPaths.add(m.issue.path)
    }
  }
  for (const name of disabled.keys()) delete data.providers![name]

  const hash = createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 12)

  const locate = (path: ConfigPath, atKey = false): { line: number; col: number } => {
    const node = findNode(doc, path, atKey)
    return position(node?.range?.[0] ?? 0)
  }
  return {
    source,
    data,
    hash,
    disabledProviders: disabled,
    envIssues,
    unsetPaths,
    allowMissingEnv: options.allowMissingEnv ?? false,
    locate,
    issue: (path, message, atKey) => ({ file: source, ...locate(path, atKey), path: dottedPath(path), message }),
  }
}

/** The blocks that hold one plugin (store, queue, limiter, cache): each may list alternatives. */
const ONE_PLUGIN_BLOCKS = SLOT_SHAPES.filter((s) => s.shape === 'one').map((s) => s.at)

/** A one-plugin block may list alternatives: the first whose variables are all set is used, so one file runs with what its environment offers. */
function chooseAlternatives(data: Record<string, unknown>, missing: { keys: (string | number)[] }[]): void {
  for (const at of ONE_PLUGIN_BLOCKS) {
    const parent = valueAt(data, at.slice(0, -1)) as Record<string, unknown> | undefined
    const leaf = at[at.length - 1]
    const value = parent?.[leaf]
    if (!parent || !Array.isArray(value)) continue
    const under = (m: { keys: (string | number)[] }, i: number): boolean => at.every((key, k) => m.keys[k] === key) && m.keys[at.length] === i
    let chosen = value.findIndex((_, i) => !missing.some((m) => under(m, i)))
    if (chosen === -1) chosen = value.length - 1
    for (let i = missing.length - 1; i >= 0; i--) {
      const m = missing[i]
      if (at.every((key, k) => m.keys[k] === key) && typeof m.keys[at.length] === 'number' && m.keys[at.length] !== chosen) missing.splice(i, 1)
    }
    parent[leaf] = value[chosen]
  }
}

/** Replace `${VAR}` / `${VAR:-default}` in every scalar string; a plain `${PORT:-8080}` becomes a number. A malformed reference (a whole `$VAR` too) fails with no variable named: an error whatever the environment (its text would become the value). */
function interpolate(doc: Document, env: NodeJS.ProcessEnv, fail: (node: Node, keys: (string | number)[], variable: string, message: string) => void): void {
  visit(doc, {
    Alias(_key, node, ancestors) {
      if (!node.resolve(doc)) fail(node, pathOf([...ancestors, node]), '', `YAML: the alias *${node.source} has no anchor &${node.source} before it`)
    },
    Scalar(_key, node, ancestors) {
      if (typeof node.value !== 'string' || !/\$\{|^os\.environ\/|^\$\w+$/.test(node.value)) return
      const original = node.value
      const stray = /\$\{(?![A-Za-z_]\w*(?::-[^}]*)?\})[^}]*\}?|^os\.environ\/\w*|^\$[A-Za-z_]\w*$/.exec(original)
      if (stray) return fail(node, pathOf([...ancestors, node]), '', `'${stray[0].length > 24 ? `${stray[0].slice(0, 12)}…` : stray[0]}' is not a variable reference: write \${NAME} or \${NAME:-default} (NAME of letters, digits and _)`)
      let missing = false
      const result = original.replace(VAR, (_m, name: string, fallback: string | undefined) => {
        const value = env[name]
        if (value !== undefined && value !== '') return value
        if (fallback !== undefined) return fallback
        missing = true
        const keys = pathOf([...ancestors, node])
        fail(node, keys, name, `environment variable ${name} is not set (${keys[0] === 'providers' ? `set it, or mark providers.${keys[1]} \`optional: true\` to leave it out while it is unset` : `set it, or write \${${name}:-default} to give a default`})`)
        return ''
      })
      if (missing) return
      // An unquoted scalar that was entirely a variable takes the type its value reads as, so `port: ${PORT:-8080}` is a number and `enabled: ${FLAG:-false}` a boolean.
      const whole = node.type === 'PLAIN' && /^\$\{[^}]+\}$/.test(original)
      if (whole && NUMBER.test(result)) node.value = Number(result)
      else if (whole && (result === 'true' || result === 'false')) node.value = result === 'true'
      else node.value = result
    },
  })
}

/** The config path of the last of `chain` (a visitor's ancestors and node): map keys and list indices. */
export function pathOf(chain: readonly unknown[]): (string | number)[] {
  const keys: (string | number)[] = []
  chain.forEach((item, i) => {
    if (isPair(item)) keys.push(String(isScalar(item.key) ? item.key.value : item.key))
    else if (isSeq(item)) keys.push(item.items.indexOf(chain[i + 1] as never))
  })
  return keys
}

/** The YAML node at `path` (the key node when `atKey`), or the nearest parent that exists. */
function findNode(doc: Document, path: ConfigPath, atKey: boolean): Node | undefined {
  let current: unknown = doc.contents
  let found: Node | undefined = doc.contents ?? undefined
  for (let i = 0; i < path.length; i++) {
    const part = path[i]
    const last = i === path.length - 1
    if (isMap(current)) {
      const pair = current.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part))
      if (!pair) return found
      if (last && atKey) return pair.key as Node
      current = pair.value
      found = (pair.value as Node | null) ?? (pair.key as Node)
    } else if (isSeq(current) && typeof part === 'number') {
      const item = current.items[part]
      if (!item) return found
      current = item
      found = item as Node
    } else {
      return found
    }
  }
  return found
}
