/** The README's examples, read as a user copies them. */
import { readFileSync } from 'node:fs'
import { expect } from 'vitest'

/** The first fenced block of `lang` after `marker` in the README. */
export function readmeBlock(marker: string, lang: string): string {
  const readme = readFileSync('README.md', 'utf8')
  const from = readme.indexOf(marker)
  expect(from, `README has no '${marker}'`).toBeGreaterThan(0)
  const block = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(readme.slice(from))
  expect(block, `README has no ${lang} block after '${marker}'`).not.toBeNull()
  return block![1]
}
