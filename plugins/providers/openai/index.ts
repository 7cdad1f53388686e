/**
 * provider.openai: OpenAI's API. The unified API is OpenAI's wire format, so requests and responses
 * pass through; plugins/providers/kit/openai-wire.ts does the rest (streams, usage, errors). Chat and
 * embeddings go through the kit's pooled client, model lists through the official `openai` SDK.
 * One of each per instance, reused across requests and config reloads.
 */
import { definePlugin, type Provider } from '../../../core/plugins/api.ts'
import { CONNECTION_PROPERTIES, createOpenAIWireProvider, openAIWireSetup, type ConnectionConfig } from '../kit/openai-wire.ts'
import { openAIFineTuner } from './fine-tune.ts'

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
  description: 'OpenAI (chat, streaming, tools, vision, JSON modes, embeddings, fine-tuning) through the official openai SDK.',
  configSchema,
  async setup(ctx, config) {
    // Imported here so a gateway that configures no OpenAI provider never loads the SDK.
    const { default: OpenAI } = await import('openai')
    const wire = openAIWireSetup(ctx, config, {
      baseURL: OPENAI_BASE_URL,
      headers: { ...(config.organization ? { 'OpenAI-Organization': config.organization } : {}), ...(config.project ? { 'OpenAI-Project': config.project } : {}) },
    })
    const client = new OpenAI({
      ...wire.sdk,
      // Explicit, so the SDK does not pick OPENAI_ORG_ID / OPENAI_PROJECT_ID up from the environment.
      organization: config.organization ?? null,
      project: config.project ?? null,
    })
    const provider = createOpenAIWireProvider(
      // OpenAI answers in its own schema: requests on its surfaces are relayed as they are (passthrough.ts).
      { ...wire.calls, passthrough: wire.passthrough, models: async (options) => (await client.models.list(options)).data },
      { provider: ctx.name, errors: OpenAI, secrets: [config.api_key], modelOwner: 'openai', dispose: wire.close },
    )
    return { ...provider, fineTune: openAIFineTuner(client) }
  },
})
