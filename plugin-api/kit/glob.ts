/** Names with `*` and `?` wildcards, as routes, departments, keys and limit policies write them. */

export const isGlob = (name: string): boolean => /[*?]/.test(name)

export function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${source}$`)
}

/** A list of names and globs, compiled once for matching. */
export class NamePatterns {
  readonly #exact: ReadonlySet<string>
  readonly #globs: readonly RegExp[]

  constructor(patterns: readonly string[]) {
    this.#exact = new Set(patterns.filter((p) => !isGlob(p)))
    this.#globs = patterns.filter(isGlob).map(globToRegExp)
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
