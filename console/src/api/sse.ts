/**
 * Server-sent events from a fetch response, read as they arrive: each event handed on in the task
 * its bytes arrive in (a token is on screen at once). Used by the chat completions stream (data-only
 * events) and the thread stream (named events: delta, done, error...).
 */
export interface SseEvent {
  /** The `event:` name; `message` when the event has none. */
  readonly event: string
  readonly data: string
}

export async function readSse(body: ReadableStream<BufferSource>, onEvent: (event: SseEvent) => void): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buffer += value.replace(/\r\n?/g, '\n')
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      let event = 'message'
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim()
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
      }
      if (data.length) onEvent({ event, data: data.join('\n') })
    }
  }
}
