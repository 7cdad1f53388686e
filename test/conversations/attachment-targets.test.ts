/**
 * Documents attached to a chat message, as each target reads them: a PDF goes as a document to the
 * targets that read PDFs (OpenAI, Anthropic) and as its text to an OpenAI-compatible server that
 * does not (vLLM, Groq, DeepSeek), decided per target when it is called, so a fallback from Claude
 * to vLLM sends vLLM the text. A document's text is read once while it stays in the thread, and is
 * counted against the model's window: one too large for it is refused, naming it, before any model
 * is called.
 */
import { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { message, sendError, sendMessage, text } from '../providers/anthropic/anthropic-upstream.ts'
import { sendJson, startUpstream, type MockUpstream, type RecordedRequest } from '../helpers/upstream.ts'
import { docxOf, pdfOf } from '../rag/helpers.ts'
import { CHAT_PATH, completion, startMistralUpstream } from '../providers/mistral/mistral-upstream.ts'
import { openAIUpstreamHandler, startConversations, type ConversationsFixture } from './helpers.ts'

const LINE = 'Quarterly revenue rose twelve percent'

describe('documents attached to a chat, per target', () => {
  let f: ConversationsFixture
  let compat: MockUpstream
  let claude: MockUpstream
  let claudeDown: MockUpstream
  let mistral: MockUpstream
  let pdf: Buffer
  beforeAll(async () => {
    pdf = await pdfOf([[LINE]])
    // A short answer: the mock's default repeats the question, documents and all, into the history.
    compat = await startUpstream(openAIUpstreamHandler({ answers: { 'llama-3.1-8b': () => 'noted' } }))
    claude = await startUpstream(async (req, res) => sendMessage(res, message([text('noted')], { model: req.body.model })))
    claudeDown = await startUpstream(async (_req, res) => sendError(res, 500, 'api_error', 'Internal server error'))
    mistral = await startMistralUpstream({ [CHAT_PATH]: (_req, res) => sendJson(res, 200, completion({ content: 'noted' })) })
    f = await startConversations({
      files: true, rag: true,
      services: 'context_window_tokens: 3000, answer_reserve_tokens: 500',
      providers: `
  vllm: { plugin: openai-compatible, base_url: '${compat.url}' }
  claude: { plugin: anthropic, api_key: sk-ant-test, base_url: '${claude.url}' }
  claude-down: { plugin: anthropic, api_key: sk-ant-test, base_url: '${claudeDown.url}' }
  mistral: { plugin: mistral, api_key: test-mistral-key, base_url: '${mistral.url}' }`,
      routes: `
  - { model: local, targets: [ { provider: vllm, model: llama-3.1-8b } ] }
  - { model: sonnet, targets: [ { provider: claude, model: claude-sonnet-4-5 } ] }
  - { model: le-chat, targets: [ { provider: mistral, model: mistral-small-latest } ] }
  - { model: sonnet-else-local, targets: [ { provider: claude-down, model: claude-sonnet-4-5 }, { provider: vllm, model: llama-3.1-8b } ] }`,
    })
  }, 120_000)
  afterAll(async () => { await Promise.all([f?.close(), compat?.close(), claude?.close(), claudeDown?.close(), mistral?.close()]) })

  const chats = (u: MockUpstream): RecordedRequest[] => u.requests.filter((r) => r.path.endsWith('/chat/completions'))
  const lastUser = (r: RecordedRequest) => r.body.messages.filter((m: { role: string }) => m.role === 'user').at(-1).content
  /** A user message's content as text: every part must be text (no file part left). */
  const asText = (content: string | { type: string; text?: string }[]): string =>
    typeof content === 'string' ? content : content.map((p) => (p.type === 'text' ? p.text : `[${p.type} part]`)).join('\n')
  const upload = async (data: Buffer, name: string, type: string) => (await f.client('alice').files.create({ file: await toFile(data, name, { type }), purpose: 'user_data' })).id
  const send = async (model: string, content: string, fileId?: string) => {
    const thread = (await f.call('alice', 'POST', '/api/v1/chat/threads', {})).body.data.id as string
    const sent = await f.call('alice', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content, model, ...(fileId ? { attachments: [{ file_id: fileId }] } : {}) })
    return { thread, sent }
  }
  const extractions = async (): Promise<number> => {
    const metrics = await (await fetch(`${f.gw.url}/metrics`)).text()
    return Number(/^gateway_document_extractions_total (\d+)/m.exec(metrics)?.[1] ?? 0)
  }

  it('sends an OpenAI-compatible server the PDF\'s text, not a file part it cannot read', async () => {
    const id = await upload(pdf, 'report.pdf', 'application/pdf')
    const { sent } = await send('local', 'Summarise this', id)
    expect(sent.status).toBe(201)
    const content = asText(lastUser(chats(compat).at(-1)!))
    expect(content).toMatch(new RegExp(`^Summarise this\\n<file name="report.pdf">\\n[^]*${LINE}[^]*</file>$`))
  })

  it('does the same for a /v1/responses input_file naming an upload', async () => {
    const id = await upload(pdf, 'report.pdf', 'application/pdf')
    await f.client('alice').responses.create({ model: 'local', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Summarise this' }, { type: 'input_file', file_id: id }] }] })
    expect(asText(lastUser(chats(compat).at(-1)!))).toMatch(new RegExp(`^Summarise this\\n<file name="report.pdf">\\n[^]*${LINE}[^]*</file>$`))
  })

  it('counts a document\'s text in responses.inputTokens.count, as the turn counts it', async () => {
    const id = await upload(Buffer.from('Gamma minutes: the office moves in May. '.repeat(100)), 'gamma.txt', 'text/plain')
    const alice = f.client('alice')
    const bare = await alice.responses.inputTokens.count({ model: 'local', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Summarise this' }] }] })
    const withFile = await alice.responses.inputTokens.count({ model: 'local', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Summarise this' }, { type: 'input_file', file_id: id }] }] })
    expect(withFile.input_tokens - bare.input_tokens).toBeGreaterThan(500)
  })

  it('sends Mistral, whose chat takes no file part, the PDF\'s text', async () => {
    const id = await upload(pdf, 'report.pdf', 'application/pdf')
    const { sent } = await send('le-chat', 'Summarise this', id)
    expect(sent.status).toBe(201)
    const content = mistral.requests.at(-1)!.body.messages.at(-1).content
    expect(content.map((c: { type: string; text?: string }) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n'))
      .toMatch(new RegExp(`^Summarise this\\n<file name="report.pdf">\\n[^]*${LINE}[^]*</file>$`))
  })

  it('sends Claude the PDF as a document block', async () => {
    const id = await upload(pdf, 'report.pdf', 'application/pdf')
    const { sent } = await send('sonnet', 'Summarise this', id)
    expect(sent.status).toBe(201)
    const blocks = claude.requests.at(-1)!.body.messages.at(-1).content
    expect(blocks).toContainEqual(expect.objectContaining({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf.toString('base64') } }))
    expect(JSON.stringify(blocks)).not.toContain(LINE)
  })

  it('sends the text to the OpenAI-compatible server a route falls back to when Claude fails', async () => {
    const id = await upload(pdf, 'report.pdf', 'application/pdf')
    const before = claudeDown.requests.length
    const { sent } = await send('sonnet-else-local', 'Summarise this', id)
    expect(sent.status).toBe(201)
    expect(claudeDown.requests.length).toBeGreaterThan(before)
    expect(JSON.stringify(claudeDown.requests.at(-1)!.body.messages)).toContain('"type":"document"')
    expect(asText(lastUser(chats(compat).at(-1)!))).toMatch(new RegExp(`^Summarise this\\n<file name="report.pdf">\\n[^]*${LINE}[^]*</file>$`))
  })

  it('reads a document once while it stays in the thread, not again each turn', async () => {
    const id = await upload(docxOf(['Travel policy', 'Train tickets are refunded within five days.']), 'policy.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document')
    const before = await extractions()
    const { thread, sent } = await send('chat-a', 'What does it say?', id)
    expect(sent.status).toBe(201)
    const again = await f.call('alice', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: 'And for flights?', model: 'chat-a' })
    expect(again.status).toBe(201)
    // The second turn sent the document's text again, with the history, without reading it again.
    expect(f.upstreamChats().at(-1)!.body.messages[0].content).toContain('Train tickets are refunded within five days.')
    expect(await extractions()).toBe(before + 1)
  })

  it('counts the documents of earlier turns when fitting the history: a turn whose document no longer fits is dropped', async () => {
    const first = await upload(Buffer.from('Alpha minutes: the board approved the plan. '.repeat(150)), 'alpha.txt', 'text/plain')
    const second = await upload(Buffer.from('Beta minutes: the budget was cut by a third. '.repeat(150)), 'beta.txt', 'text/plain')
    const { thread, sent } = await send('local', 'Summarise alpha', first)
    expect(sent.status).toBe(201)
    expect(asText(lastUser(chats(compat).at(-1)!))).toContain('Alpha minutes')
    const next = await f.call('alice', 'POST', `/api/v1/chat/threads/${thread}/messages`, { content: 'Summarise beta', model: 'local', attachments: [{ file_id: second }] })
    expect(next.status).toBe(201)
    // Both documents do not fit the window of 3,000 tokens: the older turn, with its document, is left out.
    const sentNow = JSON.stringify(chats(compat).at(-1)!.body.messages)
    expect(sentNow).toContain('Beta minutes')
    expect(sentNow).not.toContain('Alpha minutes')
  })

  it('refuses a document too large for the model\'s window, naming it, and calls no model', async () => {
    const id = await upload(Buffer.from(`${'The committee reviewed every line of the budget again. '.repeat(800)}`), 'minutes.txt', 'text/plain')
    const before = chats(compat).length
    const { sent } = await send('local', 'Summarise the minutes', id)
    expect(sent.status).toBe(400)
    expect(sent.body).toMatchObject({ error: 'context_length_exceeded' })
    expect(sent.body.message).toContain("'minutes.txt'")
    expect(chats(compat).length).toBe(before)
  })
})
