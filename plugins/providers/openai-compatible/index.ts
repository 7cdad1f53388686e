/**
 * provider.openai-compatible: any server that speaks OpenAI's wire format (vLLM, Ollama, LM Studio,
 * llama.cpp, an internal proxy), through the official openai SDK. With `api_version` it speaks
 * Azure OpenAI's dated API instead: the SDK's AzureOpenAI client puts the deployment in the path
 * (`/openai/deployments/{deployment}/...`), sends `api-version` as a query parameter and the key
 * as an `api-key` header. The deployment is the route target's model unless `deployment` pins one.
 */
import type { AzureOpenAI } from 'openai'
import { definePlugin, pathSegment, type ChatResponse, type ChatStream, type EmbeddingResponse, type Provider } from '../../../plugin-api/index.ts'
import { CONNECTION_PROPERTIES, createOpenAIWireProvider, openAIWireSetup, type ConnectionConfig, type OpenAIWireTransport } from '../kit/openai-wire.ts'

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
    const wire = openAIWireSetup(
      ctx,
      config,
      // Without a key, the SDK's placeholder Authorization header is removed (null) rather than sent.
      { baseURL: config.base_url, headers: config.api_key ? {} : { Authorization: null } },
    )
    const { baseURL, ...common } = wire.sdk
    let transport: OpenAIWireTransport
    if (config.api_version) {
      transport = azureTransport(new AzureOpenAI({ ...common, endpoint: baseURL, apiVersion: config.api_version }), config.deployment)
    } else {
      const client = new OpenAI({ ...common, baseURL, organization: null, project: null })
      // Chat and embeddings answers are conformed (servers differ); /completions is relayed as it is (fill-in-the-middle).
      transport = { ...wire.calls, passthrough: wire.completionsOnly, models: async (options) => (await client.models.list(options)).data }
    }
    return createOpenAIWireProvider(transport, {
      provider: ctx.name,
      errors: OpenAI,
      secrets: config.api_key ? [config.api_key] : [],
      modelOwner: config.api_version ? 'azure' : ctx.name,
      dispose: wire.close,
    })
  },
})

/**
 * Azure's calls, each to its deployment's path. The SDK's AzureOpenAI would put the body's model
 * into the path as it is, so `az-x/../gpt-4-32k` became another deployment: the path is built here
 * with the deployment as one escaped segment, and sent through the client's public `post` (a path
 * the SDK does not rewrite), exactly as `chat.completions.create` and `embeddings.create` send theirs.
 */
function azureTransport(client: AzureOpenAI, pinned: string | undefined): OpenAIWireTransport {
  const path = (model: string, endpoint: string): string => `/deployments/${pathSegment(pinned ?? model)}/${endpoint}`
  return {
    chat: (body, options) => client.post<ChatResponse | ChatStream>(path(body.model, 'chat/completions'), { body, ...options, stream: body.stream ?? false }),
    embed: (body, options) => client.post<EmbeddingResponse>(path(body.model, 'embeddings'), { body, ...options }),
    models: async (options) => (await client.models.list(options)).data,
  }
}
