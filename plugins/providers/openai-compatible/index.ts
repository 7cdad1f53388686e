/**
 * provider.openai-compatible: any server that speaks OpenAI's wire format (vLLM, Ollama, LM Studio,
 * llama.cpp, an internal proxy), through the official openai SDK. With `api_version` it speaks
 * Azure OpenAI's dated API instead: the SDK's AzureOpenAI client puts the deployment in the path
 * (`/openai/deployments/{deployment}/...`), sends `api-version` as a query parameter and the key
 * as an `api-key` header. The deployment is the route target's model unless `deployment` pins one.
 */
import { definePlugin, type Provider } from '../../../core/plugins/api.ts'
import { CONNECTION_PROPERTIES, createOpenAIWireProvider, sdkClientOptions, type ConnectionConfig, type OpenAIWireTransport } from '../kit/openai-wire.ts'

export interface OpenAICompatibleConfig extends ConnectionConfig {
  base_url: string
  api_version?: string
  deployment?: string
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['base_url'],
  properties: {
    ...CONNECTION_PROPERTIES,
    api_key: { ...CONNECTION_PROPERTIES.api_key, description: 'The server\'s API key; leave out for servers that take none (no Authorization header is sent).' },
    base_url: {
      ...CONNECTION_PROPERTIES.base_url,
      description: 'The server\'s OpenAI base URL, e.g. http://127.0.0.1:11434/v1 (Ollama), http://vllm:8000/v1. In Azure mode the resource endpoint, e.g. https://my-resource.openai.azure.com.',
    },
    api_version: { type: 'string', minLength: 1, description: 'Azure mode: the dated API version, e.g. 2024-10-21 (sent as the api-version query parameter).' },
    deployment: { type: 'string', minLength: 1, description: 'Azure mode: send every call to this deployment instead of the route target\'s model.' },
  },
  dependentRequired: { api_version: ['api_key'], deployment: ['api_version'] },
}

export default definePlugin<OpenAICompatibleConfig, Provider>({
  id: 'provider.openai-compatible',
  kind: 'provider',
  description: 'Any OpenAI-compatible server (vLLM, Ollama, LM Studio) or Azure OpenAI, through the official openai SDK.',
  configSchema,
  async setup(ctx, config) {
    const { default: OpenAI, AzureOpenAI } = await import('openai')
    const sdk = sdkClientOptions(
      config,
      // Without a key, the SDK's placeholder Authorization header is removed (null) rather than sent.
      { baseURL: config.base_url, headers: config.api_key ? {} : { Authorization: null } },
      ctx.logger,
    )
    const { baseURL, ...common } = sdk.options
    const client = config.api_version
      ? new AzureOpenAI({ ...common, endpoint: baseURL, apiVersion: config.api_version, deployment: config.deployment })
      : new OpenAI({ ...common, baseURL, organization: null, project: null })
    const transport: OpenAIWireTransport = {
      chat: (body, options) => client.chat.completions.create(body, options),
      embed: (body, options) => client.embeddings.create(body, options),
      models: async (options) => (await client.models.list(options)).data,
    }
    return createOpenAIWireProvider(transport, {
      provider: ctx.name,
      errors: OpenAI,
      secrets: config.api_key ? [config.api_key] : [],
      modelOwner: config.api_version ? 'azure' : ctx.name,
      dispose: sdk.close,
    })
  },
})
