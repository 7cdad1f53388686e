/** Text a response header echoes of a request: a model name a glob route passed on, a warning quoting a parameter. */

/** A header line this long already tells the client everything it will read of it. */
const MAX_HEADER_VALUE = 1024
const PRINTABLE = /^[\x20-\x7e]*$/

/**
 * `text` as a header value Node will send: runs outside printable ASCII as their UTF-8 bytes,
 * percent-encoded (Node refuses CR, LF and anything past U+00FF, and throwing there made a request
 * already answered, and billed, a 500), and cut to 1 KB with a note of its length.
 */
export function headerValue(text: string): string {
  const safe = PRINTABLE.test(text) ? text : text.replace(/[^\x20-\x7e]+/g, (run) => {
    let encoded = ''
    for (const byte of Buffer.from(run, 'utf8')) encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
    return encoded
  })
  if (safe.length <= MAX_HEADER_VALUE) return safe
  // Cut, but not inside a %XX escape.
  return `${safe.slice(0, MAX_HEADER_VALUE - 40).replace(/%[0-9A-F]?$/, '')}... (${safe.length} characters in all)`
}
