/**
 * Media in user messages (images, audio, files) as Gemini parts.
 *
 * A data URL becomes `inlineData`. An http(s) or gs:// URL becomes `fileData` with a `fileUri`:
 * the Gemini API fetches public and signed HTTPS URLs itself (the Files API and Cloud Storage
 * URIs work too), but it needs the MIME type, which is read from the URL's file extension. A URL
 * without a recognisable extension is reported as unsupported rather than sent with a guess.
 */
import type { Part, PartMediaResolutionLevel } from '@google/genai'
import type { ChatContentPart } from '../../../plugin-api/index.ts'
import { badRequest } from '../../../plugin-api/index.ts'
import type { ProviderCall } from '../../../plugin-api/index.ts'
import { sdkEnum } from './sdk-enum.ts'

const IMAGE_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic', heif: 'image/heif',
}
const FILE_TYPES: Readonly<Record<string, string>> = {
  ...IMAGE_TYPES, pdf: 'application/pdf', txt: 'text/plain', md: 'text/markdown', html: 'text/html', csv: 'text/csv', json: 'application/json',
  mp3: 'audio/mp3', wav: 'audio/wav', mp4: 'video/mp4',
}
const REMOTE_URL = /^(https?|gs):\/\//i
/** OpenAI's `detail` as Gemini's per-part media resolution; `auto` is Gemini's default too. */
const RESOLUTION_BY_DETAIL: Readonly<Record<string, string>> = { low: 'MEDIA_RESOLUTION_LOW', high: 'MEDIA_RESOLUTION_HIGH' }

type ImagePart = Extract<ChatContentPart, { type: 'image_url' }>
type AudioPart = Extract<ChatContentPart, { type: 'input_audio' }>
type FilePart = Extract<ChatContentPart, { type: 'file' }>

/** `data:<mime>;base64,<data>` split into its type and payload, or undefined for any other URL. */
export function parseDataUrl(url: string): { mimeType: string; data: string } | undefined {
  if (!url.startsWith('data:')) return undefined
  const comma = url.indexOf(',')
  const header = comma > 0 ? url.slice(5, comma) : ''
  if (!header.endsWith(';base64')) return undefined
  const mimeType = header.slice(0, header.indexOf(';'))
  return mimeType ? { mimeType, data: url.slice(comma + 1) } : undefined
}

function extensionOf(url: string): string {
  let path = url
  try { path = new URL(url).pathname } catch { /* not a URL: use it whole */ }
  const dot = path.lastIndexOf('.')
  return dot < 0 ? '' : path.slice(dot + 1).toLowerCase()
}

export function imagePart(part: ImagePart, param: string, call: ProviderCall): Part | undefined {
  const { url, detail } = part.image_url
  const resolution = detail ? RESOLUTION_BY_DETAIL[detail] : undefined
  const withDetail = (media: Part): Part => (resolution ? { ...media, mediaResolution: { level: sdkEnum<PartMediaResolutionLevel>(resolution) } } : media)
  const inline = parseDataUrl(url)
  if (inline) return withDetail({ inlineData: inline })
  if (!REMOTE_URL.test(url)) throw badRequest(`${param}.image_url.url must be a base64 data URL or an http(s) URL.`, `${param}.image_url.url`, 'invalid_image_url')
  const mimeType = IMAGE_TYPES[extensionOf(url)]
  if (!mimeType) {
    call.unsupported(`${param}.image_url.url`, 'Gemini needs the image type of a URL; send a data URL, or a URL ending in .png, .jpg, .jpeg, .webp, .gif, .heic or .heif')
    return undefined
  }
  return withDetail({ fileData: { fileUri: url, mimeType } })
}

export function audioPart(part: AudioPart): Part {
  return { inlineData: { mimeType: part.input_audio.format === 'mp3' ? 'audio/mp3' : 'audio/wav', data: part.input_audio.data } }
}

export function filePart(part: FilePart, param: string, call: ProviderCall): Part | undefined {
  const { file_data: data, file_id: fileId, filename } = part.file
  if (data) {
    const inline = parseDataUrl(data)
    if (inline) return { inlineData: inline }
    const mimeType = filename ? FILE_TYPES[extensionOf(filename)] : undefined
    if (mimeType) return { inlineData: { mimeType, data } }
    call.unsupported(`${param}.file.file_data`, 'Gemini needs the file type: send a data URL or a filename with a known extension')
    return undefined
  }
  call.unsupported(`${param}.file${fileId ? '.file_id' : ''}`, 'OpenAI file ids mean nothing to Gemini; send the file as file_data')
  return undefined
}
