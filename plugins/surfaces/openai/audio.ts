/**
 * POST /v1/audio/transcriptions and /v1/audio/translations: OpenAI's speech to text, routed by their
 * model and sent as the client uploaded them (multipart: the audio `file`, `model`, ...) to a
 * provider that has the endpoint (OpenAI; the mock offline); the transcript comes back as the
 * provider wrote it (JSON, text or subtitles). Metered: a usage event with the tokens a GPT
 * transcription model reports (whisper-1 reports seconds: no tokens), under limits and budgets.
 * POST /v1/audio/speech: text to speech, the audio relayed as the provider sent it; its answer
 * reports no usage, so it is metered by the input text's estimate.
 */
import { badRequest, type RouteSpec } from '../../../plugin-api/index.ts'
import { OPENAI_SPEECH, OPENAI_TRANSCRIPTIONS, OPENAI_TRANSLATIONS } from '../../contracts/wires.ts'
import { meteredUpload, relayed } from './wire.ts'

function speechToText(path: string, wire: string, summary: string): RouteSpec<Record<string, string>> {
  return {
    method: 'POST',
    path,
    summary,
    permission: 'chat',
    body: 'multipart',
    async handle(req) {
      if (!req.files.some((f) => f.field === 'file')) throw badRequest('Send the audio as the multipart file `file`.', 'file', 'missing_required_parameter')
      if (!req.body.model) throw badRequest('`model` is required (e.g. whisper-1 or gpt-4o-transcribe).', 'model', 'missing_required_parameter')
      if (req.body.stream === 'true') throw badRequest('Streamed transcripts are not served yet: send the request without `stream`.', 'stream', 'stream_unsupported')
      return relayed(await meteredUpload(req, wire, req.body.model))
    },
  }
}

export const transcriptions = speechToText('/v1/audio/transcriptions', OPENAI_TRANSCRIPTIONS, 'Transcribe audio (multipart: `file`, `model`), through a route whose provider transcribes; metered as usage, under limits and budgets.')
export const translations = speechToText('/v1/audio/translations', OPENAI_TRANSLATIONS, 'Translate audio into English text (multipart: `file`, `model`), through a route whose provider translates; metered as usage, under limits and budgets.')

export const speech: RouteSpec<Record<string, unknown>> = {
  method: 'POST',
  path: '/v1/audio/speech',
  summary: 'Turn text into audio (mp3, opus, aac, flac, wav, pcm), through a route whose provider speaks; metered as usage (the input text\'s estimate), under limits and budgets.',
  permission: 'chat',
  body: {
    type: 'object',
    required: ['model', 'input', 'voice'],
    properties: { model: { type: 'string', minLength: 1 }, input: { type: 'string', minLength: 1, maxLength: 4096 }, voice: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'object' }] } },
  },
  async handle(req) {
    if (req.body.stream_format === 'sse') throw badRequest('Streamed speech (`stream_format: sse`) is not served yet: ask for the audio itself.', 'stream_format', 'stream_unsupported')
    const model = req.body.model as string
    return relayed(await req.gateway.native(OPENAI_SPEECH, model, req.body, { headers: req.headers, metered: true }))
  },
}
