/** Small pieces of OpenAI's wire format that every OpenAI-shaped endpoint shares. */
import { raw, reply, type Call, type GatewayError, type JsonReply, type NativeResult, type RawReply, type RouteRequest, type SseFrame, type TokenEstimate } from '../../../plugin-api/index.ts'
import type { MultipartBody } from '../../contracts/wires.ts'

/** An error after a stream started: OpenAI's error body as one `data:` frame, which the SDKs raise. */
export function openAIErrorFrame(error: GatewayError): SseFrame {
  return { data: JSON.stringify({ error: { message: error.message, type: error.type, code: error.code, param: error.param } }) }
}

/** A native call's answer to the client as the provider gave it (its bytes with their type, or the mock's body), saying which route and provider answered. */
export function relayed(call: Call<NativeResult>): RawReply | JsonReply {
  const headers: Record<string, string> = { 'x-gateway-route': call.route }
  if (call.provider) headers['x-gateway-provider'] = call.provider
  const result = call.result
  return result.bytes ? raw(Buffer.from(result.bytes.buffer, result.bytes.byteOffset, result.bytes.byteLength), result.contentType ?? 'application/json', { headers }) : reply(result.body, { headers })
}

/** A multipart request (an upload) sent on as a metered native call on `wire`: its fields with `model`, and its files; `estimate` what limits and budgets hold for it before the call. */
export function meteredUpload(req: RouteRequest<Record<string, string>>, wire: string, model: string, estimate?: TokenEstimate): Promise<Call<NativeResult>> {
  const body: MultipartBody = { ...req.body, model, files: req.files }
  return req.gateway.native(wire, model, body, { headers: req.headers, metered: true, estimate })
}
