/** Small pieces of OpenAI's wire format that every OpenAI-shaped endpoint shares. */
import { badRequest, type GatewayError, type SseFrame } from '../../../plugin-api/index.ts'

/** The parsed body as the endpoint's request type, once it is known to be a JSON object. */
export function requireObject<T>(body: unknown): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.', null, 'invalid_body')
  return body as T
}

/** An error after a stream started: OpenAI's error body as one `data:` frame, which the SDKs raise. */
export function openAIErrorFrame(error: GatewayError): SseFrame {
  return { data: JSON.stringify({ error: { message: error.message, type: error.type, code: error.code, param: error.param } }) }
}
