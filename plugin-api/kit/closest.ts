/** Suggestions for typos: a config key, a request parameter. */

/** The allowed key a typo most likely meant: one it is a prefix of, or one within edit distance 2. */
export function closest(key: string, allowed: string[]): string | undefined {
  const extended = allowed.find((candidate) => candidate.startsWith(key) && key.length >= 3)
  if (extended) return extended
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of allowed) {
    const d = editDistance(key, candidate)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

/** ` (did you mean 'NAME'?)` for the allowed name `key` most likely meant, else ''. */
export function didYouMean(key: string, allowed: string[]): string {
  const hint = closest(key, allowed)
  return hint ? ` (did you mean '${hint}'?)` : ''
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length]
}
