/**
 * `max_answer_mb`: an upstream whose answer passes the bound (whole, streamed, an error body, or
 * one that never ends) is a 502 upstream_answer_too_large, and the gateway stops reading it (the
 * upstream sees its connection closed) instead of holding it all in memory. Every kit provider,
 * on every path it reads an answer by: the OpenAI passthrough, the OpenAI wire translated
 * (embeddings), Anthropic (chat and its own Messages API), Gemini, Mistral, Azure OpenAI; and the
 * calls still made through an SDK (model lists, fine-tuning), through the kit's bounded fetch.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Anthropic from '@anthropic-ai/sdk'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GatewayError, capabilityOf, type Provider } from '../../plugin-api/index.ts'
import { FineTuning } from '../../plugins/contracts/fine-tuning.ts'
import { tooLargeIn, UpstreamTooLargeError } from '../../plugins/providers/kit/answer-limit.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { testPluginContext } from '../helpers/plugin-context.ts'
import { waitFor } from '../helpers/wait.ts'
import { ANSWER, everyProviderConfig, wholeAnswerFor } from './every-provider.ts'

const MB = 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 'x')

type Mode = 'fits' | 'big' | 'endless' | 'error-endless' | 'stream-endless-event'

/** What the upstream does, named in the request's prompt. */
const modeOf = (body: string): Mode => (/mode:([a-z-]+)/.exec(body)?.[1] ?? 'fits') as Mode

describe('an upstream answer past max_answer_mb', () => {
  let upstream: http.Server
  let gw: RunningGateway
  let origin: string
  /** Bytes each endless answer had written when its connection closed. */
  const closedAfter: number[] = []

  beforeAll(async () => {
    upstream = http.createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => { body += chunk.toString() })
      req.on('end', () => {
        // A GET is an SDK call off the hot path (a model list, a fine-tuning job read back).
        const mode = req.method === 'GET' ? 'endless' : modeOf(body)
        const whole = wholeAnswerFor(req.url ?? '')
        if (mode === 'fits' || mode === 'big') {
          // The provider's own answer with one unknown field padding it to just under, or twice, the bound.
          const padding = 'p'.repeat(mode === 'fits' ? 0.9 * MB : 2 * MB)
          const padded = Array.isArray(whole) ? [{ ...(whole[0] as object), padding }] : { ...(whole as object), padding }
          if (req.url?.endsWith('/embeddings')) {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', model: 'text-embedding-3-small', data: [{ object: 'embedding', index: 0, embedding: [0.5] }], usage: { prompt_tokens: 1, total_tokens: 1 }, padding }))
            return
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(padded))
          return
        }
        const type = mode === 'stream-endless-event' ? 'text/event-stream' : 'application/json'
        res.writeHead(mode === 'error-endless' ? 500 : 200, { 'content-type': type })
        let written = 0
        if (mode === 'stream-endless-event') {
          res.write('data: ')
        } else res.write('{"padding":"')
        // Written for as long as the reader takes it: a broken upstream that never ends its answer.
        const pump = (): void => {
          while (!res.destroyed && res.write(CHUNK)) written += CHUNK.length
          if (!res.destroyed) res.once('drain', pump)
        }
        res.on('close', () => closedAfter.push(written))
        pump()
      })
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
    const config = everyProviderConfig(origin).replaceAll(`base_url: "${origin}"`, `base_url: "${origin}", max_answer_mb: 1`)
      .replace('providers:\n', `providers:\n  openai: { plugin: openai, api_key: sk-test, base_url: "${origin}/v1", max_answer_mb: 1 }\n`)
      .replace('routes:\n', 'routes:\n  - { model: gpt, targets: [ { provider: openai, model: gpt-4o } ] }\n  - { model: embed, targets: [ { provider: openai, model: text-embedding-3-small } ] }\n')
      // Every route fails on purpose here, many times: its breaker stays shut.
      .replaceAll('  - { model: ', '  - { circuit: { failures: 1000 }, model: ')
    gw = await startTestGateway(config)
  })
  afterAll(async () => {
    await gw?.close()
    upstream?.closeAllConnections()
    await new Promise((resolve) => upstream?.close(resolve))
  })

  const openai = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  const chat = (model: string, mode: Mode) => openai().chat.completions.create({ model, messages: [{ role: 'user', content: `mode:${mode}` }] })
  const failureOf = (promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> => promise.then(
    () => { throw new Error('expected the call to fail') },
    (err: unknown) => {
      expect(err).toBeInstanceOf(OpenAI.APIError)
      return err as InstanceType<typeof OpenAI.APIError>
    },
  )
  /** The provider (named in the error) behind each route. */
  const providerOf = (model: string): string => (model === 'gpt' || model === 'embed' ? 'openai' : model)
  const expectTooLarge = (err: InstanceType<typeof OpenAI.APIError>, model: string): void => {
    expect(err.status).toBe(502)
    expect(err.code).toBe('upstream_answer_too_large')
    expect(err.message).toContain(`${providerOf(model)}: the upstream's answer passed max_answer_mb (1 MB)`)
  }
  /** The endless answer's connection was closed by the gateway soon after the bound, not read on. */
  const expectStoppedReading = async (before: number): Promise<void> => {
    await waitFor(() => closedAfter.length > before)
    expect(closedAfter.at(-1)).toBeLessThan(16 * MB)
  }

  const chatModels = ['gpt', 'claude', 'gemini', 'mistral', 'azure']

  it.each(chatModels)('%s: an answer just under the bound is read as usual', async (model) => {
    const completion = await chat(model, 'fits')
    expect(completion.choices[0].message.content).toBe(ANSWER)
  })

  it.each(chatModels)('%s: a whole answer over the bound is a 502 upstream_answer_too_large', async (model) => {
    expectTooLarge(await failureOf(chat(model, 'big')), model)
  })

  it.each(chatModels)('%s: an answer that never ends is cut at the bound', async (model) => {
    const before = closedAfter.length
    expectTooLarge(await failureOf(chat(model, 'endless')), model)
    await expectStoppedReading(before)
  })

  it.each(chatModels)('%s: an error body that never ends is cut at the bound', async (model) => {
    const before = closedAfter.length
    expectTooLarge(await failureOf(chat(model, 'error-endless')), model)
    await expectStoppedReading(before)
  })

  it.each(chatModels)('%s: a streamed event that never ends is cut at the bound', async (model) => {
    const before = closedAfter.length
    const failure = await (async () => {
      for await (const _ of await openai().chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'mode:stream-endless-event' }] })) { /* read */ }
    })().then(() => undefined, (err: unknown) => err)
    expect(failure).toBeInstanceOf(Error)
    expect(String((failure as Error).message)).toContain('max_answer_mb')
    await expectStoppedReading(before)
  })

  it('openai embeddings: an answer over the bound is a 502, one under it read', async () => {
    expect((await openai().embeddings.create({ model: 'embed', input: 'mode:fits', encoding_format: 'float' })).data[0].embedding).toEqual([0.5])
    expectTooLarge(await failureOf(openai().embeddings.create({ model: 'embed', input: 'mode:big' })), 'embed')
  })

  it('anthropic Messages API (its own wire, passed through): a whole answer and a stream past the bound are 502s', async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 })
    const whole = await client.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'mode:big' }] }).then(() => undefined, (err: unknown) => err)
    expect(whole).toBeInstanceOf(Anthropic.APIError)
    expect((whole as InstanceType<typeof Anthropic.APIError>).status).toBe(502)
    expect((whole as Error).message).toContain('max_answer_mb (1 MB)')
    const before = closedAfter.length
    const streamed = await (async () => {
      for await (const _ of client.messages.stream({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'mode:stream-endless-event' }] })) { /* read */ }
    })().then(() => undefined, (err: unknown) => err)
    expect(String((streamed as Error).message)).toContain('max_answer_mb')
    await expectStoppedReading(before)
  })

  /** A provider plugin set up on its own, for the calls it makes through an SDK. */
  async function sdkProvider(name: string, base: string): Promise<Provider> {
    const { default: plugin } = await import(`../../plugins/providers/${name}/index.ts`)
    return (await plugin.setup(testPluginContext({ id: `provider.${name}`, name }), { api_key: 'sk-test', base_url: `${origin}${base}`, timeout_ms: 60_000, max_answer_mb: 1 })) as Provider
  }
  /** `mapped`: the provider makes the failure a GatewayError (OpenAI's fine-tuner passes the SDK's error on, which the training worker logs and retries). */
  async function expectSdkCallStopped(call: () => Promise<unknown>, mapped = true): Promise<void> {
    const before = closedAfter.length
    const failure = await call().then(() => undefined, (err: unknown) => err)
    expect(tooLargeIn(failure)).toBeInstanceOf(UpstreamTooLargeError)
    if (mapped) {
      expect(failure).toBeInstanceOf(GatewayError)
      expect((failure as GatewayError).status).toBe(502)
      expect((failure as GatewayError).code).toBe('upstream_answer_too_large')
    }
    await expectStoppedReading(before)
  }

  it.each([['openai', '/v1'], ['anthropic', ''], ['mistral', ''], ['gemini', '']])('%s: a model list (through the SDK) that never ends is cut at the bound', async (name, base) => {
    const provider = await sdkProvider(name, base)
    try {
      await expectSdkCallStopped(() => provider.listModels!())
    } finally {
      await provider.dispose?.()
    }
  })

  it.each([['openai', '/v1', false], ['mistral', '', true]])('%s: a fine-tuning job read back that never ends is cut at the bound', async (name, base, mapped) => {
    const provider = await sdkProvider(name, base)
    try {
      await expectSdkCallStopped(() => capabilityOf(provider, FineTuning)!.progress('ftjob-1'), mapped)
    } finally {
      await provider.dispose?.()
    }
  })

  it('the gateway answers as usual afterwards', async () => {
    expect((await chat('gpt', 'fits')).choices[0].message.content).toBe(ANSWER)
  })
})
