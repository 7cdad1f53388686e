/** Usage suites: a gateway on a PostgreSQL schema of its own, and an upstream with known usage. */
import path from 'node:path'
import { dropSchema, DATABASE_URL, uniqueSchema } from '../store/helpers.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { UsageLog, type UsageEventRecord } from '../../plugins/contracts/capabilities.ts'
import { waitFor } from '../helpers/wait.ts'
import { sendJson, startUpstream, type MockUpstream } from '../helpers/upstream.ts'

export const HEADER_AUTH = path.resolve('test/fixtures/plugins/header-auth')

/** A chat completion of the priced model with 10 + 1 tokens: what `okUpstream` answers. */
export const pricedCompletion = {
  id: 'x', object: 'chat.completion', created: 1, model: 'priced-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 },
}

/** An upstream that answers every chat request with `pricedCompletion`. */
export const okUpstream = (): Promise<MockUpstream> => startUpstream((_req, res) => sendJson(res, 200, pricedCompletion))

/** USD per 1M tokens for the upstream model the suites use. */
export const PRICE = { input: 2, output: 8, cached_input: 0.5, cache_write_input: 2.5 }

/** `services`: more YAML lines under services: (indented two spaces). */
export function usageConfig(upstreamUrl: string, url: string, schema: string, extra = '', services = ''): string {
  return `version: 1
plugins: [ ${HEADER_AUTH} ]
auth:
  strategies: [ { plugin: header } ]
store: { plugin: postgres, url: "${url}", schema: ${schema} }
services:
  analytics: {}
${services}pricing:
  priced-model: { input: ${PRICE.input}, output: ${PRICE.output}, cached_input: ${PRICE.cached_input}, cache_write_input: ${PRICE.cache_write_input} }
providers:
  a: { plugin: openai, api_key: sk-test, base_url: "${upstreamUrl}/v1" }
routes:
  - model: r
    targets: [ { provider: a, model: priced-model } ]
${extra}`
}

export async function usageGateway(upstreamUrl: string, options: { url?: string; extra?: string; services?: string; flushIntervalMs?: number } = {}): Promise<{ gw: RunningGateway; schema: string; cleanup: () => Promise<void> }> {
  const schema = uniqueSchema('usage')
  const gw = await startTestGateway(usageConfig(upstreamUrl, options.url ?? DATABASE_URL, schema, options.extra, options.services), { usage: { flushIntervalMs: options.flushIntervalMs ?? 50 } })
  return {
    gw,
    schema,
    cleanup: async () => {
      await gw.close()
      if (!options.url) await dropSchema(schema)
    },
  }
}

/** The usage events stored so far (waits until `count` are there). */
export async function storedEvents(gw: RunningGateway, count: number, timeoutMs = 20_000): Promise<UsageEventRecord[]> {
  const log = capability(gw, UsageLog)
  const scope = { from: new Date(Date.now() - 3600_000), to: new Date(Date.now() + 3600_000), limit: 1000 }
  const { value } = await waitFor(async () => {
    const rows = await log.list(scope)
    return rows.length >= count ? rows : undefined
  }, timeoutMs, 25)
  return value!
}

export const user = (id: string, role = 'user', dept?: string): Record<string, string> => ({ 'x-test-user': id, 'x-test-role': role, ...(dept ? { 'x-test-dept': dept } : {}) })

/** A usage gateway with an Anthropic provider `claude` in front of `upstreamUrl` too, and a route `claude` to its `claude-sonnet-4-5`. */
export async function anthropicUsageGateway(upstreamUrl: string): Promise<{ gw: RunningGateway; cleanup: () => Promise<void> }> {
  const schema = uniqueSchema('usage')
  const config = usageConfig(upstreamUrl, DATABASE_URL, schema, `  - model: claude
    targets: [ { provider: claude, model: claude-sonnet-4-5 } ]
`).replace('providers:\n', `providers:\n  claude: { plugin: anthropic, api_key: sk-ant-test, base_url: "${upstreamUrl}" }\n`)
  const gw = await startTestGateway(config, { usage: { flushIntervalMs: 50 } })
  return { gw, cleanup: async () => { await gw.close(); await dropSchema(schema) } }
}
