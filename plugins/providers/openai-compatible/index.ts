/**
 * provider.openai-compatible: any server that speaks OpenAI's wire format (vLLM, Ollama, LM Studio,
 * llama.cpp, an internal proxy). With `api_version` it speaks Azure OpenAI's dated API instead,
 * addressed as the SDK's AzureOpenAI client addresses it: the deployment in the path
 * (`/openai/deployments/{deployment}/...`), `api-version` as a query parameter and the key as an
 * `api-key` header. The deployment is the route target's model unless `deployment` pins one. Chat
 * and embeddings go over the kit's pooled client either way; the official openai SDK lists models.
 */
import { Pricing, definePlugin, pathSegment, type Provider } from '../../../plugin-api/index.ts'
import { outputCapOf } from '../kit/output-cap.ts'
import { CONNECTION_PROPERTIES, createOpenAIWireProvider, openAIWireSetup, type ConnectionConfig, type OpenAIWireTransport, type WireAddressing } from '../kit/openai-wire.ts'

export interface OpenAICompatibleConfig extends ConnectionConfig {
  base_url: string
  api_version?: string
  deployment?: string
  replay_reasoning_content: boolean
  reads_pdf: boolean
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
    replay_reasoning_content: {
      type: 'boolean', default: false,
      description: 'Send `reasoning_content` on the assistant messages a client sends back, for servers whose models want their reasoning back in a tool loop (Kimi K2 thinking, DeepSeek-V3.2 with tools). Off: it is left out (DeepSeek-R1 answers 400 to it, OpenAI to any unknown field).',
    },
    reads_pdf: {
      type: 'boolean', default: false,
      description: 'The server reads a PDF sent as a chat `file` part (a proxy in front of OpenAI, a model server with document support). Off: a PDF attached to a chat (console attachments, /v1/responses `input_file`) is sent to this server as its extracted text, in a `<file name="…">` block, as Word documents are.',
    },
  },
  dependentRequired: { api_version: ['api_key'], deployment: ['api_version'] },
}

export default definePlugin<OpenAICompatibleConfig, Provider>({
  id: 'provider.openai-compatible',
  kind: 'provider',
  description: 'Any OpenAI-compatible server (vLLM, Ollama, LM Studio) or Azure OpenAI, over the kit\'s pooled client (the openai SDK for model lists).',
  configSchema,
  uses: [Pricing],
  async setup(ctx, config) {
    const { default: OpenAI, AzureOpenAI } = await import('openai')
    const azure = config.api_version
    const wire = openAIWireSetup(
      ctx,
      config,
      azure
        // Azure's key goes as api-key, never as a bearer token, as the SDK's AzureOpenAI sends it.
        ? { baseURL: config.base_url, headers: { Authorization: null, 'api-key': config.api_key ?? null }, wire: azureAddressing(config.base_url, azure, config.deployment) }
        // Without a key, the SDK's placeholder Authorization header is removed (null) rather than sent.
        : { baseURL: config.base_url, headers: config.api_key ? {} : { Authorization: null } },
    )
    const { baseURL, ...common } = wire.sdk
    let transport: OpenAIWireTransport
    if (azure) {
      // Chat and embeddings over the kit's client; the SDK's AzureOpenAI lists models.
      const client = new AzureOpenAI({ ...common, endpoint: baseURL, apiVersion: azure })
      transport = { ...wire.calls, models: async (options) => (await client.models.list(options)).data }
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
      replaysReasoning: config.replay_reasoning_content,
      readsPdf: config.reads_pdf,
      outputCap: outputCapOf(ctx),
      dispose: wire.close,
    })
  },
})

/**
 * Azure's addressing: `{endpoint}/openai/deployments/{deployment}/{endpoint path}?api-version=...`,
 * as the SDK's AzureOpenAI builds it, except that the deployment (the pinned one, else the body's
 * model) is one escaped segment: the SDK put the model in the path as it was, so
 * `az-x/../gpt-4-32k` would have named another deployment.
 */
function azureAddressing(endpoint: string, apiVersion: string, pinned: string | undefined): WireAddressing {
  const query = `?api-version=${encodeURIComponent(apiVersion)}`
  return {
    baseURL: `${endpoint.replace(/\/+$/, '')}/openai`,
    path: (path, model) => `/deployments/${pathSegment(pinned ?? model)}${path}${query}`,
  }
}
