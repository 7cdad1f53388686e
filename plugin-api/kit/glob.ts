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
