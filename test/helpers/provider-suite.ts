/**
 * A provider suite's fixture: its mock upstream, a gateway whose provider points at it (the config
 * made from the upstream's URL), and the official OpenAI SDK as the client, started once for the
 * describe block and closed after it.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from './gateway.ts'
import { startUpstream, type MockUpstream, type UpstreamHandler } from './upstream.ts'

export interface ProviderSuite<U> {
  readonly upstream: U
  readonly gw: RunningGateway
  /** The official openai SDK pointed at the gateway, without retries (a test sees each failure). */
  readonly client: OpenAI
}

/**
 * Returns the suite, whose parts exist from beforeAll on (reading one earlier throws); `assign`,
 * if given, also receives them then.
 */
export function providerSuite<U extends { url: string; close(): Promise<void> }>(
  start: () => Promise<U>,
  config: (upstreamUrl: string) => string | Promise<string>,
  assign?: (suite: ProviderSuite<U>) => void,
): ProviderSuite<U> {
  let started: ProviderSuite<U> | undefined
  let upstream: U | undefined
  let gw: RunningGateway | undefined
  beforeAll(async () => {
    upstream = await start()
    gw = await startTestGateway(await config(upstream.url))
    started = { upstream, gw, client: new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 }) }
    assign?.(started)
  })
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })
  const need = (): ProviderSuite<U> => {
    if (!started) throw new Error('the upstream and its gateway start in beforeAll: use them inside a test or hook')
    return started
  }
  return {
    get upstream() { return need().upstream },
    get gw() { return need().gw },
    get client() { return need().client },
  }
}

/**
 * A provider suite on the programmable mock upstream (./upstream.ts): before each test its
 * recorded requests are cleared and, when given, `answer` is its handler again, so a test that
 * replaced it does not leak into the next.
 */
export function mockUpstreamSuite(config: (upstreamUrl: string) => string | Promise<string>, answer?: UpstreamHandler): ProviderSuite<MockUpstream> {
  const suite = providerSuite(() => startUpstream(answer), config)
  beforeEach(() => {
    suite.upstream.requests.length = 0
    if (answer) suite.upstream.handle(answer)
  })
  return suite
}
