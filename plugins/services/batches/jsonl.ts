/** Reading JSONL a page at a time (a batch's output and error files, streamed out): memory bounded by a page and a line. */

const NEWLINE = 0x0a

/** The non-empty lines of `pages`, a line split across pages joined; bytes are decoded only as whole lines, so a UTF-8 character split by a page stays whole. */
export async function* jsonlLines(pages: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let rest: Buffer = Buffer.alloc(0)
  for await (const page of pages) {
    const data = rest.length ? Buffer.concat([rest, page]) : page
    let start = 0
    for (let end = data.indexOf(NEWLINE); end !== -1; end = data.indexOf(NEWLINE, start)) {
      if (end > start) yield data.toString('utf8', start, end)
      start = end + 1
    }
    rest = data.subarray(start)
  }
  if (rest.length) yield rest.toString('utf8')
}

/** Bytes gathered before they are written: one write per few hundred lines, not per line. */
const CHUNK_BYTES = 64 * 1024

/** `lines` as JSONL text in chunks of about CHUNK_BYTES. */
export async function* jsonlChunks(lines: AsyncIterable<string>): AsyncGenerator<string> {
  let chunk = ''
  for await (const line of lines) {
    chunk += `${line}\n`
    if (chunk.length >= CHUNK_BYTES) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk) yield chunk
}
