/**
 * Files attached to a message of /api/v1/chat/threads (the console's paperclip): the caller's own
 * uploads, sent to the model as /v1/responses sends input_file / input_image parts (a PDF as the
 * chat API's file part, an image as its image part), shown on the message when the thread is read
 * again, and refused, naming the attachment, when they are another user's, too large or of a kind
 * that cannot be sent.
 */
import { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docxOf } from '../rag/helpers.ts'
import { startConversations, type ConversationsFixture } from './helpers.ts'

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201ffa65b7a0000000049454e44ae426082', 'hex')
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Length 44 >> stream\nBT /F1 12 Tf (Quarterly revenue rose 12%) Tj ET\nendstream endobj\ntrailer << >>\n%%EOF\n')

describe('attachments on a chat thread message', () => {
  let f: ConversationsFixture
  beforeAll(async () => { f = await startConversations({ files: true, rag: true, noSurface: true }) }, 120_000)
  afterAll(async () => { await f?.close() })

  const thread = async (): Promise<string> => (await f.call('alice', 'POST', '/api/v1/chat/threads', {})).body.data.id
  const lastUserContent = () => f.upstreamChats().at(-1)!.body.messages.filter((m: { role: string }) => m.role === 'user').at(-1).content

  it('sends an attached PDF to the model as a document with its text, and shows it on the message when the thread is read again', async () => {
    const id = await thread()
    const pdf = await f.client('alice').files.create({ file: await toFile(PDF, 'report.pdf', { type: 'application/pdf' }), purpose: 'user_data' })
    const sent = await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'Summarise this', model: 'chat-a', attachments: [{ file_id: pdf.id }] })
    expect(sent.status).toBe(201)
    const [text, file] = lastUserContent()
    expect(text).toEqual({ type: 'text', text: 'Summarise this' })
    expect(file).toEqual({ type: 'file', file: { file_data: `data:application/pdf;base64,${PDF.toString('base64')}`, filename: 'report.pdf' } })
    expect(Buffer.from(file.file.file_data.split(',')[1], 'base64').toString()).toContain('Quarterly revenue rose 12%')
    expect(sent.body.data.messages[0]).toMatchObject({ role: 'user', content: 'Summarise this', attachments: [{ file_id: pdf.id, filename: 'report.pdf', kind: 'file' }] })
    // The next turn sends the document again with the history.
    await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'And the costs?', model: 'chat-a' })
    expect(f.upstreamChats().at(-1)!.body.messages[0].content[1]).toEqual(file)
    const read = await f.call('alice', 'GET', `/api/v1/chat/threads/${id}`)
    expect(read.body.data.messages[0].attachments).toEqual([{ file_id: pdf.id, filename: 'report.pdf', kind: 'file' }])
    expect(read.body.data.messages[2].attachments).toBeUndefined()
  })

  it('sends an attached Word document as its text, read by the RAG service\'s readers (no model reads a .docx)', async () => {
    const id = await thread()
    const docx = await f.client('alice').files.create({
      file: await toFile(docxOf(['Travel policy', 'Train tickets are refunded within five days.']), 'policy.docx', { type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' }),
      purpose: 'user_data',
    })
    const sent = await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'What does it say?', model: 'chat-a', attachments: [{ file_id: docx.id }] })
    expect(sent.status).toBe(201)
    // All text now: the chat API's plain string content, the document after the question.
    const text = lastUserContent()
    expect(text).toMatch(/^What does it say\?\n<file name="policy.docx">\n[^]*Train tickets are refunded within five days\.[^]*<\/file>$/)
    expect(sent.body.data.messages[0].attachments).toEqual([{ file_id: docx.id, filename: 'policy.docx', kind: 'file' }])
  })

  it('sends an attached image as an image part', async () => {
    const id = await thread()
    const image = await f.client('alice').files.create({ file: await toFile(PNG, 'dot.png', { type: 'image/png' }), purpose: 'vision' })
    const sent = await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'What is this?', model: 'chat-a', attachments: [{ file_id: image.id }] })
    expect(sent.status).toBe(201)
    expect(lastUserContent()[1]).toEqual({ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG.toString('base64')}`, detail: 'auto' } })
    expect(sent.body.data.messages[0].attachments).toEqual([{ file_id: image.id, filename: 'dot.png', kind: 'image' }])
  })

  it("answers another user's file as no file (404), naming the attachment, and sends nothing", async () => {
    const pdf = await f.client('alice').files.create({ file: await toFile(PDF, 'mine.pdf', { type: 'application/pdf' }), purpose: 'user_data' })
    const carols = (await f.call('carol', 'POST', '/api/v1/chat/threads', {})).body.data.id
    const before = f.upstreamChats().length
    const sent = await f.call('carol', 'POST', `/api/v1/chat/threads/${carols}/messages`, { content: 'Read it', model: 'chat-a', attachments: [{ file_id: pdf.id }] })
    expect(sent.status).toBe(404)
    expect(sent.body).toMatchObject({ error: 'file_not_found', param: 'attachments[0].file_id' })
    expect(f.upstreamChats().length).toBe(before)
  })

  it('refuses an oversized image, a kind that cannot be sent and more than ten files, naming the attachment (400)', async () => {
    const id = await thread()
    const big = await f.client('alice').files.create({ file: await toFile(Buffer.alloc(5 * 1024 * 1024 + 1), 'huge.png', { type: 'image/png' }), purpose: 'vision' })
    const zip = await f.client('alice').files.create({ file: await toFile(Buffer.from('PK\x03\x04'), 'archive.zip', { type: 'application/zip' }), purpose: 'user_data' })
    const batch = await f.client('alice').files.create({ file: await toFile(PDF, 'other.pdf', { type: 'application/pdf' }), purpose: 'assistants' })
    const send = (file_id: string, index = 0) => f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, {
      content: 'Look', model: 'chat-a', attachments: [...(index ? [{ file_id: batch.id }] : []), { file_id }],
    })
    const tooBig = await send(big.id)
    expect(tooBig.status).toBe(400)
    expect(tooBig.body).toMatchObject({ error: 'attachment_too_large', param: 'attachments[0].file_id' })
    expect(tooBig.body.message).toContain('huge.png')
    const unsupported = await send(zip.id, 1)
    expect(unsupported.status).toBe(400)
    expect(unsupported.body).toMatchObject({ error: 'unsupported_attachment', param: 'attachments[1].file_id' })
    const tooMany = await f.call('alice', 'POST', `/api/v1/chat/threads/${id}/messages`, { content: 'Look', model: 'chat-a', attachments: Array.from({ length: 11 }, () => ({ file_id: zip.id })) })
    expect(tooMany.status).toBe(400)
    expect(JSON.stringify(tooMany.body)).toContain('attachments')
  })
})
