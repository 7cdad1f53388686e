/** Model names on their way into an upstream URL: a passed-through name must not name another resource (`../`, `?`, `#`). */

/** Longer names are refused before routing: no provider's model name comes near this. */
const MAX_MODEL_NAME_LENGTH = 256

// C0 and C1 control characters, and lone surrogates (not valid UTF-8, so not encodable in a URL).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]|\p{Cs}/u
// A `.` or `..` path segment, with `/` or `\` as the separator (some servers treat both alike).
const DOT_SEGMENT = /(?:^|[/\\])\.{1,2}(?:[/\\]|$)/
// WHATWG URLs decode `%2e` in dot segments; servers may decode `%2f` and `%5c` before routing.
const ENCODED_DOT = /%2e/gi
const ENCODED_SEPARATOR = /%2f|%5c/gi

/** Why `name` may not go to an upstream (control characters, `?`, `#`, a `.`/`..` segment, also percent-encoded), or undefined. */
export function unsafeModelName(name: string): string | undefined {
  if (name.length > MAX_MODEL_NAME_LENGTH) return `it is longer than ${MAX_MODEL_NAME_LENGTH} characters`
  if (CONTROL.test(name)) return 'it contains control characters'
  if (name.includes('?') || name.includes('#')) return 'it contains `?` or `#`'
  const decoded = name.replace(ENCODED_DOT, '.').replace(ENCODED_SEPARATOR, '/')
  if (DOT_SEGMENT.test(decoded)) return 'it contains a `.` or `..` path segment'
  return undefined
}

/** `name` as one URL path segment: every `/`, `?`, `#`, `%` and space escaped. */
export function pathSegment(name: string): string {
  return encodeURIComponent(name)
}

/** `name` as a URL path of its own segments (`tunedModels/x`): each segment escaped, the `/` between them kept. */
export function pathSegments(name: string): string {
  return name.split('/').map(pathSegment).join('/')
}
