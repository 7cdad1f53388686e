/**
 * `POST /v1/messages/count_tokens`: the input tokens a Messages request would use, which Claude
 * Code and `client.messages.countTokens()` ask before sending one. Same auth, permission, model
 * access (403 for a model the caller may not use, 404 for none) and routing (`when:` reads the
 * request's headers) as /v1/messages.
 *
 * It goes through the kernel's call step (`gateway.native`): the route's targets in its order, with
 * its timeouts, retries, breakers and fallback, errors mapped and redacted. A target that counts
 * this wire natively (provider.anthropic) gets the request as it came, only `model` set, with the
 * client's `anthropic-version`/`anthropic-beta`; a target that cannot is answered by the gateway's
 * own count of the translated prompt (the Tokenizer capability, else bytes / 4), said so in
 * `x-gateway-warning`. Text only: images and documents add nothing to that count.
 *
 * Accounting: a count shows in the gateway's metrics (requests by route and provider) and traces,
 * but it generates nothing and costs nothing, so it is not a usage event and is not limited.
 */
import type { MessageCountTokensParams, MessageTokensCount } from '@anthropic-ai/sdk/resources/messages'
import {
  badRequest, estimateTexts, promptTexts, reply,
  type JsonReply, type NativeResult, type RouteRequest, type RouteSpec, type RoutingTarget, type Tokenizer,
} from '../../../plugin-api/index.ts'
import { ANTHROPIC_COUNT_TOKENS } from '../../contracts/wires.ts'
import { fromAnthropicRequest } from './translate.ts'
import { anthropicVersion, wireHeaders } from './headers.ts'
import { checkMessagesRequest } from './validate.ts'

export interface CountTokensDeps {
  readonly tokenizer: Tokenizer | undefined
}

export function countTokensRoute(deps: CountTokensDeps): RouteSpec<MessageCountTokensParams> {
  return {
    method: 'POST',
    path: '/v1/messages/count_tokens',
    summary: 'Count the input tokens of a message (Anthropic Messages API).',
    permission: 'chat',
    body: { type: 'object' },
    response: { type: 'object', required: ['input_tokens'], properties: { input_tokens: { type: 'integer', minimum: 0 } } },
    handle: (req) => countTokens(req, deps),
  }
}

async function countTokens(req: RouteRequest<MessageCountTokensParams>, deps: CountTokensDeps): Promise<JsonReply> {
  const body = req.body
  const model = body.model
  if (typeof model !== 'string' || model.length === 0) throw badRequest('`model` is required: a route name from /v1/models.', 'model', 'missing_model')
  // Anthropic's rules for the turns hold for a count too, whichever target counts them.
  checkMessagesRequest(body, anthropicVersion(req.headers), true)
  let estimatedFor: string | undefined
  const call = await req.gateway.native(ANTHROPIC_COUNT_TOKENS, model, body as unknown as Record<string, unknown>, {
    headers: req.headers,
    wireHeaders: wireHeaders(req.headers),
    otherwise: (target: RoutingTarget) => {
      estimatedFor = target.provider
      return estimate(body, deps.tokenizer)
    },
  })
  const headers: Record<string, string> = { 'x-gateway-route': call.route }
  if (call.provider) headers['x-gateway-provider'] = call.provider
  if (estimatedFor) headers['x-gateway-warning'] = `input_tokens is the gateway's estimate: ${estimatedFor} has no token count for this wire`
  return reply(call.result.body, { headers })
}

/** The gateway's own count of the prompt, translated to the unified request. */
async function estimate(body: MessageCountTokensParams, tokenizer: Tokenizer | undefined): Promise<NativeResult> {
  // `max_tokens` only so the translation accepts it: a count request has none.
  const { request } = fromAnthropicRequest({ ...body, max_tokens: 1 })
  const answer: MessageTokensCount = { input_tokens: tokenizer ? await tokenizer.countChat(request) : estimateTexts(promptTexts(request)) }
  return { body: answer, usage: () => undefined, model: () => undefined }
}
