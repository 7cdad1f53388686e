/** Server-sent events written straight to the socket: no buffering, and a slow client's back-pressure pauses the upstream read. */
import type { ServerResponse } from 'node:http'
import { once } from 'node:events'

/** No `connection` header: Node sets it (keep-alive, or close while the server drains). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
}

/** Write one SSE frame; waits for drain when the socket's buffer is full. */
export async function writeEvent(res: ServerResponse, data: string, event?: string): Promise<void> {
  const frame = event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`
  if (!res.write(frame) && !res.destroyed) await Promise.race([once(res, 'drain'), once(res, 'close')])
}
