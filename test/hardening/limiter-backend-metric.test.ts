/**
 * gateway_limiter_backend_up says whether the configured limiter answers: it is absent when no
 * limiter is configured (a 0 there read as "limiter down" on dashboards and alerts).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { chat } from '../limits/helpers.ts'

const BASE = `version: 1
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`

async function backendUpLines(gw: RunningGateway): Promise<string[]> {
  const text = await (await fetch(`${gw.url}/metrics`)).text()
  return text.split('\n').filter((l) => l.startsWith('gateway_limiter_backend_up'))
}

describe('gateway_limiter_backend_up', () => {
  let gw: RunningGateway | undefined
  afterEach(async () => { await gw?.close(); gw = undefined })

  it('is absent when no limiter is configured', async () => {
    gw = await startTestGateway(BASE)
    expect((await chat(gw, {})).status).toBe(200)
    expect(await backendUpLines(gw)).toEqual([])
  })

  it('is 1, labelled with the backend, when a limiter is configured and answers', async () => {
    gw = await startTestGateway(`${BASE}limits:
  backend: { plugin: memory }
  policies: [ { scope: user, requests_per_minute: 100 } ]
`)
    expect(await backendUpLines(gw)).toEqual(['gateway_limiter_backend_up{backend="memory"} 1'])
    expect((await chat(gw, {})).status).toBe(200)
    expect(await backendUpLines(gw)).toEqual(['gateway_limiter_backend_up{backend="memory"} 1'])
  })
})
