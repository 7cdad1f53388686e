/**
 * `POST /v1/messages/count_tokens`: the input tokens a Messages request would use, which Claude
 * Code and `client.messages.countTokens()` ask before sending one. Same auth, permission and model
 * routing as /v1/messages, but no model is called, so it is neither limited nor accounted.
 *
 * The route's first target answers: a provider that counts this wire natively
 * (`native['anthropic-count-tokens']`, provider.anthropic) gets the request as it came, only
 * `model` set, with the client's `anthropic-version`/`anthropic-beta`; any other is answered from the
 * gateway's own count of the translated prompt (the Tokenizer capability, else bytes / 4), said so
 * in `x-gateway-warning`. Text only: images and documents add nothing to that count.
 */
import type { MessageCountTokensParams, MessageTokensCount } from '@anthropic-ai/sdk/resources/messages'
import {
  badRequest, estimateTexts, notFound, promptTexts, reply,
  type JsonReply, type Provider, type ProviderCall, type RouteRequest, type RouteSpec, type Tokenizer,
} from '../../../core/plugins/api.ts'
import { fromAnthropicRequest } from './translate.ts'
import { wireHeaders } from './headers.ts'

/** The wire name providers that count tokens natively list in `Provider.native`. */
export const ANTHROPIC_COUNT_TOKENS = 'anthropic-count-tokens'

export interface CountTokensDeps {
  /** A provider of the current config by name (PluginContext.provider). */
  provider(name: string): Provider | undefined
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
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw badRequest('`messages` must be a non-empty array.', 'messages', 'invalid_messages')
  const route = req.gateway.routes(model)
  if (!route) throw notFound(`The model '${model}' does not exist or you do not have access to it.`, 'model_not_found', 'model')
  const [target] = route.targets
  const headers: Record<string, string> = { 'x-gateway-route': route.name }
  if (!target) throw notFound(`The model '${model}' has no target.`, 'model_not_found', 'model')
  headers['x-gateway-provider'] = target.provider
  const count = deps.provider(target.provider)?.native?.[ANTHROPIC_COUNT_TOKENS]
  if (count) {
    const call: ProviderCall = {
      signal: req.signal,
      requestId: req.requestId,
      wireHeaders: wireHeaders(req.headers),
      // The request goes as it came: nothing is dropped, so nothing is reported.
      unsupported() {},
    }
    const result = await count({ ...body, model: target.model ?? model }, call)
    return reply(result.body, { headers })
  }
  // `max_tokens` only so the translation accepts it: a count request has none.
  const { request } = fromAnthropicRequest({ ...body, max_tokens: 1 })
  const tokens = deps.tokenizer ? await deps.tokenizer.countChat(request) : estimateTexts(promptTexts(request))
  headers['x-gateway-warning'] = `input_tokens is the gateway's estimate: ${target.provider} has no token count for this wire`
  const answer: MessageTokensCount = { input_tokens: tokens }
  return reply(answer, { headers })
}
