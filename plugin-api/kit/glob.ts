/** Names with `*` and `?` wildcards, as routes, departments, keys and limit policies write them. */

export const isGlob = (name: string): boolean => /[*?]/.test(name)

/** A compiled glob: whether a name matches it. */
export interface Glob {
  test(name: string): boolean
}

/**
 * A glob as a matcher. Not a RegExp: `^.*a.*a.*a…b$` backtracks exponentially on a long name, and
 * globs come from the API too (a key's `allowed_models`), so one key could stall the process.
 * Greedy with one backtrack point (the last `*`): at most name × glob steps.
 */
export function compileGlob(glob: string): Glob {
  return { test: (name) => globMatches(glob, name) }
}

/** What a wildcard never stands for, as RegExp's `.` never did (globs were RegExps before). */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/

function globMatches(glob: string, name: string): boolean {
  let g = 0
  let n = 0
  let star = -1
  let mark = 0
  while (n < name.length) {
    if (glob[g] === '*') {
      star = g++
      mark = n
    } else if (g < glob.length && (glob[g] === name[n] || (glob[g] === '?' && !LINE_TERMINATOR.test(name[n]!)))) {
      g++
      n++
    } else if (star >= 0 && !LINE_TERMINATOR.test(name[mark]!)) {
      // The last `*` takes one more character, and the rest of the glob is tried from there
      // (one it cannot take, no earlier `*` can either).
      g = star + 1
      n = ++mark
    } else return false
  }
  while (glob[g] === '*') g++
  return g === glob.length
}

/** A list of names and globs, compiled once for matching. */
export class NamePatterns {
  readonly #exact: ReadonlySet<string>
  readonly #globs: readonly Glob[]

  constructor(patterns: readonly string[]) {
    this.#exact = new Set(patterns.filter((p) => !isGlob(p)))
    this.#globs = patterns.filter(isGlob).map(compileGlob)
  }

  /** The exact (wildcard-free) names. */
  get exact(): ReadonlySet<string> {
    return this.#exact
  }

  matches(name: string): boolean {
    return this.#exact.has(name) || this.#globs.some((g) => g.test(name))
  }
}

/**
 * Whether every name `pattern` matches, `cover` matches too (a key's model list within its
 * creator's). Sound, not complete: a `*` of `pattern` is covered only by a `*` of `cover`, a `?` by
 * a `?` or a `*`; testing `pattern` as a plain name would let `mock-?` cover `mock-*`.
 */
export function globCovers(cover: string, pattern: string): boolean {
  const seen = new Map<number, boolean>()
  const from = (i: number, j: number): boolean => {
    const key = i * (pattern.length + 1) + j
    const known = seen.get(key)
    if (known !== undefined) return known
    let result: boolean
    if (i === cover.length) result = j === pattern.length
    else if (cover[i] === '*') result = from(i + 1, j) || (j < pattern.length && from(i, j + 1))
    else if (j === pattern.length) result = false
    else if (cover[i] === '?') result = pattern[j] !== '*' && from(i + 1, j + 1)
    else result = cover[i] === pattern[j] && from(i + 1, j + 1)
    seen.set(key, result)
    return result
  }
  return from(0, 0)
}
