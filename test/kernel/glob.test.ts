/**
 * Globs (`*`, `?`) as routes, departments and keys write them: matched without a RegExp, so a glob
 * sent through the API (a key's allowed_models) cannot stall the process, and compared by coverage
 * when a key makes a key.
 */
import { describe, expect, it } from 'vitest'
import { NamePatterns, compileGlob, globCovers } from '../../plugin-api/kit/glob.ts'

describe('globs', () => {
  it.each([
    ['claude-*', 'claude-3-5-sonnet', true], ['claude-*', 'claude-', true], ['claude-*', 'claud', false],
    ['mock-?', 'mock-a', true], ['mock-?', 'mock-ab', false], ['mock-?', 'mock-', false],
    ['*', '', true], ['**', 'x', true], ['?*', '', false], ['a*b*c', 'aXXbYYc', true], ['a*b*c', 'aXXbYY', false],
    ['local-*', 'local-\nx', false], ['local-?', 'local-\r', false], ['a*', 'a\u2028', false], ['a\nb', 'a\nb', true],
    ['*-mini', 'gpt-4o-mini', true], ['gpt-4o*', 'gpt-4', false], ['a.b', 'aXb', false], ['a.b', 'a.b', true], ['a+(b)', 'a+(b)', true],
  ])('%s matches %s: %s', (glob, name, expected) => {
    expect(compileGlob(glob).test(name)).toBe(expected)
    expect(new NamePatterns([glob]).matches(name)).toBe(expected)
  })

  it('answers at once for a glob that makes a regular expression backtrack without end', () => {
    // As a RegExp (^.*a.*a…b$) this took 13 s on a 37-character name and doubles with each character.
    const started = performance.now()
    expect(compileGlob('*a*a*a*a*a*a*a*a*a*a*a*ab').test(`claude-${'a'.repeat(250)}`)).toBe(false)
    expect(performance.now() - started).toBeLessThan(50)
  })

  it('covers a glob only when every name it matches is matched too', () => {
    expect(globCovers('mock-*', 'mock-?')).toBe(true)
    expect(globCovers('mock-?', 'mock-*')).toBe(false)
    expect(globCovers('mock-?', 'mock-a')).toBe(true)
    expect(globCovers('*', 'a*b')).toBe(true)
    expect(globCovers('a*b', 'a*')).toBe(false)
    expect(globCovers('claude-*', 'claude-3*')).toBe(true)
    expect(globCovers('claude-3', 'claude-3')).toBe(true)
    expect(globCovers('claude-3', 'claude-?')).toBe(false)
  })
})
