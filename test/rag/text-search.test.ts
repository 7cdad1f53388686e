/**
 * The language of full-text search, per collection: `text_search` names a PostgreSQL text search
 * configuration (services.rag.text_search is the default, here `german`), used when chunks are
 * written (embedded, or copied from an earlier upload of the same text) and when the collection
 * is searched. A German document about "Häuser" is found by the keyword half of hybrid search for
 * the query "Haus" in a `german` collection or vector store (German stemming makes both `haus`),
 * and not in an `english` one (two words). An unknown configuration is a 400 naming the field, on
 * both APIs and in gateway.yaml.
 */
import OpenAI, { BadRequestError, toFile } from 'openai'
import type { VectorStoreCreateParams } from 'openai/resources/vector-stores/vector-stores'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { KEYS, api, ragConfig, startRagUpstream, vectorStoresConfig, type Api, type RagUpstream } from './helpers.ts'

/** Short paragraphs, one chunk each; none holds the query's word "haus" as such. */
const GERMAN = [
  '# Stadtgeschichte',
  'Die Häuser am Ufer der Elbe stehen seit 1890 unter Denkmalschutz.',
  'Der Bahnhof wurde im Jahr 1912 eröffnet und 1961 erweitert.',
  'Auf dem Marktplatz findet jeden Samstag ein Wochenmarkt statt.',
  'Die Brücke über den Fluss ist dreihundert Meter lang.',
].join('\n\n')

/**
 * A hybrid search for "Haus". The bag-of-words vectors share no word with it (every chunk ties in
 * the vector ranking), so a hit scores above 0.5 (first in one ranking, scaled so first in both
 * is 1) only when full text ranked it too.
 */
const fusedAboveVectorOnly = (hits: { text: string; score: number }[]) => hits.filter((h) => h.score > 0.5).map((h) => h.text)

describe('text_search: the language of hybrid search\'s full text', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let rag: Api
  let alice: OpenAI

  beforeAll(async () => {
    upstream = await startRagUpstream()
    gw = await startTestGateway(vectorStoresConfig(upstream, ', text_search: german'))
    rag = api(gw)
    alice = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  const searchHaus = async (id: string) => {
    const res = await rag('POST', `/collections/${id}/search`, 'alice', { query: 'Haus', top_k: 5, hybrid: true })
    expect(res.status).toBe(200)
    return res.body.data as { text: string; score: number }[]
  }
  const collectionOf = async (body: Record<string, unknown>): Promise<string> => {
    const created = await rag('POST', '/collections', 'alice', body)
    expect(created.status).toBe(201)
    const id = created.body.data.id as string
    expect((await rag.upload(id, 'alice', [{ name: 'stadt.md', type: 'text/markdown', data: Buffer.from(GERMAN) }])).status).toBe(202)
    expect((await rag.settled(id)).map((d) => d.status)).toEqual(['completed'])
    return id
  }

  it('finds "Häuser" for "Haus" in a german collection (the configured default), not in an english one', async () => {
    const german = await collectionOf({ name: 'Stadt' })
    expect((await rag('GET', `/collections/${german}`, 'alice')).body.data).toMatchObject({ text_search: 'german' })
    // The same text again, copied from the first upload: its full text is made again in english.
    const english = await collectionOf({ name: 'Stadt (english)', text_search: 'english' })
    expect((await rag('GET', `/collections/${english}`, 'alice')).body.data).toMatchObject({ text_search: 'english' })

    const inGerman = await searchHaus(german)
    expect(fusedAboveVectorOnly(inGerman)).toEqual([expect.stringContaining('Die Häuser am Ufer')])
    expect(inGerman[0].text).toContain('Die Häuser am Ufer')
    expect(fusedAboveVectorOnly(await searchHaus(english))).toEqual([])
  })

  it('takes text_search on vector stores too (an extra body property of the SDK), and the default without it', async () => {
    const file = await alice.files.create({ file: await toFile(Buffer.from(GERMAN), 'stadt.md', { type: 'text/markdown' }), purpose: 'assistants' })
    const inGerman = await alice.vectorStores.create({ name: 'Stadt' })
    const inEnglish = await alice.vectorStores.create({ name: 'Stadt', text_search: 'english' } as VectorStoreCreateParams)
    for (const store of [inGerman, inEnglish]) {
      expect(await alice.vectorStores.files.createAndPoll(store.id, { file_id: file.id }, { pollIntervalMs: 50 })).toMatchObject({ status: 'completed' })
    }
    expect((await rag('GET', `/collections/${inEnglish.id}`, 'alice')).body.data).toMatchObject({ text_search: 'english' })
    expect(fusedAboveVectorOnly(await searchHaus(inGerman.id))).toEqual([expect.stringContaining('Die Häuser am Ufer')])
    expect(fusedAboveVectorOnly(await searchHaus(inEnglish.id))).toEqual([])
  })

  it('refuses an unknown configuration with a 400 naming text_search, on both APIs, and in gateway.yaml', async () => {
    const refused = await rag('POST', '/collections', 'alice', { name: 'Klingon', text_search: 'klingon' })
    expect(refused).toMatchObject({ status: 400, body: { success: false, error: 'invalid_value', param: 'text_search' } })
    expect(refused.body.message).toContain('text_search must be one of: "simple"')
    expect(refused.body.message).toContain('"german"')
    const error = await alice.vectorStores.create({ name: 'Klingon', text_search: 'klingon' } as VectorStoreCreateParams).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BadRequestError)
    expect(error).toMatchObject({ status: 400, param: 'text_search', message: expect.stringContaining('"german"') })
    const listed = []
    for await (const s of alice.vectorStores.list()) listed.push(s.name)
    expect(listed).not.toContain('Klingon')

    const message = await startTestGateway(ragConfig(upstream, ', text_search: klingon')).then(async (g) => { await g.close(); return '' }, (e: Error) => e.message)
    expect(message).toMatch(/services\.rag\.text_search: must be one of: "simple", .*"german"/)
  }, 60_000)
})
