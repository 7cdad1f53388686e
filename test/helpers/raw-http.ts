/**
 * A raw TCP connection to a gateway, for what an HTTP client library hides: requests written byte
 * by byte or in pieces, several requests on one keep-alive connection, and when and how the
 * server closes it (an orderly close, or a reset).
 */
import net from 'node:net'

export interface RawConnection {
  readonly socket: net.Socket
  /** Everything received so far, as text. */
  received(): string
  /** Whether the connection ended in an error (a reset). */
  readonly reset: () => boolean
  /** Resolves, with the milliseconds since connecting, when the connection closes. */
  readonly closed: Promise<number>
}

export async function connectRaw(port: number): Promise<RawConnection> {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const started = performance.now()
  let text = ''
  let reset = false
  socket.on('data', (d: Buffer) => { text += d.toString('utf8') })
  socket.on('error', () => { reset = true })
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - started)))
  return { socket, received: () => text, reset: () => reset, closed }
}

/** Write `text` one byte every `everyMs` until it is all sent or the socket closes. */
export function dribble(socket: net.Socket, text: string, everyMs: number): void {
  let i = 0
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer)
    socket.write(text[i++])
  }, everyMs)
  socket.once('close', () => clearInterval(timer))
}

/** The first HTTP response in `raw`: status, lower-cased headers, and the body (parsed if JSON). */
export function parseResponse(raw: string): { status: number; headers: Record<string, string>; body: any } {
  const [head, ...rest] = raw.split('\r\n\r\n')
  const [statusLine, ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
  const text = rest.join('\r\n\r\n')
  let body: unknown = text
  try { body = JSON.parse(text) } catch { /* not JSON */ }
  return { status: Number(statusLine.split(' ')[1]), headers, body }
}
