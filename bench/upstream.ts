/**
 * The bench's mock upstream: an OpenAI-shaped server on loopback answering chat completions
 * (JSON, or SSE when `stream: true`) with a fixed body. Run as its own process.
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
server.keepAliveTimeout = 65_000
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`listening ${(server.address() as { port: number }).port}`)
})
