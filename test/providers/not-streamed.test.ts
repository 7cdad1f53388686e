/**
 * A stream request that a non-OpenAI-wire upstream (Anthropic, Gemini, Mistral) answers with one
 * JSON body instead of a stream: a 502 that says so, before any byte of a stream, not an empty
 * stream. (An OpenAI-wire upstream's whole answer is replayed as chunks:
 * test/providers/openai/not-streamed.test.ts, and Azure OpenAI here.)
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { ANSWER, everyProviderConfig, wholeAnswerFor } from './every-provider.ts'

describe('a stream request answered with one JSON body', () => {
  let upstream: http.Server
  let gw: RunningGateway
  const streamPaths: string[] = []

  beforeAll(async () => {
    // Every request answered whole, whatever it asked for.
    upstream = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        streamPaths.push(req.url ?? '')
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(wholeAnswerFor(req.url ?? '')))
      })
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    const origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
    gw = await startTestGateway(everyProviderConfig(origin))
  })
  afterAll(async () => {
    await gw?.close()
    await new Promise((resolve) => upstream?.close(resolve))
  })

  const openai = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  const streamChat = async (model: string): Promise<string> => {
    let text = ''
    for await (const chunk of await openai().chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'hi' }] })) text += chunk.choices[0]?.delta?.content ?? ''
    return text
  }

  it.each([['anthropic', 'claude'], ['gemini', 'gemini'], ['mistral', 'mistral']])('%s: a streamed chat completion is a 502 saying the upstream did not stream', async (_provider, model) => {
    const failure = await streamChat(model).then(() => undefined, (err: unknown) => err)
    expect(failure).toBeInstanceOf(OpenAI.APIError)
    expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(502)
    expect((failure as Error).message).toContain(`${model}: the upstream answered a stream request with one JSON answer, not a stream`)
  })

  it('anthropic: a streamed Messages API request is a 502 saying the upstream did not stream', async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 })
    const failure = await (async () => {
      for await (const _ of client.messages.stream({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })) { /* read */ }
    })().then(() => undefined, (err: unknown) => err)
    expect(failure).toBeInstanceOf(Anthropic.APIError)
    expect((failure as InstanceType<typeof Anthropic.APIError>).status).toBe(502)
    expect((failure as Error).message).toContain('not a stream')
  })

  it('Azure OpenAI (the OpenAI wire): the whole completion comes to the streaming client as chunks', async () => {
    expect(await streamChat('azure')).toBe(ANSWER)
    expect(streamPaths.at(-1)).toContain('/openai/deployments/gpt-4o/chat/completions')
  })
})
