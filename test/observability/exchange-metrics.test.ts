/**
 * The exchange metrics on /metrics: one series per route, provider and status (or kind), whatever
 * the number of requests; totals that keep counting across scrapes and are not added twice by a
 * second scrape; a stream's time to first token; the families in their documented order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import type { RunningGateway } from '../../core/gateway.ts'
import { startTestGateway } from '../helpers/gateway.ts'

let gw: RunningGateway
let client: OpenAI

beforeAll(async () => {
  gw = await startTestGateway(`version: 1
providers:
  mock: { plugin: mock }
  dead: { plugin: openai, api_key: sk-test, base_url: "http://127.0.0.1:9/v1" }
routes:
  - { model: a, targets: [ { provider: mock, model: mock-1 } ] }
  - { model: b, targets: [ { provider: mock, model: mock-2 } ] }
  - { model: dead, targets: [ { provider: dead, model: gpt-dead } ] }
`)
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
})
afterAll(() => gw.close())

/** /metrics' lines of the families named `prefix…` (no comments). */
async function series(prefix: string): Promise<string[]> {
  const text = await (await fetch(`${gw.url}/metrics`)).text()
  return text.split('\n').filter((l) => l.startsWith(prefix))
}

/** The account step runs after the answer has gone: wait until the `prefix` series include `line`. */
async function settled(prefix: string, line: string): Promise<void> {
  for (let i = 0; i < 100 && !(await series(prefix)).includes(line); i++) await new Promise((r) => setTimeout(r, 20))
}

describe('exchange metrics', () => {
  it('count every request in one series per route, provider and status, across scrapes', async () => {
    const ask = (model: string) => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello there fox' }] })
    const answers = [await ask('a'), await ask('a'), await ask('a')]
    await expect(ask('dead')).rejects.toMatchObject({ status: 502 })
    const stream = await client.chat.completions.create({ model: 'b', stream: true, messages: [{ role: 'user', content: 'hi' }] })
    for await (const chunk of stream) void chunk
    await settled('gateway_requests_total', 'gateway_requests_total{route="b",provider="mock",status="200"} 1')

    const requests = await series('gateway_requests_total')
    expect(requests).toEqual([
      'gateway_requests_total{route="a",provider="mock",status="200"} 3',
      'gateway_requests_total{route="dead",provider="dead",status="502"} 1',
      'gateway_requests_total{route="b",provider="mock",status="200"} 1',
    ])
    // A second scrape reads the same totals (they are set at scrape time, not added again).
    expect(await series('gateway_requests_total')).toEqual(requests)
    const prompt = answers.reduce((n, a) => n + a.usage!.prompt_tokens, 0)
    const completion = answers.reduce((n, a) => n + a.usage!.completion_tokens, 0)
    expect(await series('gateway_tokens_total{route="a"')).toEqual([
      `gateway_tokens_total{route="a",provider="mock",kind="prompt"} ${prompt}`,
      `gateway_tokens_total{route="a",provider="mock",kind="completion"} ${completion}`,
    ])
    expect(await series('gateway_request_duration_seconds_count')).toEqual([
      'gateway_request_duration_seconds_count{route="a",provider="mock"} 3',
      'gateway_request_duration_seconds_count{route="dead",provider="dead"} 1',
      'gateway_request_duration_seconds_count{route="b",provider="mock"} 1',
    ])
    expect(await series('gateway_time_to_first_token_seconds_count')).toEqual(['gateway_time_to_first_token_seconds_count{route="b",provider="mock"} 1'])
    expect(await series('gateway_request_duration_seconds_bucket{le="+Inf",route="a"')).toEqual(['gateway_request_duration_seconds_bucket{le="+Inf",route="a",provider="mock"} 3'])

    // Counting goes on after a scrape.
    await ask('a')
    await settled('gateway_requests_total', 'gateway_requests_total{route="a",provider="mock",status="200"} 4')
    expect(await series('gateway_requests_total{route="a"')).toEqual(['gateway_requests_total{route="a",provider="mock",status="200"} 4'])

    const text = await (await fetch(`${gw.url}/metrics`)).text()
    const families = [...text.matchAll(/^# TYPE (gateway_\S+)/gm)].map((m) => m[1]).slice(0, 7)
    expect(families).toEqual(['gateway_requests_total', 'gateway_request_duration_seconds', 'gateway_time_to_first_token_seconds', 'gateway_tokens_total', 'gateway_cost_usd_total', 'gateway_cache_hits_total', 'gateway_config_reloads_total'])
  })

  it('resolve latencies up to the providers\' default timeout (600 s): a long stream or a reasoning model is not lost in +Inf', async () => {
    await client.chat.completions.create({ model: 'a', messages: [{ role: 'user', content: 'hi' }] })
    const bounds = (await series('gateway_request_duration_seconds_bucket{')).filter((l) => l.includes('route="a"')).map((l) => /le="([^"]+)"/.exec(l)![1])
    expect(bounds.slice(-4)).toEqual(['120', '300', '600', '+Inf'])
  })
})
