/**
 * Speech to text (`client.audio.transcriptions.create`, `.translations.create`) and text to speech
 * (`client.audio.speech.create`) through the gateway:
 * the upload sent on to OpenAI's own endpoint as the client made it (the audio byte for byte, the
 * target's model), the transcript relayed as the provider wrote it (JSON or text), answered offline
 * by the mock, and metered: a usage event with the tokens a GPT transcription model reports, priced
 * by the catalog (whisper-1 reports seconds: a request with no tokens).
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capability, startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { formOf, sendJson, startUpstream, type MockUpstream } from '../../helpers/upstream.ts'
import { waitFor } from '../../helpers/wait.ts'
import { UsageLog } from '../../../plugins/contracts/capabilities.ts'

/** Binary, as audio is: bytes a UTF-8 decoding would change. */
const AUDIO = Buffer.concat([Buffer.from('ID3'), Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28]), Buffer.from(' fake frames 0123456789')])
const KEY = 'dee-key-0123456789abcdef'
/** What the upstream says for any text. */
const SPOKEN = Buffer.concat([Buffer.from('ID3'), Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(64, 0xaa)])

describe('/v1/audio/transcriptions and /translations with the openai SDK', () => {
  let upstream: MockUpstream
  let gw: RunningGateway
  let client: OpenAI
  const forms: FormData[] = []
  beforeAll(async () => {
    // OpenAI's speech to text as its API reference answers it: JSON with usage (tokens for GPT
    // models, seconds for whisper-1), or the bare text for response_format text.
    upstream = await startUpstream(async (req, res) => {
      if (req.path.endsWith('/audio/speech')) {
        res.writeHead(200, { 'content-type': 'audio/mpeg' })
        res.end(SPOKEN)
        return
      }
      if (!/\/audio\/(transcriptions|translations)$/.test(req.path)) return sendJson(res, 404, { error: { message: 'no such path', type: 'invalid_request_error', code: null, param: null } })
      const form = await formOf(req)
      forms.push(form)
      const model = String(form.get('model'))
      const file = form.get('file') as File
      const text = `${req.path.endsWith('translations') ? 'translated' : 'heard'} ${file.name}: ${file.size} bytes`
      if (form.get('response_format') === 'text') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`${text}\n`)
        return
      }
      const usage = model === 'whisper-1' ? { type: 'duration', seconds: 3 } : { type: 'tokens', input_tokens: 120, output_tokens: 12, total_tokens: 132, input_token_details: { text_tokens: 0, audio_tokens: 120 } }
      sendJson(res, 200, { text, usage })
    })
    gw = await startTestGateway(`version: 1
store: { plugin: embedded, memory: true, vector: false }
providers:
  oa: { plugin: openai, api_key: sk-audio, base_url: "${upstream.url}/v1" }
  offline: { plugin: mock }
  claude: { plugin: anthropic, api_key: sk-ant, base_url: "${upstream.url}" }
auth:
  strategies:
    - plugin: api-key
      keys:
        - { key: ${KEY}, user: dee, department: support }
routes:
  - { model: "gpt-4o-*", aliases: ["whisper-*", "tts-*"], targets: [ { provider: oa } ] }
  - { model: mock-transcribe, targets: [ { provider: offline, model: gpt-4o-transcribe } ] }
  - { model: mock-speech, targets: [ { provider: offline, model: tts-1 } ] }
  - { model: claude-transcribe, targets: [ { provider: claude, model: claude-haiku-4-5 } ] }
`)
    client = new OpenAI({ apiKey: KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  const events = () => capability(gw, UsageLog).list({ from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000), keyId: 'config:dee' })

  it('sends the upload to OpenAI as made (the audio byte for byte), relays the transcript, and records its tokens and cost', async () => {
    const { data, response } = await client.audio.transcriptions.create({ model: 'gpt-4o-transcribe', file: await toFile(AUDIO, 'call.mp3', { type: 'audio/mpeg' }), language: 'en', include: ['logprobs'] }).withResponse()
    expect(data.text).toBe(`heard call.mp3: ${AUDIO.length} bytes`)
    expect(response.headers.get('x-gateway-provider')).toBe('oa')
    const sent = upstream.requests.at(-1)!
    expect(sent.path).toBe('/v1/audio/transcriptions')
    expect(sent.headers.authorization).toBe('Bearer sk-audio')
    const form = forms.at(-1)!
    expect(form.get('model')).toBe('gpt-4o-transcribe')
    expect(form.get('language')).toBe('en')
    expect(form.getAll('include[]')).toEqual(['logprobs'])
    const file = form.get('file') as File
    expect([file.name, file.type]).toEqual(['call.mp3', 'audio/mpeg'])
    expect(Buffer.from(await file.arrayBuffer()).equals(AUDIO)).toBe(true)
    // Priced by the catalog: $6 per 1M audio input tokens, $10 per 1M output tokens.
    const event = (await waitFor(async () => (await events()).find((e) => e.model === 'gpt-4o-transcribe' && e.provider === 'oa'), 5000, 25)).value!
    expect(event).toMatchObject({ status: 200, promptTokens: 120, completionTokens: 12 })
    expect(event.costUsd).toBeCloseTo(120 * 6e-6 + 12 * 10e-6, 8)
  })

  it('relays a text transcript as text, translations too, and whisper-1 (seconds, not tokens) as a request with no tokens', async () => {
    const text = await client.audio.transcriptions.create({ model: 'whisper-1', file: await toFile(AUDIO, 'note.wav'), response_format: 'text' })
    expect(text).toBe(`heard note.wav: ${AUDIO.length} bytes\n`)
    // A list field goes on whole (the SDK sends each item under `name[]`).
    await client.audio.transcriptions.create({ model: 'whisper-1', file: await toFile(AUDIO, 'words.wav'), response_format: 'verbose_json', timestamp_granularities: ['word', 'segment'] })
    expect(forms.at(-1)!.getAll('timestamp_granularities[]')).toEqual(['word', 'segment'])
    const translated = await client.audio.translations.create({ model: 'whisper-1', file: await toFile(AUDIO, 'hola.m4a') })
    expect(translated.text).toBe(`translated hola.m4a: ${AUDIO.length} bytes`)
    expect(upstream.requests.at(-1)!.path).toBe('/v1/audio/translations')
    const whisper = (await waitFor(async () => {
      const list = (await events()).filter((e) => e.model === 'whisper-1')
      return list.length === 3 ? list : undefined
    }, 5000, 25)).value!
    expect(whisper.map((e) => [e.status, e.promptTokens, e.completionTokens, e.costUsd])).toEqual([[200, 0, 0, 0], [200, 0, 0, 0], [200, 0, 0, 0]])
  })

  it('answers offline with the mock, metered as the model its route names', async () => {
    const json = await client.audio.transcriptions.create({ model: 'mock-transcribe', file: await toFile(AUDIO, 'memo.mp3') })
    expect(json.text).toBe(`Transcribed memo.mp3 (${AUDIO.length} bytes).`)
    const srt = await client.audio.transcriptions.create({ model: 'mock-transcribe', file: await toFile(AUDIO, 'memo.mp3'), response_format: 'srt' })
    expect(srt).toContain('00:00:00,000 --> 00:00:01,000')
    const mocked = (await waitFor(async () => {
      const list = (await events()).filter((e) => e.route === 'mock-transcribe')
      return list.length === 2 ? list : undefined
    }, 5000, 25)).value!
    expect(mocked[0]).toMatchObject({ model: 'gpt-4o-transcribe', provider: 'offline' })
    expect(mocked[0]!.promptTokens).toBeGreaterThan(0)
    expect(mocked[0]!.costUsd).toBeGreaterThan(0)
  })

  it('speaks a text through OpenAI (the audio relayed byte for byte, with its type) and meters the text\'s estimate', async () => {
    const spoken = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello from the gateway' })
    expect(spoken.headers.get('content-type')).toBe('audio/mpeg')
    expect(Buffer.from(await spoken.arrayBuffer()).equals(SPOKEN)).toBe(true)
    expect(upstream.requests.at(-1)!.body).toEqual({ model: 'tts-1', voice: 'alloy', input: 'Hello from the gateway' })
    // 22 bytes: 6 tokens at 4 characters a token, tts-1's $15 per 1M characters being $60 per 1M of them.
    const event = (await waitFor(async () => (await events()).find((e) => e.model === 'tts-1' && e.provider === 'oa'), 5000, 25)).value!
    expect(event).toMatchObject({ status: 200, promptTokens: 6, completionTokens: 0 })
    expect(event.costUsd).toBeCloseTo(6 * 60e-6, 10)
    // Offline: a real WAV when asked for one.
    const wav = await client.audio.speech.create({ model: 'mock-speech', voice: 'alloy', input: 'two words', response_format: 'wav' })
    expect(wav.headers.get('content-type')).toBe('audio/wav')
    const bytes = Buffer.from(await wav.arrayBuffer())
    expect([bytes.toString('latin1', 0, 4), bytes.toString('latin1', 8, 12), bytes.readUInt32LE(40)]).toEqual(['RIFF', 'WAVE', 2 * 4800])
    await expect(client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'x', stream_format: 'sse' })).rejects.toMatchObject({ status: 400, param: 'stream_format' })
    await expect(client.audio.speech.create({ model: 'tts-1', input: 'x' } as never)).rejects.toMatchObject({ status: 400, param: 'voice' })
  })

  it('refuses an upload without its file or model, a stream, a route whose provider cannot transcribe, and a JSON body', async () => {
    const post = (form: FormData) => fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}` }, body: form })
    const noFile = new FormData()
    noFile.append('model', 'whisper-1')
    const refused = await post(noFile)
    expect(refused.status).toBe(400)
    expect((await refused.json()).error).toMatchObject({ param: 'file' })
    const noModel = new FormData()
    noModel.append('file', new Blob([AUDIO]), 'a.mp3')
    expect((await (await post(noModel)).json()).error).toMatchObject({ param: 'model' })
    await expect(client.audio.transcriptions.create({ model: 'gpt-4o-transcribe', file: await toFile(AUDIO, 'a.mp3'), stream: true })).rejects.toMatchObject({ status: 400, param: 'stream' })
    await expect(client.audio.transcriptions.create({ model: 'claude-transcribe', file: await toFile(AUDIO, 'a.mp3') })).rejects.toMatchObject({ status: 400, code: 'wire_unsupported' })
    const json = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: '{"model":"whisper-1"}' })
    expect(json.status).toBe(415)
  })
})
