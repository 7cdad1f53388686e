/**
 * surface.openai: OpenAI's API as clients' SDKs speak it. The unified API *is* this wire format,
 * so decoding checks the body's shape and encoding passes the answer through; a stream is one
 * `data:` frame per chunk, then `data: [DONE]`.
 *
 *   POST /v1/chat/completions   POST /v1/completions   POST /v1/embeddings   POST /v1/moderations
 *   POST /v1/images/generations   POST /v1/images/edits   POST /v1/images/variations
 *   POST /v1/audio/transcriptions   POST /v1/audio/translations   POST /v1/audio/speech
 *   GET /v1/models   GET /v1/models/{id}
 */
import {
  badRequest, definePlugin, notFound,
  type ChatRequest, type EmbeddingRequest, type ModelEndpoint, type RouteSpec, type SseFrame, type StreamEncoder, type Surface,
} from '../../../plugin-api/index.ts'
import { OPENAI_MODERATIONS } from '../../contracts/wires.ts'
import { checkChatRequest } from './chat-request.ts'
import { completions } from './completions.ts'
import { dropUnknownParameters } from './chat-params.ts'
import { openAIErrorFrame, relayed, requireObject } from './wire.ts'
import { imageEdits, imageGenerations, imageVariations } from './images.ts'
import { speech, transcriptions, translations } from './audio.ts'
import { anthropicModel, anthropicModelList, wantsAnthropicShape } from './anthropic-models.ts'

const chatCompletions: ModelEndpoint<ChatRequest> = {
  method: 'POST',
  path: '/v1/chat/completions',
  summary: 'Create a chat completion.',
  operation: 'chat',
  wire: 'openai-chat',
  decode(body) {
    const request = requireObject<ChatRequest>(body)
    checkChatRequest(request)
    if (!Array.isArray(request.messages) || request.messages.length === 0) throw badRequest('`messages` must be a non-empty array.', 'messages', 'invalid_messages')
    return { request }
  },
  routed: dropUnknownParameters,
  encode: (result) => result,
  streamEncoder: () => chunkFrames,
}

/** OpenAI's stream framing: one `data:` per chunk, then `data: [DONE]` when it ended normally. */
const chunkFrames: StreamEncoder = {
  chunk: (chunk): SseFrame[] => [{ data: JSON.stringify(chunk) }],
  end: (complete) => (complete ? [{ data: '[DONE]' }] : []),
  error: openAIErrorFrame,
}

const embeddings: ModelEndpoint<EmbeddingRequest> = {
  method: 'POST',
  path: '/v1/embeddings',
  summary: 'Create embeddings.',
  operation: 'embeddings',
  wire: 'openai-embeddings',
  decode(body) {
    const request = requireObject<EmbeddingRequest>(body)
    if (request.input === undefined || request.input === null) throw badRequest('`input` is required.', 'input', 'missing_input')
    return { request }
  },
  encode: (result) => result,
}

/** OpenAI's default moderation model, as its API takes a request that names none. */
const DEFAULT_MODERATION_MODEL = 'omni-moderation-latest'

const moderations: RouteSpec<Record<string, unknown>> = {
  method: 'POST',
  path: '/v1/moderations',
  summary: 'Classify text (and images) for harmful content, through a route whose provider has a moderation endpoint (OpenAI; the mock offline).',
  permission: 'chat',
  body: { type: 'object', required: ['input'], properties: { input: { anyOf: [{ type: 'string' }, { type: 'array', minItems: 1 }] }, model: { type: 'string', minLength: 1 } } },
  async handle(req) {
    const model = (req.body.model as string | undefined) ?? DEFAULT_MODERATION_MODEL
    return relayed(await req.gateway.native(OPENAI_MODERATIONS, model, { ...req.body, model }, { headers: req.headers }))
  },
}

const MODEL_CREATED = Math.floor(Date.now() / 1000)
const modelEntry = (id: string) => ({ id, object: 'model' as const, created: MODEL_CREATED, owned_by: 'gateway' })

const listModels: RouteSpec = {
  method: 'GET',
  path: '/v1/models',
  summary: 'The models (routes) the caller may use (in Anthropic\'s shape when the request has anthropic-version).',
  permission: 'chat',
  handle(req) {
    const models = req.gateway.models()
    return wantsAnthropicShape(req.headers) ? anthropicModelList(models) : { object: 'list', data: models.map(modelEntry) }
  },
}

const getModel: RouteSpec<unknown, unknown, { id: string }> = {
  method: 'GET',
  path: '/v1/models/:id',
  summary: 'One model the caller may use: a route\'s name or alias, or a name a glob route answers.',
  permission: 'chat',
  handle(req) {
    const id = req.params.id
    // Any name a chat request could use is a model: a glob route (`claude-*`) is not listed, but
    // the names it answers are retrieved, as clients check a model before they use it.
    if (!req.gateway.models().includes(id) && !req.gateway.routes(id)) throw notFound(`The model '${id}' does not exist or you do not have access to it.`, 'model_not_found', 'model')
    return wantsAnthropicShape(req.headers) ? anthropicModel(id) : modelEntry(id)
  },
}

export default definePlugin<Record<string, never>, Surface>({
  id: 'surface.openai',
  kind: 'surface',
  enabledByDefault: true,
  description: 'OpenAI-compatible chat completions, text completions, embeddings, moderations, image generation, edits and variations, speech to text and back, and models.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  setup: () => ({ endpoints: [chatCompletions, completions, embeddings, moderations, imageGenerations, imageEdits, imageVariations, transcriptions, translations, speech, listModels, getModel] }),
})
