/**
 * The threads documents are read in (services.rag.extraction; ingest/readers.ts), through the
 * official `openai` SDK: a thread that has read a document reads the next (starting one cost more
 * than reading a small PDF), and one that crashed (out of its heap_mb) is never taken again: the
 * file is attached `failed` with `last_error`, and the next document gets a new thread.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readerThreads } from '../../plugins/services/rag/ingest/readers.ts'
import { startTestGateway, type RunningGateway } from '../helpers/gateway.ts'
import { KEYS, pdfOf, ragConfig, startRagUpstream, type RagUpstream } from './helpers.ts'

// A heap bound no other suite uses: threads are keyed by it, and the pool is the process's.
const HEAP_MB = 72

describe('services.rag.extraction: reading threads', () => {
  let upstream: RagUpstream
  let gw: RunningGateway
  let alice: OpenAI
  let store: OpenAI.VectorStores.VectorStore

  const attach = async (data: Buffer, name: string, type: string) => {
    const file = await alice.files.create({ file: await toFile(data, name, { type }), purpose: 'assistants' })
    return alice.vectorStores.files.createAndPoll(store.id, { file_id: file.id }, { pollIntervalMs: 50 })
  }
  /** The threads of this suite's heap bound idle now (another suite's may be idle in this process too). */
  const idleThreads = (): number[] => readerThreads().idle.filter((r) => r.heapMb === HEAP_MB).map((r) => r.threadId)
  const report = async (i: number) => attach(await pdfOf([[`Report ${i}: the warehouse in city ${i} ships on Mondays.`]]), `report${i}.pdf`, 'application/pdf')

  beforeAll(async () => {
    upstream = await startRagUpstream()
    const config = ragConfig(upstream, `, extraction: { concurrency: 1, heap_mb: ${HEAP_MB} }`).replace('max_file_bytes: 200000', 'max_file_bytes: 2000000')
    gw = await startTestGateway(config.replace('services:\n', 'services:\n  files: {}\n'))
    alice = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEYS.alice, maxRetries: 0 })
    store = await alice.vectorStores.create({ name: 'Threads' })
  }, 60_000)
  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('reads document after document in one thread, kept idle between them', async () => {
    const started = readerThreads().started
    const first = await report(0)
    expect(first).toMatchObject({ status: 'completed', last_error: null })
    const [thread] = idleThreads()
    expect(thread).toBeDefined()
    for (let i = 1; i < 5; i++) expect(await report(i)).toMatchObject({ status: 'completed', last_error: null })
    // Five documents, one thread started (or none, had one of this heap been idle already), and the same one idle now.
    expect(readerThreads().started - started).toBeLessThanOrEqual(1)
    expect(idleThreads()).toEqual([thread])
  }, 60_000)

  it('replaces a thread that crashed: the file is attached failed with last_error, and the next is read by a new thread', async () => {
    expect(await report(10)).toMatchObject({ status: 'completed' })
    const [crashing] = idleThreads()
    const started = readerThreads().started
    // Lists the parser keeps whole: past HEAP_MB, the thread runs out of heap and dies.
    const crash = await attach(Buffer.from('- a\n'.repeat(200_000)), 'lists.md', 'text/markdown')
    expect(crash).toMatchObject({ status: 'failed', last_error: { code: 'invalid_file', message: expect.stringContaining('lists.md') } })
    expect(crash.last_error!.message).toContain('services.rag.extraction.heap_mb')
    expect(idleThreads()).not.toContain(crashing)
    expect(await report(11)).toMatchObject({ status: 'completed', last_error: null })
    expect(readerThreads().started).toBe(started + 1)
    expect(idleThreads()).toHaveLength(1)
    expect(idleThreads()).not.toContain(crashing)
    const search = await alice.vectorStores.search(store.id, { query: 'Which warehouse is in city 11?', max_num_results: 1 })
    expect(search.data[0]!.content[0]!.text).toContain('city 11')
  }, 60_000)
})
