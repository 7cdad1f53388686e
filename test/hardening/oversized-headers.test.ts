/**
 * A request whose headers are larger than server.max_header_bytes (a 100 KB bearer token) is
 * refused by Node's parser before the app sees it; the client still gets a 431 in the API's error
 * shape (OpenAI's on /v1, the envelope on /api/v1), not Node's bare status line with no body.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'

const HUGE_TOKEN = `sk-${'x'.repeat(100 * 1024)}`

describe('oversized request headers', () => {
  let gw: RunningGateway
  beforeAll(async () => {
    gw = await startTestGateway(`version: 1
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`)
  })
  afterAll(async () => { await gw?.close() })

  it('answers a 100 KB bearer token on /v1 with a 431 in OpenAI\'s error shape', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HUGE_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }),
    })
    expect(res.status).toBe(431)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('x-request-id')).toBeTruthy()
    const body = await res.json()
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'request_headers_too_large', param: null })
    expect(body.error.message).toMatch(/16384 bytes \(server\.max_header_bytes\)/)
  })

  it('answers on /api/v1 in the envelope', async () => {
    const res = await fetch(`${gw.url}/api/v1/keys?x=1`, { headers: { authorization: `Bearer ${HUGE_TOKEN}` } })
    expect(res.status).toBe(431)
    expect(await res.json()).toMatchObject({ success: false, data: null, error: 'request_headers_too_large' })
  })

  it('reaches the OpenAI SDK as an APIError with the status and message', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: HUGE_TOKEN, maxRetries: 0 })
    const err = await client.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.APIError)
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(431)
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('request_headers_too_large')
  })

  it('takes a larger server.max_header_bytes from a reloaded config, without a restart', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-headers-'))
    const file = path.join(dir, 'gateway.yaml')
    const config = (extra: string): string => `version: 1
${extra}
providers:
  mock: { plugin: mock }
routes:
  - model: mock
    targets: [ { provider: mock } ]
`
    await writeFile(file, config(''))
    const reloadable = await startTestGateway({ file })
    try {
      const token = `sk-${'y'.repeat(20 * 1024)}`
      expect((await fetch(`${reloadable.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(431)
      await writeFile(file, config('server: { max_header_bytes: 65536 }'))
      expect((await reloadable.controller.reload('test')).status).toBe('reloaded')
      expect((await fetch(`${reloadable.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    } finally {
      await reloadable.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
