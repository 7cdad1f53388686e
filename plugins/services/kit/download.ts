/**
 * The `Content-Disposition` of every download the services send, written by the `content-disposition`
 * package (RFC 6266): quotes and backslashes escaped in `filename`, a name that is not plain ASCII
 * as RFC 5987's UTF-8 `filename*` beside an ASCII `filename` for clients that read only that (the
 * package's own fallback keeps Latin-1 letters, raw bytes in a header). A stored name is a name,
 * not a path: the package reads `\` and `/` as directories and keeps only what follows the last,
 * so they are sent as `_`, which is what browsers save them as anyway.
 */
import contentDisposition from 'content-disposition'

export function attachment(filename: string): string {
  const name = filename.replace(/[\\/]/g, '_') || 'download'
  return contentDisposition(name, { fallback: name.replace(/[^\x20-\x7e]/g, '_') })
}
