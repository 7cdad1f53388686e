import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelInfo } from '@anthropic-ai/sdk/resources/models'
import anthropicPlugin from '../../../plugins/providers/anthropic/index.ts'
import { testPluginContext } from '../../helpers/plugin-context.ts'
import { testLogger } from '../../helpers/gateway.ts'
import { sendJson, startUpstream, type MockUpstream } from '../../helpers/upstream.ts'
import { API_KEY } from './setup.ts'

function modelInfo(id: string, createdAt: string): ModelInfo {
  return {
    id, type: 'model', display_name: id, created_at: createdAt, capabilities: null, deprecated_at: null,
    lifecycle: 'active', line: 'sonnet', max_input_tokens: 1_000_000, max_tokens: 64_000, retires_at: null,
  }
}

describe('anthropic provider: model discovery', () => {
  let upstream: MockUpstream
  beforeAll(async () => {
    // Two pages, as the API paginates with has_more / after_id.
    upstream = await startUpstream((req, res) => {
      if (req.path !== '/v1/models') return sendJson(res, 404, {})
      if (!req.query.get('after_id')) {
        return sendJson(res, 200, { data: [modelInfo('claude-sonnet-4-6', '2026-02-17T00:00:00Z')], has_more: true, first_id: 'claude-sonnet-4-6', last_id: 'claude-sonnet-4-6' })
      }
      sendJson(res, 200, { data: [modelInfo('claude-haiku-4-5', '2025-10-01T00:00:00Z')], has_more: false, first_id: 'claude-haiku-4-5', last_id: 'claude-haiku-4-5' })
    })
  })
  afterAll(() => upstream.close())

  it('lists every page of the upstream\'s models as model entries', async () => {
    const ctx = testPluginContext({ id: 'provider.anthropic', name: 'claude', logger: testLogger() })
    const provider = await anthropicPlugin.setup(ctx, { api_key: API_KEY, base_url: upstream.url, timeout_ms: 5000 })
    const models = await provider.listModels!()
    expect(models).toEqual([
      { id: 'claude-sonnet-4-6', object: 'model', created: Date.parse('2026-02-17T00:00:00Z') / 1000, owned_by: 'anthropic' },
      { id: 'claude-haiku-4-5', object: 'model', created: Date.parse('2025-10-01T00:00:00Z') / 1000, owned_by: 'anthropic' },
    ])
    expect(upstream.requests.map((r) => r.query.get('after_id'))).toEqual([null, 'claude-sonnet-4-6'])
  })
})
