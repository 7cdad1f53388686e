/**
 * service.rag over HTTP (/api/v1/rag) on the embedded store: a corpus of Markdown, HTML, text and
 * a generated PDF ingested through the gateway's own embeddings route (provider.openai against a
 * bag-of-words upstream), the right passage in the top 3 for 24 questions, sources (page,
 * heading) on hits, re-upload dedupe, department scoping, filters and hybrid ranking, bad input
 * refused with nothing stored, a failed ingest that says why and succeeds on retry, and a
 * document half-embedded that search does not see.
 */
import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Store } from '../../plugin-api/index.ts'
import { Identity } from '../../plugins/contracts/capabilities.ts'
import { capability, startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { DIMENSIONS, api, fixture, pdfOf, ragConfig, startRagUpstream, type Api, type RagUpstream } from './helpers.ts'

const PDF_PAGES = [
  ['Annual safety report.', 'Fire drills take place every October on all floors of the building.', 'The assembly point is the car park behind the warehouse.'],
  ['Chemical storage rules.', 'Solvents are stored in the ventilated cabinet in room B12 and logged weekly.', 'Safety goggles are mandatory in the laboratory at all times.'],
]

/** Question → a phrase of the passage that answers it. */
const QUESTIONS: [string, string][] = [
  ['How many paid vacation days does an employee get per year?', 'twenty-five paid vacation days'],
  ['When do unused vacation days expire?', 'carry over until the end of March'],
  ['Within how many days must expense reports be submitted?', 'within thirty days of purchase'],
  ['Do receipts need to be scanned for the expense report?', 'Receipts above fifty euros'],
  ['How many days per week is remote work allowed?', 'up to three days per week'],
  ['What are core hours for remote employees on team chat?', 'core hours, from ten to four'],
  ['How long is paid parental leave?', 'sixteen weeks of paid parental leave'],
  ['What replaces the birth date for adoptive parents?', 'adoption date replaces the birth date'],
  ['What does a replacement security badge cost?', 'replacement badge costs fifteen euros'],
  ['What is the mirror aperture of the Aurora telescope?', '200 millimetre'],
  ['How fast does the Borealis kettle boil water?', 'ninety seconds'],
  ['What battery life do the Cirrus headphones have?', 'forty hours'],
  ['Does the Dune backpack fit a sixteen inch laptop?', 'padded laptop sleeve'],
  ['What fuel does the Ember camping stove burn?', 'burns wood pellets'],
  ['What is the office wifi network called and its password?', 'wifi network is called Lighthouse'],
  ['Where can bicycles be parked in the garage?', 'underground garage on level minus two'],
  ['When does the canteen serve lunch, and vegetarian dishes?', 'canteen serves lunch'],
  ['How should printer jams on the third floor be reported?', 'Printer jams on the third floor'],
  ['How are visitors registered and where is the visitor pass?', 'Visitors must be registered'],
  ['When do fire drills take place?', 'Fire drills take place every October'],
  ['Where is the assembly point?', 'assembly point is the car park'],
  ['Where are solvents stored?', 'Solvents are stored in the ventilated cabinet'],
  ['Are safety goggles mandatory in the laboratory?', 'Safety goggles are mandatory'],
  ['Is the Dune backpack waterproof and how many litres?', 'waterproof, holds thirty litres'],
]

describe('RAG collections (/api/v1/rag) on the embedded store', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let rag: Api
  let corpus: string

  beforeAll(async () => {
    upstream = await startRagUpstream()
    gw = await startTestGateway(ragConfig(upstream))
    rag = api(gw)
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('creates a collection whose dimension is probed through the embeddings route', async () => {
    const created = await rag('POST', '/collections', 'alice', { name: 'Company knowledge' })
    expect(created.status).toBe(201)
    expect(created.body.data).toMatchObject({ name: 'Company knowledge', embedding_route: 'embedder', dimensions: DIMENSIONS, owner_user_id: expect.any(String), department: 'research', dept_scope: null, chunking: { max_tokens: 100, overlap_tokens: 10 } })
    corpus = created.body.data.id
    expect(upstream.embeddings().at(-1)!.body).toMatchObject({ model: 'text-embedding-3-small', input: ['dimension probe'] })
  })

  it('ingests Markdown, HTML, text and PDF in the background, with progress, through the embeddings route', async () => {
    const pdf = await pdfOf(PDF_PAGES)
    const up = await rag.upload(corpus, 'alice', [
      { name: 'handbook.md', type: 'text/markdown', data: fixture('handbook.md') },
      { name: 'products.html', type: 'text/html', data: fixture('products.html') },
      { name: 'faq.txt', type: 'text/plain', data: fixture('faq.txt') },
      { name: 'safety.pdf', type: 'application/pdf', data: pdf },
    ], { category: 'company', year: 2026 })
    expect(up.status).toBe(202)
    expect(up.body.data.map((d: any) => [d.filename, d.kind])).toEqual([['handbook.md', 'markdown'], ['products.html', 'html'], ['faq.txt', 'text'], ['safety.pdf', 'pdf']])
    const docs = await rag.settled(corpus)
    for (const d of docs) {
      expect(d.status, `${d.filename}: ${JSON.stringify(d.error)}`).toBe('completed')
      expect(d.progress.chunks_total).toBeGreaterThan(0)
      expect(d.progress.chunks_done).toBe(d.progress.chunks_total)
    }
    // Batches of at most 4 chunks (embed_batch_size), as the uploader, through the route's model.
    const batches = upstream.embeddings().filter((r) => Array.isArray(r.body.input) && r.body.input[0] !== 'dimension probe')
    expect(batches.length).toBeGreaterThan(4)
    for (const b of batches) expect(b.body.input.length).toBeLessThanOrEqual(4)
    // Script contents never reach the index.
    const tracked = await rag('POST', `/collections/${corpus}/search`, 'alice', { query: 'tracking should never be indexed', hybrid: true })
    expect(tracked.body.data.some((h: any) => h.text.includes('should never be indexed'))).toBe(false)
  })

  it(`ranks the passage that answers each of ${QUESTIONS.length} questions in the top 3`, async () => {
    const misses: string[] = []
    for (const [question, phrase] of QUESTIONS) {
      const res = await rag('POST', `/collections/${corpus}/search`, 'alice', { query: question, top_k: 3 })
      expect(res.status).toBe(200)
      if (!res.body.data.some((h: any) => h.text.includes(phrase))) misses.push(`${question} → ${res.body.data.map((h: any) => h.text.slice(0, 40)).join(' | ')}`)
    }
    expect(misses).toEqual([])
  })

  it('gives each hit its score and source: the PDF page, the Markdown heading path, offsets', async () => {
    const pdfHit = (await rag('POST', `/collections/${corpus}/search`, 'alice', { query: 'Where are solvents stored?', top_k: 1 })).body.data[0]
    expect(pdfHit).toMatchObject({ filename: 'safety.pdf', source: { page: 2 }, attributes: { category: 'company', year: 2026 } })
    expect(pdfHit.score).toBeGreaterThan(0.3)
    const mdHit = (await rag('POST', `/collections/${corpus}/search`, 'alice', { query: 'What replaces the birth date for adoptive parents?', top_k: 1 })).body.data[0]
    expect(mdHit).toMatchObject({ filename: 'handbook.md', source: { heading: 'Employee handbook > Parental leave > Parental leave for adoption', page: null } })
    expect(fixture('handbook.md').toString('utf8').slice(mdHit.source.start_offset, mdHit.source.end_offset)).toBe(mdHit.text)
    const htmlHit = (await rag('POST', `/collections/${corpus}/search`, 'alice', { query: 'Borealis kettle boil', top_k: 1 })).body.data[0]
    expect(htmlHit.source.heading).toBe('Product catalogue > Borealis kettle')
  })

  it('re-uploading the same content replaces its chunks under the same document, never duplicating them', async () => {
    const store = capability(gw, Store)
    const count = async () => Number((await store.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM rag_chunks WHERE collection_id = $1`, [corpus])).rows[0].n)
    const before = await count()
    const docs = (await rag('GET', `/collections/${corpus}/documents`, 'alice')).body.data
    const faq = docs.find((d: any) => d.filename === 'faq.txt')
    const again = await rag.upload(corpus, 'alice', [{ name: 'faq-copy.txt', type: 'text/plain', data: fixture('faq.txt') }])
    expect(again.body.data[0].id).toBe(faq.id)
    const settled = await rag.settled(corpus)
    expect(settled).toHaveLength(4)
    expect(settled.find((d: any) => d.id === faq.id)).toMatchObject({ filename: 'faq-copy.txt', status: 'completed', attempts: 2 })
    expect(await count()).toBe(before)
  })

  it('filters on document attributes, and ranks with full text too when hybrid', async () => {
    const tagged = await rag('POST', '/collections', 'alice', { name: 'Tagged' })
    const id = tagged.body.data.id
    await rag.upload(id, 'alice', [{ name: 'handbook.md', type: 'text/markdown', data: fixture('handbook.md') }], { team: 'hr', level: 2 })
    await rag.upload(id, 'alice', [{ name: 'faq.txt', type: 'text/plain', data: fixture('faq.txt') }], { team: 'facilities', level: 5 })
    await rag.settled(id)
    const hr = await rag('POST', `/collections/${id}/search`, 'alice', { query: 'reception', top_k: 10, filters: { type: 'eq', key: 'team', value: 'hr' } })
    expect(hr.body.data.length).toBeGreaterThan(0)
    expect(new Set(hr.body.data.map((h: any) => h.filename))).toEqual(new Set(['handbook.md']))
    const high = await rag('POST', `/collections/${id}/search`, 'alice', { query: 'reception', top_k: 10, filters: { type: 'and', filters: [{ type: 'gte', key: 'level', value: 3 }, { type: 'in', key: 'team', value: ['facilities', 'it'] }] } })
    expect(new Set(high.body.data.map((h: any) => h.filename))).toEqual(new Set(['faq.txt']))
    const hybrid = await rag('POST', `/collections/${id}/search`, 'alice', { query: 'Lighthouse password', top_k: 3, hybrid: true })
    expect(hybrid.body.data[0].text).toContain('Lighthouse')
    expect(hybrid.body.meta.hybrid).toBe(true)
    const badFilter = await rag('POST', `/collections/${id}/search`, 'alice', { query: 'x', filters: { type: 'near', key: 'team', value: 'hr' } })
    expect(badFilter.status).toBe(400)
    expect(badFilter.body.error).toBe('invalid_filter')
  })

  it('finds by hybrid search a chunk that only a rare exact keyword matches, which the vectors rank far away', async () => {
    const { body } = await rag('POST', '/collections', 'alice', { name: 'Fault codes' })
    const id = body.data.id
    // Thirty notes near the query by vector (they share its words that full text calls stop words),
    // and one long maintenance note that shares with it only the code ERR-4711 (not "printer").
    const notes = Array.from({ length: 30 }, (_, i) => `## Note ${i}\n\nOnce more, over and over again: note ${i}.`)
    const fault = '## Coolant pump\n\nThe coolant pump of line three logs ERR-4711 when its pressure sensor reads below two bar; replace the sensor gasket, flush the filter, restart the controller and record the fault in the maintenance ledger.'
    await rag.upload(id, 'alice', [{ name: 'log.md', type: 'text/markdown', data: Buffer.from([...notes, fault].join('\n\n')) }])
    const [doc] = await rag.settled(id)
    expect(doc.progress.chunks_total).toBe(31)
    const query = 'printer ERR-4711 once more over again'
    const isFault = (h: any): boolean => h.text.includes('ERR-4711')
    const byVector = (await rag('POST', `/collections/${id}/search`, 'alice', { query, top_k: 3 })).body.data
    expect(byVector.some(isFault)).toBe(false)
    const hybrid = await rag('POST', `/collections/${id}/search`, 'alice', { query, top_k: 3, hybrid: true })
    expect(hybrid.status).toBe(200)
    expect(hybrid.body.data.some(isFault)).toBe(true)
    // With the table's statistics (which let common words skip their look-up) too.
    await capability(gw, Store).sql.exec('ANALYZE rag_chunks')
    const analyzed = await rag('POST', `/collections/${id}/search`, 'alice', { query, top_k: 3, hybrid: true })
    expect(analyzed.body.data.some(isFault)).toBe(true)
    // Filters hold for the full-text candidates too.
    const filtered = await rag('POST', `/collections/${id}/search`, 'alice', { query, top_k: 3, hybrid: true, filters: { type: 'eq', key: 'team', value: 'none' } })
    expect(filtered.body.data).toEqual([])
  })

  it('keeps collections within their scope: private to the owner, shared with a department, 404 outside', async () => {
    // alice's collection is hers: bob (same department, a user) and carol (sales) do not see it.
    for (const user of ['bob', 'carol'] as const) {
      expect((await rag('GET', `/collections/${corpus}`, user)).status).toBe(404)
      const search = await rag('POST', `/collections/${corpus}/search`, user, { query: 'vacation' })
      expect(search.status).toBe(404)
      expect(search.body.error).toBe('collection_not_found')
      expect((await rag('GET', '/collections', user)).body.data.map((c: any) => c.id)).not.toContain(corpus)
    }
    // Her department's admin and an admin do.
    expect((await rag('GET', `/collections/${corpus}`, 'dana')).status).toBe(200)
    expect((await rag('GET', `/collections/${corpus}`, 'admin')).status).toBe(200)

    // A user may not share with a department; its admin may, with their own only.
    const refused = await rag('POST', '/collections', 'alice', { name: 'Shared', dept_scope: 'research' })
    expect(refused.status).toBe(403)
    expect((await rag('POST', '/collections', 'dana', { name: 'Sales', dept_scope: 'sales' })).status).toBe(403)
    expect((await rag('POST', '/collections', 'dana', { name: 'Nope', dept_scope: 'nowhere' })).body.error).toBe('unknown_department')
    const shared = await rag('POST', '/collections', 'dana', { name: 'Research wiki', dept_scope: 'research' })
    expect(shared.status).toBe(201)
    const wiki = shared.body.data.id
    await rag.upload(wiki, 'dana', [{ name: 'faq.txt', type: 'text/plain', data: fixture('faq.txt') }])
    await rag.settled(wiki)
    // Research members search it; they may not change it; sales never sees it.
    const bobSearch = await rag('POST', `/collections/${wiki}/search`, 'bob', { query: 'Where can bicycles be parked?', top_k: 1 })
    expect(bobSearch.status).toBe(200)
    expect(bobSearch.body.data[0].text).toContain('underground garage')
    expect((await rag('GET', '/collections', 'bob')).body.data.map((c: any) => c.id)).toContain(wiki)
    expect((await rag.upload(wiki, 'bob', [{ name: 'x.txt', type: 'text/plain', data: Buffer.from('bob was here') }])).status).toBe(403)
    expect((await rag('DELETE', `/collections/${wiki}`, 'bob')).status).toBe(403)
    expect((await rag('GET', `/collections/${wiki}`, 'carol')).status).toBe(404)
    expect((await rag('GET', `/collections/${wiki}/documents`, 'carol')).status).toBe(404)
  })

  it('refuses bad input with a clear error and stores nothing', async () => {
    const { body } = await rag('POST', '/collections', 'alice', { name: 'Strict' })
    const id = body.data.id
    const cases: [string, { name: string; type: string; data: Buffer }, number, string][] = [
      ['empty', { name: 'empty.txt', type: 'text/plain', data: Buffer.alloc(0) }, 400, 'empty_file'],
      ['unsupported', { name: 'tool.exe', type: 'application/octet-stream', data: Buffer.from([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]) }, 400, 'unsupported_file'],
      ['too large', { name: 'big.txt', type: 'text/plain', data: Buffer.alloc(300_000, 'word ') }, 413, 'file_too_large'],
      ['pdf without text', { name: 'scan.pdf', type: 'application/pdf', data: await pdfOf([[]]) }, 400, 'no_text'],
      ['broken pdf', { name: 'broken.pdf', type: 'application/pdf', data: Buffer.from('%PDF-1.7\nnot really a pdf') }, 400, 'invalid_file'],
      ['blank text', { name: 'blank.md', type: 'text/markdown', data: Buffer.from('   \n\n  ') }, 400, 'no_text'],
    ]
    for (const [label, file, status, code] of cases) {
      const res = await rag.upload(id, 'alice', [file])
      expect(res.status, label).toBe(status)
      expect(res.body.success, label).toBe(false)
      expect(res.body.error, label).toBe(code)
      expect(res.body.message, label).toContain(file.name)
    }
    // Several files at once, one of them a scan without text in the middle: none is stored, neither the one before it nor the one after.
    const several = await rag.upload(id, 'alice', [
      { name: 'first.md', type: 'text/markdown', data: Buffer.from('# Parking\n\nVisitors park on level two.') },
      { name: 'scan.pdf', type: 'application/pdf', data: await pdfOf([[]]) },
      { name: 'last.txt', type: 'text/plain', data: Buffer.from('The canteen opens at noon.') },
    ])
    expect(several.status).toBe(400)
    expect(several.body).toMatchObject({ success: false, error: 'no_text', param: 'file' })
    expect(several.body.message).toContain('scan.pdf')
    expect((await rag('GET', `/collections/${id}/documents`, 'alice')).body.data).toEqual([])
    expect((await rag('GET', `/collections/${id}`, 'alice')).body.data.documents.total).toBe(0)

    const unknown = await rag.upload('5b0c8a5e-0000-4000-8000-000000000000', 'alice', [{ name: 'a.txt', type: 'text/plain', data: Buffer.from('hello') }])
    expect(unknown.status).toBe(404)
    expect(unknown.body.error).toBe('collection_not_found')
    expect((await rag('POST', '/collections', 'alice', { name: 'x', embedding_route: 'no-such-route' })).body.error).toBe('unknown_route')
    expect((await rag('POST', '/collections', 'alice', { name: 'x', chunking: { max_tokens: 200, overlap_tokens: 150 } })).body.error).toBe('invalid_chunking')
    expect((await rag('POST', '/collections', 'alice', {})).status).toBe(400)
  })

  it('records why an ingest failed, and succeeds on retry', async () => {
    const { body } = await rag('POST', '/collections', 'alice', { name: 'Flaky' })
    const id = body.data.id
    upstream.beforeEmbed = (inputs) => { if (inputs.some((i) => i.includes('dawn'))) throw new Error('embedding backend on fire') }
    try {
      const up = await rag.upload(id, 'alice', [{ name: 'zeppelin.txt', type: 'text/plain', data: Buffer.from('The zeppelin hangar opens at dawn.') }])
      const [doc] = await rag.settled(id)
      expect(doc.status).toBe('failed')
      expect(doc.error.message).toContain('embedding backend on fire')
      expect(doc.id).toBe(up.body.data[0].id)
      const none = await rag('POST', `/collections/${id}/search`, 'alice', { query: 'zeppelin hangar' })
      expect(none.body.data).toEqual([])
    } finally {
      upstream.beforeEmbed = undefined
    }
    const [failed] = (await rag('GET', `/collections/${id}/documents`, 'alice')).body.data
    const retried = await rag('POST', `/collections/${id}/documents/${failed.id}/retry`, 'alice')
    expect(retried.status).toBe(202)
    const [done] = await rag.settled(id)
    expect(done).toMatchObject({ status: 'completed', error: null, attempts: 2 })
    expect((await rag('POST', `/collections/${id}/search`, 'alice', { query: 'zeppelin hangar' })).body.data[0].text).toContain('zeppelin hangar')
    expect((await rag('POST', `/collections/${id}/documents/${failed.id}/retry`, 'alice')).status).toBe(409)
  })

  it('shows no chunk of a document until all of it is embedded', async () => {
    const { body } = await rag('POST', '/collections', 'alice', { name: 'Atomic' })
    const id = body.data.id
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    let batches = 0
    upstream.beforeEmbed = async (inputs) => { if (inputs.some((i) => i.includes('walrus')) && ++batches === 2) await gate }
    const text = Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: the walrus colony number ${i} sleeps on the ice floe near the fjord, far from the harbour.`).join('\n\n')
    await rag.upload(id, 'alice', [{ name: 'walrus.txt', type: 'text/plain', data: Buffer.from(text) }])
    try {
      // The first batch is written; the second waits upstream.
      const deadline = Date.now() + 10_000
      let doc: any
      do {
        doc = (await rag('GET', `/collections/${id}/documents`, 'alice')).body.data[0]
        await new Promise((r) => setTimeout(r, 20))
      } while (doc.progress.chunks_done === 0 && Date.now() < deadline)
      expect(doc.status).toBe('processing')
      expect(doc.progress.chunks_done).toBeGreaterThan(0)
      expect(doc.progress.chunks_done).toBeLessThan(doc.progress.chunks_total)
      const during = await rag('POST', `/collections/${id}/search`, 'alice', { query: 'walrus colony ice floe', hybrid: true })
      expect(during.body.data).toEqual([])
    } finally {
      release()
      upstream.beforeEmbed = undefined
    }
    await rag.settled(id)
    const after = await rag('POST', `/collections/${id}/search`, 'alice', { query: 'walrus colony ice floe' })
    expect(after.body.data.length).toBeGreaterThan(0)
  })

  it('stops an ingest whose uploader\'s key is revoked while it runs: no batch is embedded after, the document fails saying why', async () => {
    // Ingestion runs after the upload; each batch is embedded as the uploader is then. Revoked in
    // the store as another gateway does it (no event reaches this one), while a batch is upstream.
    const identity = capability(gw, Identity)
    const secret = `gw-rag-${randomBytes(16).toString('hex')}`
    const key = await identity.apiKeys.create({ keyHash: createHash('sha256').update(secret).digest('hex'), prefix: secret.slice(0, 10), role: 'user', department: 'research' })
    const asKey = (method: string, path: string, body?: BodyInit, json = false) =>
      fetch(`${gw.url}/api/v1/rag${path}`, { method, headers: { authorization: `Bearer ${secret}`, ...(json ? { 'content-type': 'application/json' } : {}) }, body })
    const id = (await (await asKey('POST', '/collections', JSON.stringify({ name: 'Revoked midway' }), true)).json()).data.id
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    let batches = 0
    upstream.beforeEmbed = async (inputs) => { if (inputs.some((i) => i.includes('narwhal')) && ++batches === 2) await gate }
    const text = Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: the narwhal pod number ${i} dives under the pack ice near the fjord, far from the harbour.`).join('\n\n')
    const form = new FormData()
    form.append('file', new Blob([text], { type: 'text/plain' }), 'narwhal.txt')
    expect((await asKey('POST', `/collections/${id}/documents`, form)).status).toBe(202)
    try {
      await waitFor(() => batches === 2, 10_000, 10)
      expect(await identity.apiKeys.revoke(key.id)).toBe(true)
    } finally {
      release()
      upstream.beforeEmbed = undefined
    }
    const [doc] = await rag.settled(id)
    expect(doc).toMatchObject({ status: 'failed', error: { code: 'key_revoked', message: expect.stringContaining('revoked') } })
    expect(doc.progress.chunks_total).toBeGreaterThan(8)
    expect(upstream.embeddings().filter((r) => JSON.stringify(r.body.input).includes('narwhal'))).toHaveLength(2)
  })

  it('deletes a document, then the collection with everything in it', async () => {
    const store = capability(gw, Store)
    const docs = (await rag('GET', `/collections/${corpus}/documents`, 'alice')).body.data
    const pdf = docs.find((d: any) => d.filename === 'safety.pdf')
    expect((await rag('DELETE', `/collections/${corpus}/documents/${pdf.id}`, 'alice')).status).toBe(200)
    expect((await rag('GET', `/collections/${corpus}/documents/${pdf.id}`, 'alice')).status).toBe(404)
    const hits = (await rag('POST', `/collections/${corpus}/search`, 'alice', { query: 'Where are solvents stored?', top_k: 10 })).body.data
    expect(hits.some((h: any) => h.filename === 'safety.pdf')).toBe(false)
    expect((await rag('DELETE', `/collections/${corpus}`, 'alice')).status).toBe(200)
    expect((await rag('GET', `/collections/${corpus}`, 'alice')).status).toBe(404)
    const left = await store.sql.query<{ n: number }>('SELECT (SELECT count(*) FROM rag_chunks WHERE collection_id = $1)::int + (SELECT count(*) FROM rag_documents WHERE collection_id = $1)::int AS n', [corpus])
    expect(left.rows[0].n).toBe(0)
  })
})
