/**
 * A provider suite's fixture: its mock upstream, a gateway whose provider points at it, and the
 * official OpenAI SDK as the client, started once for the describe block and closed after it.
 */
import { afterAll, beforeAll } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from './gateway.ts'

export interface ProviderSuite<U> {
  readonly upstream: U
  readonly gw: RunningGateway
  readonly client: OpenAI
}

export function providerSuite<U extends { url: string; close(): Promise<void> }>(
  start: () => Promise<U>,
  config: (upstreamUrl: string) => string,
  assign: (suite: ProviderSuite<U>) => void,
): void {
  let upstream: U | undefined
  let gw: RunningGateway | undefined
  beforeAll(async () => {
    upstream = await start()
    gw = await startTestGateway(config(upstream.url))
    assign({ upstream, gw, client: new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 }) })
  })
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })
}
