/**
 * provider.openai: OpenAI's API. The unified API is OpenAI's wire format, so requests and responses
 * pass through; plugins/providers/kit/openai-wire.ts does the rest (streams, usage, errors). Chat and
 * embeddings go through the kit's pooled client, model lists through the official `openai` SDK.
 * One of each per instance, reused across requests and config reloads.
 */
import { Pricing, definePlugin, type Provider } from '../../../plugin-api/index.ts'
import type OpenAI from 'openai'
import { CONNECTION_PROPERTIES, createOpenAIWireProvider, openAIWireSetup, OPENAI_PATHS, type ConnectionConfig, type OpenAIWireSetup, type SdkErrorClasses } from '../kit/openai-wire.ts'
import { OPENAI_CHAT_WIRE } from '../kit/passthrough.ts'
import { loadOnce } from '../kit/provider-kit.ts'
import { outputCapOf, withinOutputCap, type OutputCap } from '../kit/output-cap.ts'
import { openAIFineTuner } from './fine-tune.ts'
import { withMaxCompletionTokens } from './max-tokens.ts'
import { FineTuning } from '../../contracts/fine-tuning.ts'

export interface OpenAIConfig extends ConnectionConfig {
  api_key: string
  organization?: string
  project?: string
}

export const OPENAI_BASE_URL = 'https://api.openai.com/v1'

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['api_key'],
  properties: {
    ...CONNECTION_PROPERTIES,
    base_url: { ...CONNECTION_PROPERTIES.base_url, default: OPENAI_BASE_URL },
    organization: { type: 'string', minLength: 1, description: 'Sent as OpenAI-Organization.' },
    project: { type: 'string', minLength: 1, description: 'Sent as OpenAI-Project.' },
  },
}

export default definePlugin<OpenAIConfig, Provider>({
  id: 'provider.openai',
  kind: 'provider',
  description: 'OpenAI (chat, streaming, tools, vision, JSON modes, embeddings, moderations, image generation, edits and variations, speech to text and back, fine-tuning) through the official openai SDK.',
  configSchema,
  uses: [Pricing],
  async setup(ctx, config) {
    const wire = openAIWireSetup(ctx, config, {
      baseURL: OPENAI_BASE_URL,
      headers: { ...(config.organization ? { 'OpenAI-Organization': config.organization } : {}), ...(config.project ? { 'OpenAI-Project': config.project } : {}) },
      paths: { ...OPENAI_PATHS, moderations: '/moderations', images: '/images/generations', imageEdits: '/images/edits', imageVariations: '/images/variations', transcriptions: '/audio/transcriptions', translations: '/audio/translations', speech: '/audio/speech' },
    })
    // The SDK serves model lists and fine-tuning, off the hot path: imported on their first call,
    // so a gateway that only relays chat and embeddings never loads it.
    let errors: SdkErrorClasses | undefined
    const loadSdk = loadOnce(() => import('openai').then(({ default: OpenAI, toFile }) => {
      errors = OpenAI
      // Explicit organization and project, so the SDK does not pick OPENAI_ORG_ID / OPENAI_PROJECT_ID up from the environment.
      return { client: new OpenAI({ ...wire.sdk, organization: config.organization ?? null, project: config.project ?? null }), toFile }
    }))
    const outputCap = outputCapOf(ctx)
    const provider = createOpenAIWireProvider(
      // OpenAI answers in its own schema: requests on its surfaces are relayed as they are (passthrough.ts),
      // an answer bound above the model's cap lowered (output-cap.ts), `max_tokens` renamed (max-tokens.ts).
      { ...wire.calls, passthrough: boundingChat(wire.passthrough, outputCap), models: async (options) => (await (await loadSdk()).client.models.list(options)).data },
      { provider: ctx.name, errors: () => errors, secrets: [config.api_key], modelOwner: 'openai', dispose: wire.close, outputCap, prepare: withMaxCompletionTokens, readsPdf: true },
    )
    return { ...provider, capabilities: { [FineTuning.key]: openAIFineTuner(loadSdk) } }
  },
})

/** The passthrough with chat requests' answer bound kept within the model's cap (output-cap.ts) and `max_tokens` renamed (max-tokens.ts) on the way; embeddings as they are. */
function boundingChat(passthrough: OpenAIWireSetup['passthrough'], outputCap: OutputCap | undefined): OpenAIWireSetup['passthrough'] {
  return (mapError) => {
    const natives = passthrough(mapError)
    const chat = natives[OPENAI_CHAT_WIRE]
    return { ...natives, [OPENAI_CHAT_WIRE]: (body, call) => chat(withMaxCompletionTokens(withinOutputCap(body, outputCap, call)), call) }
  }
}
