/**
 * The bench's mock upstream: an OpenAI-shaped server on loopback answering chat completions
 * (JSON, or SSE when `stream: true`) with a fixed body, and Anthropic's Messages API
 * (`/v1/messages`, the same sentence as a Message or its event stream) and Gemini's generateContent
 * (`/v1beta/models/M:generateContent`, whole answers). Run as its own process.
 * Usage: node --import tsx bench/upstream.ts PORT   (prints "listening PORT")
 */
import http from 'node:http'

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1700000000, model: 'bench-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'The quick brown fox jumps over the lazy dog.', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 },
})
const chunk = (delta: object, finish: string | null, usage?: object) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1700000000, model: 'bench-model', choices: usage ? [] : [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...(usage ? { usage } : {}) })}\n\n`
const MESSAGE = JSON.stringify({
  id: 'msg_bench', type: 'message', role: 'assistant', model: 'bench-model', content: [{ type: 'text', text: 'The quick brown fox jumps over the lazy dog.', citations: null }],
  stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 12, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, service_tier: 'standard' },
})
const GENERATED = JSON.stringify({
  candidates: [{ content: { role: 'model', parts: [{ text: 'The quick brown fox jumps over the lazy dog.' }] }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 10, totalTokenCount: 22 }, modelVersion: 'bench-model', responseId: 'bench',
})
const event = (data: { type: string }) => `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`
const WORDS = 'The quick brown fox jumps over the lazy dog.'.split(' ')
const STREAM_DELAY_MS = Number(process.env.BENCH_STREAM_DELAY_MS ?? 20)

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString()
    if (req.url?.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'bench-model', object: 'model', created: 0, owned_by: 'bench' }] }))
      return
    }
    if (req.url?.endsWith(':generateContent')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(GENERATED) })
      res.end(GENERATED)
      return
    }
    if (req.url?.endsWith('/messages')) {
      if (body.includes('"stream":true')) return messageStream(res)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(MESSAGE) })
      res.end(MESSAGE)
      return
    }
    if (body.includes('"stream":true')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.write(chunk({ role: 'assistant', content: '' }, null))
      let i = 0
      const next = () => {
        if (i < WORDS.length) {
          res.write(chunk({ content: (i ? ' ' : '') + WORDS[i++] }, null))
          setTimeout(next, STREAM_DELAY_MS)
        } else {
          res.write(chunk({}, 'stop'))
          if (body.includes('"include_usage":true')) res.write(chunk({}, null, { prompt_tokens: 12, completion_tokens: 10, total_tokens: 22 }))
          res.end('data: [DONE]\n\n')
        }
      }
      setTimeout(next, STREAM_DELAY_MS)
      return
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(COMPLETION) })
    res.end(COMPLETION)
  })
})
/** Anthropic's event sequence for the same sentence, a word per content_block_delta. */
function messageStream(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  const start = { ...JSON.parse(MESSAGE), content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } }
  res.write(event({ type: 'message_start', message: start } as { type: string }) + event({ type: 'ping' }) + event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '', citations: null } } as { type: string }))
  let i = 0
  const next = () => {
    if (i < WORDS.length) {
      res.write(event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: (i ? ' ' : '') + WORDS[i++] } } as { type: string }))
      setTimeout(next, STREAM_DELAY_MS)
      return
    }
    res.write(event({ type: 'content_block_stop', index: 0 } as { type: string }) + event({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 10 } } as { type: string }))
    res.end(event({ type: 'message_stop' }))
  }
  setTimeout(next, STREAM_DELAY_MS)
}

server.keepAliveTimeout = 65_000
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`listening ${(server.address() as { port: number }).port}`)
})
