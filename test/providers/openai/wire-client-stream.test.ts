/**
 * The kit's pooled client reading a stream (plugins/providers/kit/wire-client.ts): the events'
 * data as they arrive, the upstream held back while the reader does not read, the upstream
 * request torn down when the reader leaves or the caller aborts, a non-2xx answer as its status
 * error, an error event mid-stream thrown, the connection reused after `[DONE]`, and a stream sent
 * once more when its reused connection was reset before any answer.
 */
import type { Socket } from 'node:net'
import type { Dispatcher } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { DONE, readEvents, UpstreamStatusError, WireClient } from '../../../plugins/providers/kit/wire-client.ts'
import { sendJson, startUpstream, type MockUpstream } from '../../helpers/upstream.ts'
import { waitFor } from '../../helpers/wait.ts'

const event = (data: unknown): string => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`
const chunk = (content: string) => ({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] })

describe('WireClient reading a stream', () => {
  let upstream: MockUpstream
  let client: WireClient
  let retries = 0
  /** Per socket, the requests it carried; and whether each request's connection closed before its answer ended. */
  const sockets = new Map<Socket, number>()
  const cut: boolean[] = []
  beforeAll(async () => {
    upstream = await startUpstream()
    client = new WireClient({ baseURL: `${upstream.url}/v1`, headers: {}, timeoutMs: 2000, onRetry: () => retries++ })
  })
  afterAll(async () => {
    await client.close()
    await upstream.close()
  })
  afterEach(() => {
    sockets.clear()
    cut.length = 0
  })

  /** Answer each stream with `events`, one every `delayMs`, noting whether the connection closed before the end. */
  const streamEvents = (events: string[], delayMs = 0) => upstream.handle(async (_req, res) => {
    const socket = res.socket!
    sockets.set(socket, (sockets.get(socket) ?? 0) + 1)
    const index = cut.push(false) - 1
    res.on('close', () => { if (!res.writableFinished) cut[index] = true })
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const text of events) {
      if (res.destroyed) return
      res.write(text)
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs))
    }
    res.end()
  })
  const call = (signal = new AbortController().signal) => ({ signal })
  const read = async (events: AsyncIterable<string>): Promise<string[]> => {
    const all: string[] = []
    for await (const data of events) all.push(data)
    return all
  }

  it('yields each event\'s data as it came, [DONE] once, and reads past it so the connection is reused', async () => {
    streamEvents([event(chunk('a')), event(chunk('b')), event(DONE), event(chunk('after'))])
    expect(await read(await client.send('/chat/completions', '{}', call()))).toEqual([JSON.stringify(chunk('a')), JSON.stringify(chunk('b')), DONE])
    // undici frees a connection for the next request a turn after its answer ends.
    await new Promise((resolve) => setImmediate(resolve))
    expect(await read(await client.send('/chat/completions', '{}', call()))).toHaveLength(3)
    expect([...sockets.values()]).toEqual([2])
    expect(cut).toEqual([false, false])
  })

  it('aborts the upstream request when the reader leaves mid-stream', async () => {
    streamEvents(Array.from({ length: 40 }, (_, i) => event(chunk(`w${i}`))), 20)
    let n = 0
    for await (const _ of await client.send('/chat/completions', '{}', call())) if (++n === 2) break
    await waitFor(() => cut[0] === true, 2000)
  })

  it('ends with the caller\'s abort reason and tears the upstream request down when the signal aborts', async () => {
    streamEvents(Array.from({ length: 40 }, (_, i) => event(chunk(`w${i}`))), 20)
    const controller = new AbortController()
    const events = await client.send('/chat/completions', '{}', call(controller.signal))
    const reason = new Error('the client left')
    setTimeout(() => controller.abort(reason), 60)
    await expect(read(events)).rejects.toBe(reason)
    await waitFor(() => cut[0] === true, 2000)
  })

  it('throws the upstream\'s status, body and retry-after for a non-2xx answer', async () => {
    upstream.handle((_req, res) => sendJson(res, 429, { error: { message: 'slow down', type: 'requests' } }, { 'retry-after': '7' }))
    const err = await client.send('/chat/completions', '{}', call()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UpstreamStatusError)
    expect(err).toMatchObject({ status: 429, retryAfter: '7', body: { error: { message: 'slow down' } } })
  })

  it('throws an error event sent mid-stream, after the events before it', async () => {
    streamEvents([event(chunk('a')), event({ error: { message: 'the model fell over' } }), event(DONE)])
    const seen: unknown[] = []
    const stream = (await client.post('/chat/completions', { stream: true }, { ...call(), stream: true })) as AsyncIterable<unknown>
    const err = await (async () => { for await (const data of stream) seen.push(data) })().catch((e: unknown) => e)
    expect(seen).toEqual([chunk('a')])
    expect(err).toBeInstanceOf(UpstreamStatusError)
    expect((err as UpstreamStatusError).body).toEqual({ error: { message: 'the model fell over' } })
  })

  it('sends a stream once more on a fresh connection when the reused one is reset before any answer', async () => {
    streamEvents([event(chunk('a')), event(DONE)])
    await read(await client.send('/chat/completions', '{}', call()))
    const answer = upstream.requests.length
    // The next request on the kept-alive socket is reset, as an upstream that dropped it idle would.
    upstream.handle((_req, res) => {
      upstream.handle(async (req, fresh) => {
        fresh.writeHead(200, { 'content-type': 'text/event-stream' })
        fresh.end(event(chunk('again')) + event(DONE))
      })
      res.socket!.resetAndDestroy()
    })
    const before = retries
    expect(await read(await client.send('/chat/completions', '{}', call()))).toEqual([JSON.stringify(chunk('again')), DONE])
    expect(retries).toBe(before + 1)
    expect(upstream.requests.length).toBe(answer + 2)
  })
})

describe('a stream\'s backpressure', () => {
  /** A dispatcher that hands the handler to the test, which plays the socket. */
  const handlerOf = async (): Promise<{ handler: Dispatcher.DispatchHandler; events: Promise<AsyncIterable<string>>; resumed: () => number }> => {
    let handler: Dispatcher.DispatchHandler | undefined
    const events = readEvents({ dispatch: (_opts, h) => { handler = h; return true } }, { path: '/', method: 'POST' }, new AbortController().signal, { answered: false })
    let resumes = 0
    handler!.onConnect!(() => {})
    handler!.onHeaders!(200, [], () => { resumes++ }, 'OK')
    return { handler: handler!, events, resumed: () => resumes }
  }

  it('pauses the socket once a few events wait for the reader, and resumes it when the reader has drained them', async () => {
    const { handler, events, resumed } = await handlerOf()
    let sent = 0
    let accepted = true
    while (accepted && sent < 100) accepted = handler.onData!(Buffer.from(event(`e${sent++}`)))
    expect(accepted).toBe(false)
    expect(sent).toBeLessThanOrEqual(10)
    const iterator = (await events)[Symbol.asyncIterator]()
    for (let i = 0; i < sent - 1; i++) expect((await iterator.next()).value).toBe(`e${i}`)
    expect(resumed()).toBe(0)
    expect((await iterator.next()).value).toBe(`e${sent - 1}`)
    expect(resumed()).toBe(1)
    handler.onComplete!(null)
    expect((await iterator.next()).done).toBe(true)
  })
})
