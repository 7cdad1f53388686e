/**
 * A mock Gemini Developer API: the REST paths, JSON bodies, SSE framing and error shapes of
 * generativelanguage.googleapis.com (v1beta), as the @google/genai SDK sends and reads them.
 */
import type http from 'node:http'
import { sendJson, startRoutedUpstream, type RoutedUpstream, type UpstreamHandler } from '../../helpers/upstream.ts'

export const MODEL = 'gemini-2.5-flash'
export const EMBEDDING_MODEL = 'gemini-embedding-001'
export const API_KEY = 'test-gemini-key'

export const generatePath = (model = MODEL): string => `/v1beta/models/${model}:generateContent`
export const streamPath = (model = MODEL): string => `/v1beta/models/${model}:streamGenerateContent`
export const embedPath = (model = EMBEDDING_MODEL): string => `/v1beta/models/${model}:batchEmbedContents`

export interface GeminiPart {
  text?: string
  thought?: boolean
  thoughtSignature?: string
  functionCall?: { id?: string; name: string; args?: Record<string, unknown> }
}

export interface GeminiCandidate {
  content?: { role: 'model'; parts: GeminiPart[] }
  finishReason?: string
  index?: number
}

export interface GeminiUsage {
  promptTokenCount?: number
  candidatesTokenCount?: number
  totalTokenCount?: number
  cachedContentTokenCount?: number
  thoughtsTokenCount?: number
}

/** A GenerateContentResponse as the API writes it (camelCase, enums as names). */
export function generateResponse(
  parts: GeminiPart[],
  options: { finishReason?: string; usage?: GeminiUsage; modelVersion?: string; candidates?: GeminiCandidate[] } = {},
): Record<string, unknown> {
  return {
    candidates: options.candidates ?? [{ content: { role: 'model', parts }, finishReason: options.finishReason ?? 'STOP', index: 0 }],
    usageMetadata: options.usage ?? { promptTokenCount: 7, candidatesTokenCount: 3, totalTokenCount: 10 },
    modelVersion: options.modelVersion ?? MODEL,
    responseId: 'mock-response-id',
  }
}

/** Google's error body: `{ error: { code, message, status, details? } }`. */
export function googleError(code: number, status: string, message: string, details?: unknown[]): Record<string, unknown> {
  return { error: { code, message, status, ...(details ? { details } : {}) } }
}

/** Write streamGenerateContent's SSE: `data: <json>` events separated by CRLF CRLF, as the API frames them. */
export async function sendGeminiStream(res: http.ServerResponse, events: unknown[], options: { delayMs?: number; pauseAfterFirstMs?: number } = {}): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  for (const [i, event] of events.entries()) {
    res.write(`data: ${JSON.stringify(event)}\r\n\r\n`)
    const pause = i === 0 && options.pauseAfterFirstMs ? options.pauseAfterFirstMs : options.delayMs
    if (pause) await new Promise((resolve) => setTimeout(resolve, pause))
  }
  res.end()
}

/** A mock Gemini upstream; `routes` answers by path, anything else is Google's 404. */
export function startGeminiUpstream(routes: Record<string, UpstreamHandler> = {}): Promise<RoutedUpstream> {
  return startRoutedUpstream(routes, (req, res) => sendJson(res, 404, googleError(404, 'NOT_FOUND', `models/${req.path} is not found for API version v1beta.`)))
}

export function gatewayConfig(baseUrl: string, options: { timeoutMs?: number } = {}): string {
  return `
version: 1
providers:
  gemini: { plugin: gemini, api_key: ${API_KEY}, base_url: '${baseUrl}', timeout_ms: ${options.timeoutMs ?? 5000} }
routes:
  - model: chat
    targets: [ { provider: gemini, model: ${MODEL} } ]
  - model: chat-strict
    strict: true
    targets: [ { provider: gemini, model: ${MODEL} } ]
  - model: embed
    targets: [ { provider: gemini, model: ${EMBEDDING_MODEL} } ]
`
}
