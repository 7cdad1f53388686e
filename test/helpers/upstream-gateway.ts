/**
 * A gateway in front of a mock upstream, for one describe block: both started before its tests
 * (the gateway's config made from the upstream's URL) and closed after them. Before each test the
 * upstream's recorded requests are cleared and, when given, `answer` is its handler again, so a
 * test that replaced it does not leak into the next.
 */
import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach } from 'vitest'
import { startTestGateway, type RunningGateway } from './gateway.ts'
import { startUpstream, type MockUpstream, type UpstreamHandler } from './upstream.ts'

export interface UpstreamGateway {
  readonly upstream: MockUpstream
  readonly gw: RunningGateway
  /** The official openai SDK pointed at the gateway, without retries (a test sees each failure). */
  readonly client: OpenAI
}

export function gatewayInFrontOfUpstream(config: (upstreamUrl: string) => string | Promise<string>, answer?: UpstreamHandler): UpstreamGateway {
  const started: { upstream?: MockUpstream; gw?: RunningGateway; client?: OpenAI } = {}
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the upstream and its gateway start in beforeAll: use them inside a test or hook')
    return value
  }
  beforeAll(async () => {
    started.upstream = await startUpstream(answer)
    started.gw = await startTestGateway(await config(started.upstream.url))
    started.client = new OpenAI({ baseURL: `${started.gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 })
  })
  afterAll(async () => {
    await started.gw?.close()
    await started.upstream?.close()
  })
  beforeEach(() => {
    const upstream = need(started.upstream)
    upstream.requests.length = 0
    if (answer) upstream.handle(answer)
  })
  return {
    get upstream() { return need(started.upstream) },
    get gw() { return need(started.gw) },
    get client() { return need(started.client) },
  }
}
