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
  definePlugin,
  type ChatRequest, type ChatResponse, type EmbeddingRequest, type ModelEndpoint, type RouteSpec, type SseFrame, type StreamEncoder, type Surface,
} from '../../../plugin-api/index.ts'
import { OPENAI_MODERATIONS } from '../../contracts/wires.ts'
import { chatCompletionRequest, dropUnknownChatParameters, embeddingRequest } from '../../contracts/openai-requests.ts'
import { DeletedModels } from '../../contracts/fine-tuning.ts'
import { StoredCompletions } from '../../contracts/stored-completions.ts'
import { keep, keepingStream, keeps, routedToKeep } from './store.ts'
import { completions } from './completions.ts'
import { openAIErrorFrame, relayed } from './wire.ts'
import { imageEdits, imageGenerations, imageVariations } from './images.ts'
import { speech, transcriptions, translations } from './audio.ts'
import { ModelDiscovery, modelRoutes } from './models.ts'
import { surfaceErrorBody } from './anthropic-models.ts'

/** POST /v1/chat/completions; with `stored`, a completion asked for with `store: true` is kept (store.ts). */
function chatCompletions(stored: StoredCompletions | undefined): ModelEndpoint<ChatRequest> {
  return {
    method: 'POST',
    path: '/v1/chat/completions',
    summary: 'Create a chat completion (kept, with `store: true`, when the gateway keeps chat completions).',
    operation: 'chat',
    wire: 'openai-chat',
    decode: (body) => ({ request: chatCompletionRequest(body) }),
    // The request is the wire body (decode passes it on) unless a stage replaced it, and then the body is not sent.
    routed: (x) => {
      dropUnknownChatParameters(x.request as ChatRequest, x.route!, (text) => x.warn(text))
      if (keeps(stored, x.request)) routedToKeep(x)
    },
    encode: (result, req, x) => {
      if (keeps(stored, req.body)) keep(stored, req, x, result as ChatResponse)
      return result
    },
    streamEncoder: (req, x) => (keeps(stored, req.body) ? keepingStream(chunkFrames, stored, req, x) : chunkFrames),
  }
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
  decode: (body) => ({ request: embeddingRequest(body) }),
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

interface OpenAISurfaceConfig {
  list_glob_models: boolean
}

export default definePlugin<OpenAISurfaceConfig, Surface>({
  id: 'surface.openai',
  kind: 'surface',
  enabledByDefault: true,
  description: 'OpenAI-compatible chat completions, text completions, embeddings, moderations, image generation, edits and variations, speech to text and back, and models.',
  // Fine-tuned models deleted through the gateway are not listed (service.training offers them); `store: true` keeps a completion where service.stored-completions runs.
  uses: [DeletedModels, StoredCompletions],
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      list_glob_models: { type: 'boolean', default: true, description: 'GET /v1/models also lists the names a glob route (`claude-*`) answers, from its providers\' own model lists (kept 5 minutes). Off: only routes and aliases are listed.' },
    },
  },
  setup: (ctx, config) => {
    const discovery = config.list_glob_models === false ? undefined : new ModelDiscovery((name) => ctx.provider(name), ctx.logger)
    return { endpoints: [chatCompletions(ctx.tryGet(StoredCompletions)), completions, embeddings, moderations, imageGenerations, imageEdits, imageVariations, transcriptions, translations, speech, ...modelRoutes(discovery, ctx.tryGet(DeletedModels))], errorBody: surfaceErrorBody }
  },
})
