/**
 * cache.semantic on the embedded store (PGlite + pgvector): prompts embedded through an
 * embeddings route of the gateway (provider.openai against an upstream whose vectors the test
 * chooses), a hit above the similarity threshold and a miss below it, an exact repeat found
 * without embedding, tenants kept apart; and clear errors at load time when pgvector, the store
 * or the embeddings route is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { UsageLog } from '../../plugins/contracts/capabilities.ts'
import { waitFor } from '../helpers/wait.ts'
import { bearer, chat } from '../limits/helpers.ts'
import { DATABASE_URL, POSTGRES_ENABLED, dropSchema, uniqueSchema } from '../store/helpers.ts'
import { researchAndSales, startOpenAIUpstream, upstreamRoutes, type OpenAIUpstream } from '../helpers/openai-upstream.ts'

const ALICE = bearer('alice-key-0123456789abcdef')
const CAROL = bearer('carol-key-0123456789abcdef')
const BOB = bearer('bob-key-0123456789abcdef00')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const ask = (content: string) => ({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content }] })

/** The test's embedding model: cosine similarity to "capital of France" is 1, 0.95, 0.6, 0. */
function embed(text: string): number[] {
  if (text.includes('capital of France')) return [1, 0, 0]
  if (text.includes("France's capital")) return [0.95, Math.sqrt(1 - 0.95 ** 2), 0]
  if (text.includes('French cuisine')) return [0.6, 0.8, 0]
  return [0, 0, 1]
}

function config(upstream: OpenAIUpstream, store: string, cache = '{ plugin: semantic, embedding_route: embedder, threshold: 0.9 }'): string {
  return `version: 1
store: ${store}
${upstreamRoutes(upstream)}${researchAndSales([
    { key: 'alice-key-0123456789abcdef', user: 'alice', department: 'research' },
    { key: 'bob-key-0123456789abcdef00', user: 'bob', department: 'research' },
    { key: 'carol-key-0123456789abcdef', user: 'carol', department: 'sales' },
  ])}cache: ${cache}
`
}

describe('cache.semantic on the embedded store', () => {
  let upstream: OpenAIUpstream
  let gw: RunningGateway
  beforeAll(async () => {
    upstream = await startOpenAIUpstream({ embed })
    gw = await startTestGateway(config(upstream, '{ plugin: embedded, memory: true }'))
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('misses a new prompt, embeds it once through the embeddings route, and finds an exact repeat without embedding', async () => {
    const miss = await chat(gw, ask('What is the capital of France?'), ALICE)
    expect(miss.headers.get('x-gateway-cache')).toBe('miss')
    await sleep(100)
    // The lookup's embedding is reused to store the answer: one call to the route.
    expect(upstream.embeddings()).toHaveLength(1)
    expect(upstream.embeddings()[0].body).toMatchObject({ model: 'text-embedding-3-small', input: 'user: What is the capital of France?' })
    const repeat = await chat(gw, ask('What is the capital of France?'), ALICE)
    expect(repeat.headers.get('x-gateway-cache')).toBe('hit')
    expect(repeat.body.choices[0].message.content).toBe(miss.body.choices[0].message.content)
    expect(upstream.embeddings()).toHaveLength(1)
  })

  it('serves the answer of a similar prompt above the threshold (0.95 >= 0.9)', async () => {
    const similar = await chat(gw, ask("Tell me France's capital"), ALICE)
    expect(similar.headers.get('x-gateway-cache')).toBe('hit')
    expect(similar.body.choices[0].message.content).toBe('answer #1: What is the capital of France?')
    expect(upstream.chats()).toHaveLength(1)
  })

  it('misses a related prompt below the threshold (0.6 < 0.9)', async () => {
    const related = await chat(gw, ask('Describe French cuisine'), ALICE)
    expect(related.headers.get('x-gateway-cache')).toBe('miss')
    expect(related.body.choices[0].message.content).toBe('answer #2: Describe French cuisine')
  })

  it('never serves another department\'s answer, however similar', async () => {
    const carol = await chat(gw, ask('What is the capital of France?'), CAROL)
    expect(carol.headers.get('x-gateway-cache')).toBe('miss')
    expect(carol.body.choices[0].message.content).toMatch(/^answer #3/)
  })

  it('never serves an answer given with other parameters', async () => {
    const res = await chat(gw, { ...ask('What is the capital of France?'), max_tokens: 5 }, ALICE)
    expect(res.headers.get('x-gateway-cache')).toBe('miss')
  })

  it('accounts the cache\'s own embedding calls: each is a usage event of its own, on the embeddings route, for the caller', async () => {
    const log = capability(gw, UsageLog)
    const { value: events } = await waitFor(async () => {
      const rows = await log.list({ from: new Date(Date.now() - 600_000), to: new Date(Date.now() + 60_000) })
      return rows.filter((r) => r.route === 'embedder').length === upstream.embeddings().length ? rows : undefined
    })
    const embeddings = events!.filter((r) => r.route === 'embedder')
    expect(embeddings.length).toBe(upstream.embeddings().length)
    const chatByAlice = events!.find((r) => r.route === 'gpt' && r.department === 'research')!
    expect(embeddings[0]).toMatchObject({ userId: chatByAlice.userId, department: 'research', provider: 'up', model: 'text-embedding-3-small', status: 200 })
    // With the tokens the provider reported for each (the mock counts an input's words).
    const words = (input: string | string[]) => [input].flat().join(' ').split(/\s+/).filter(Boolean).length
    expect(embeddings.map((e) => e.promptTokens).sort()).toEqual(upstream.embeddings().map((r) => words(r.body.input)).sort())
  })

  it('never serves the answer about one image (or file, or tool call) to the same question about another', async () => {
    const image = (secret: string) => ({ type: 'image_url', image_url: { url: `data:text/plain;base64,${Buffer.from(secret).toString('base64')}` } })
    const about = (secret: string, text = 'What does this scan say?') => ({ model: 'gpt', temperature: 0, messages: [{ role: 'user', content: [{ type: 'text', text }, image(secret)] }] })
    const alices = await chat(gw, about("ALICE'S PAYSLIP"), ALICE)
    expect(alices.headers.get('x-gateway-cache')).toBe('miss')
    await sleep(100)
    // Bob, same department, same words, his own image: the prompts' text is alike, their images are not.
    const bobs = await chat(gw, about("BOB'S PAYSLIP"), BOB)
    expect(bobs.headers.get('x-gateway-cache')).toBe('miss')
    expect(bobs.body.choices[0].message.content).not.toBe(alices.body.choices[0].message.content)
    await sleep(100)
    // The same image with words alike is still found.
    const again = await chat(gw, about("ALICE'S PAYSLIP", 'What does this scan say? Please.'), BOB)
    expect(again.headers.get('x-gateway-cache')).toBe('hit')
    expect(again.body.choices[0].message.content).toBe(alices.body.choices[0].message.content)
    // A tool call in the conversation counts as the images do.
    const toolTurn = (city: string, id: string, question = 'What is the weather?') => ({
      model: 'gpt', temperature: 0, messages: [
        { role: 'user', content: question },
        { role: 'assistant', content: null, refusal: null, tool_calls: [{ id, type: 'function', function: { name: 'weather', arguments: JSON.stringify({ city }) } }] },
        { role: 'tool', tool_call_id: id, content: 'see above' },
      ],
    })
    expect((await chat(gw, toolTurn('Paris', 'call_1'), ALICE)).headers.get('x-gateway-cache')).toBe('miss')
    await sleep(100)
    expect((await chat(gw, toolTurn('Oslo', 'call_2'), BOB)).headers.get('x-gateway-cache')).toBe('miss')
    // The same call under another id, asked in words alike, is the same conversation.
    await sleep(100)
    expect((await chat(gw, toolTurn('Paris', 'call_9', 'What is the weather? Please.'), BOB)).headers.get('x-gateway-cache')).toBe('hit')
  })
})

describe('cache.semantic load-time errors', () => {
  let upstream: OpenAIUpstream
  beforeAll(async () => { upstream = await startOpenAIUpstream({ embed }) })
  afterAll(() => upstream.close())

  const failure = (yaml: string) => startTestGateway(yaml).then(async (gw) => { await gw.close(); return undefined }, (e: Error) => e.message)

  it('names the missing extension when the store has no pgvector (embedded without vector)', async () => {
    const message = await failure(config(upstream, '{ plugin: embedded, memory: true, vector: false }'))
    expect(message).toMatch(/test\.yaml:\d+:\d+ cache: plugin cache\.semantic failed to set up: cache\.semantic needs the PostgreSQL extension 'vector' \(pgvector\)/)
  }, 60_000)

  it.skipIf(!POSTGRES_ENABLED)('names the missing extension on a PostgreSQL server without pgvector', async () => {
    const schema = uniqueSchema('semantic')
    try {
      const message = await failure(config(upstream, `{ plugin: postgres, url: "${DATABASE_URL}", schema: ${schema} }`))
      expect(message).toContain("cache.semantic needs the PostgreSQL extension 'vector' (pgvector), which this postgres database does not have")
    } finally {
      await dropSchema(schema)
    }
  }, 60_000)

  it('says a store is needed when there is none', async () => {
    const yaml = config(upstream, '{ plugin: embedded, memory: true }').replace(/^store: .*\n/m, '')
    expect(await failure(yaml)).toContain('cache.semantic needs Store, which no plugin this config sets up provides: add `store:`')
  })

  it('names the embeddings route when no route answers it', async () => {
    const message = await failure(config(upstream, '{ plugin: embedded, memory: true }', '{ plugin: semantic, embedding_route: embeder }'))
    expect(message).toMatch(/cache\.embedding_route: no route answers 'embeder'/)
  }, 60_000)
})
