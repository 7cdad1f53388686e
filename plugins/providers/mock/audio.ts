/**
 * The mock's speech to text (OpenAI's /v1/audio/transcriptions and /translations) and back
 * (/v1/audio/speech), offline and deterministic: the "transcript" names the file and its size. GPT transcription models report
 * token usage (input from the audio's size, output from the text), whisper-1 seconds of audio;
 * the answer is JSON, verbose JSON or plain text (text, srt, vtt) as `response_format` asks.
 */
import { estimateTextTokens, type NativeResult } from '../../../plugin-api/index.ts'
import type { MultipartBody } from '../../contracts/wires.ts'
import { speechUsage } from '../kit/passthrough.ts'

/** Audio tokens the mock says a kilobyte of upload holds. */
const TOKENS_PER_KB = 10

export function mockTranscript(body: MultipartBody, translate: boolean): NativeResult {
  const model = typeof body.model === 'string' ? body.model : 'whisper-1'
  const file = body.files.find((f) => f.field === 'file')
  const bytes = file?.data.length ?? 0
  const text = `${translate ? 'Translated' : 'Transcribed'} ${file?.filename ?? 'audio'} (${bytes} bytes).`
  const format = typeof body.response_format === 'string' ? body.response_format : 'json'
  const whisper = model.startsWith('whisper')
  const input = Math.max(1, Math.ceil((bytes / 1024) * TOKENS_PER_KB))
  const output = estimateTextTokens(text)
  const usage = whisper ? { type: 'duration', seconds: 1 } : { type: 'tokens', input_tokens: input, output_tokens: output, total_tokens: input + output, input_token_details: { text_tokens: 0, audio_tokens: input } }
  const counted = () => (whisper ? undefined : { prompt_tokens: input, completion_tokens: output, total_tokens: input + output })
  if (format === 'text' || format === 'srt' || format === 'vtt') {
    const subtitles = format === 'srt' ? `1\n00:00:00,000 --> 00:00:01,000\n${text}\n` : format === 'vtt' ? `WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n${text}\n` : `${text}\n`
    return { bytes: Buffer.from(subtitles), contentType: 'text/plain; charset=utf-8', usage: counted, model: () => model }
  }
  const answer = format === 'verbose_json'
    ? { task: translate ? 'translate' : 'transcribe', language: 'english', duration: 1, text, segments: [], usage }
    : { text, usage }
  return { body: answer, usage: counted, model: () => model }
}

/** Each format's media type, as OpenAI answers it. */
const AUDIO_TYPES: Readonly<Record<string, string>> = { mp3: 'audio/mpeg', opus: 'audio/ogg', aac: 'audio/aac', flac: 'audio/flac', wav: 'audio/wav', pcm: 'audio/pcm' }

/** The mock's text to speech: a tenth of a second of silence per word (a real WAV for `wav`, zeros after a format's marker otherwise), metered as the input text's estimate. */
export function mockSpeech(body: Record<string, unknown>): NativeResult {
  const model = typeof body.model === 'string' ? body.model : 'tts-1'
  const format = typeof body.response_format === 'string' && body.response_format in AUDIO_TYPES ? body.response_format : 'mp3'
  const words = String(body.input ?? '').split(/\s+/).filter(Boolean).length
  const samples = Math.max(1, words) * 2400 // 24 kHz, 16-bit mono
  const audio = format === 'wav' ? wav(samples) : Buffer.concat([Buffer.from(format === 'mp3' ? 'ID3' : format.toUpperCase()), Buffer.alloc(samples)])
  return { bytes: audio, contentType: AUDIO_TYPES[format], usage: () => speechUsage(body), model: () => model }
}

function wav(samples: number): Buffer {
  const data = samples * 2
  const header = Buffer.alloc(44)
  header.write('RIFF', 0)
  header.writeUInt32LE(36 + data, 4)
  header.write('WAVEfmt ', 8)
  header.writeUInt32LE(16, 16)
  header.writeUInt16LE(1, 20) // PCM
  header.writeUInt16LE(1, 22) // mono
  header.writeUInt32LE(24_000, 24)
  header.writeUInt32LE(48_000, 28)
  header.writeUInt16LE(2, 32)
  header.writeUInt16LE(16, 34)
  header.write('data', 36)
  header.writeUInt32LE(data, 40)
  return Buffer.concat([header, Buffer.alloc(data)])
}
