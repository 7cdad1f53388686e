/**
 * surface.anthropic: `POST /v1/messages` (and `/v1/messages/count_tokens`, count-tokens.ts), Anthropic's Messages API, so Claude-native clients (the
 * Anthropic SDK, Claude Code) can use any route. A route whose target speaks this wire natively
 * (provider.anthropic) gets the request as it came, every field kept (`cache_control`, `thinking`,
 * server tools); any other target gets it translated to the unified API and back, and what cannot
 * be carried is refused (400) or dropped with an `x-gateway-warning`. Errors are Anthropic's shape.
 */
import { Tokenizer, definePlugin, notFound, type ChatResponse, type HttpMethod, type ModelEndpoint, type RouteSpec, type Surface } from '../../../plugin-api/index.ts'
import { AnthropicEventEncoder, clientView, fromAnthropicRequest, toAnthropicMessage, type AnthropicMessagesRequest } from './translate.ts'
import { countTokensRoute } from './count-tokens.ts'
import { anthropicVersion, wireHeaders } from './headers.ts'
import { checkMessagesRequest } from './validate.ts'
import { ANTHROPIC_MESSAGES } from '../../contracts/wires.ts'
import { anthropicErrorBody } from '../../contracts/anthropic.ts'
import { MessagesCodec } from '../../contracts/message-batches.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'


const messages: ModelEndpoint<AnthropicMessagesRequest> = {
  method: 'POST',
  path: '/v1/messages',
  summary: 'Create a message (Anthropic Messages API).',
  operation: 'chat',
  wire: ANTHROPIC_MESSAGES,
  // Checked before routing, so no route's provider is called with what Anthropic would refuse.
  decode(body, req) {
    checkMessagesRequest(body, anthropicVersion(req.headers))
    return { ...fromAnthropicRequest(body), wireHeaders: wireHeaders(req.headers) }
  },
  encode: (result, req) => toAnthropicMessage(result as ChatResponse, clientView(req.body)),
  streamEncoder: (req, x) => new AnthropicEventEncoder(req.requestId, x, clientView(req.body)),
}

/** How a message batch's line is run as this endpoint runs a request (service.batches' worker asks for it, contracts/message-batches.ts). */
const codec: MessagesCodec = {
  check: (body, version) => checkMessagesRequest(body, version),
  decode: (body) => fromAnthropicRequest(body as unknown as AnthropicMessagesRequest),
  encode: (result, body) => toAnthropicMessage(result, clientView(body as unknown as AnthropicMessagesRequest)) as unknown as JsonObject,
}

/**
 * The rest of Anthropic's API under /v1/messages is not served: answered here rather than by the
 * kernel's 404, so the answer carries `request-id` like every other of this wire. Message batches
 * (`/v1/messages/batches...`) are surface.message-batches' (service.batches). A pattern path, so it
 * stays out of the OpenAPI document.
 */
const notServed = (method: HttpMethod): RouteSpec<unknown, unknown, { rest: string }> => ({
  method,
  path: '/v1/messages/:rest((?!batches(?:/|$)).*)',
  summary: 'Paths of Anthropic\'s API under /v1/messages that the gateway does not serve: 404 not_found_error.',
  permission: null,
  public: true,
  handle: (req) => {
    throw notFound(`No route for ${method} /v1/messages/${req.params.rest}.`, 'unknown_url')
  },
})

export default definePlugin<Record<string, never>, Surface>({
  id: 'surface.anthropic',
  kind: 'surface',
  enabledByDefault: true,
  description: 'Anthropic-compatible /v1/messages (translated for any route; passed through to Anthropic targets).',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  // The tokenizer counts /v1/messages/count_tokens for targets that cannot count natively.
  uses: [Tokenizer],
  provides: [MessagesCodec],
  setup: (ctx) => {
    ctx.provide(MessagesCodec, codec)
    return {
      endpoints: [messages, countTokensRoute({ tokenizer: ctx.tryGet(Tokenizer) }), ...(['GET', 'POST', 'DELETE'] as const).map(notServed)],
      errorBody: anthropicErrorBody,
      // The SDK's `requestID` (and `_request_id`) come from this header; support asks for it.
      requestIdHeader: 'request-id',
    }
  },
})
