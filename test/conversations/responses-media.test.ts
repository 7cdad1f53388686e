/**
 * Images and documents in /v1/responses input, through the openai SDK: an image by URL or by an
 * uploaded file's id, a PDF by data: URL or file id, each sent to the model as the chat API's
 * image_url and file parts (uploaded files read into data: URLs), kept as the client gave them,
 * sent again with the history, and refused where they cannot be read.
 */
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectOpenAISchema } from '../helpers/openai-schema.ts'
import { KEYS, startConversations, type ConversationsFixture } from './helpers.ts'

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201ffa65b7a0000000049454e44ae426082', 'hex')
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n')

describe('images and files in Responses input', () => {
  let f: ConversationsFixture
  let alice: OpenAI
  beforeAll(async () => {
    f = await startConversations({ files: true })
    alice = f.client('alice')
  }, 120_000)
  afterAll(async () => { await f?.close() })

  const lastUserContent = () => f.upstreamChats().at(-1)!.body.messages.filter((m: { role: string }) => m.role === 'user').at(-1).content

  it('sends an image by URL as the chat image_url part, with its detail, beside the text', async () => {
    const response = await alice.responses.create({
      model: 'chat-a',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'What is in this picture?' }, { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'low' }] }],
    })
    expect(response.status).toBe('completed')
    expect(lastUserContent()).toEqual([{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } }])
    const wire = await (await fetch(`${f.gw.url}/v1/responses/${response.id}/input_items`, { headers: { authorization: `Bearer ${KEYS.alice}` } })).json()
    expectOpenAISchema('ResponseItemList', wire)
    const items = await alice.responses.inputItems.list(response.id)
    expect((items.data[0] as { content: unknown[] }).content).toEqual([
      { type: 'input_text', text: 'What is in this picture?' }, { type: 'input_image', image_url: 'https://example.com/cat.png', file_id: null, detail: 'low' },
    ])
  })

  it('reads an uploaded image (by file_id) into a data: URL, and sends it again with the history', async () => {
    const image = await alice.files.create({ file: await toFile(PNG, 'dot.png', { type: 'image/png' }), purpose: 'vision' })
    const first = await alice.responses.create({ model: 'chat-a', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Describe it' }, { type: 'input_image', file_id: image.id, detail: 'auto' }] }] })
    const dataUrl = `data:image/png;base64,${PNG.toString('base64')}`
    expect(lastUserContent()[1]).toEqual({ type: 'image_url', image_url: { url: dataUrl, detail: 'auto' } })
    await alice.responses.create({ model: 'chat-a', previous_response_id: first.id, input: 'And its colour?' })
    const messages = f.upstreamChats().at(-1)!.body.messages
    expect(messages[0].content[1]).toEqual({ type: 'image_url', image_url: { url: dataUrl, detail: 'auto' } })
    expect(messages.at(-1)).toEqual({ role: 'user', content: 'And its colour?' })
    const items = await alice.responses.inputItems.list(first.id)
    expect((items.data[0] as { content: { file_id?: string }[] }).content[1]).toMatchObject({ type: 'input_image', file_id: image.id, image_url: null })
    // Deleted later, the image leaves the history with a line saying so: the conversation goes on.
    await alice.files.delete(image.id)
    const after = await alice.responses.create({ model: 'chat-a', previous_response_id: first.id, input: 'Still there?' })
    expect(after.status).toBe('completed')
    expect(f.upstreamChats().at(-1)!.body.messages[0].content).toBe(`Describe it\n[The image ${image.id} is no longer available.]`)
  })

  it('sends a PDF (by data: URL or uploaded file) as the chat file part, with its name', async () => {
    const dataUrl = `data:application/pdf;base64,${PDF.toString('base64')}`
    await alice.responses.create({ model: 'chat-a', input: [{ role: 'user', content: [{ type: 'input_file', file_data: dataUrl, filename: 'report.pdf' }, { type: 'input_text', text: 'Summarise' }] }] })
    expect(lastUserContent()[0]).toEqual({ type: 'file', file: { file_data: dataUrl, filename: 'report.pdf' } })
    const uploaded = await alice.files.create({ file: await toFile(PDF, 'uploaded.pdf', { type: 'application/pdf' }), purpose: 'user_data' })
    await alice.responses.create({ model: 'chat-a', input: [{ role: 'user', content: [{ type: 'input_file', file_id: uploaded.id }] }] })
    expect(lastUserContent()[0]).toEqual({ type: 'file', file: { file_data: dataUrl, filename: 'uploaded.pdf' } })
  })

  it('refuses a file the caller cannot read, a bad image URL, a file by URL, and media in an assistant message, naming the field', async () => {
    const image = await alice.files.create({ file: await toFile(PNG, 'mine.png', { type: 'image/png' }), purpose: 'vision' })
    const carol = f.client('carol')
    await expect(carol.responses.create({ model: 'chat-a', input: [{ role: 'user', content: [{ type: 'input_image', file_id: image.id, detail: 'auto' }] }] }))
      .rejects.toMatchObject({ status: 404, param: 'input[0].content[0].file_id' })
    await expect(alice.responses.create({ model: 'chat-a', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'ftp://example.com/x.png', detail: 'auto' }] }] }))
      .rejects.toMatchObject({ status: 400, param: 'input[0].content[0].image_url' })
    await expect(alice.responses.create({ model: 'chat-a', input: [{ role: 'user', content: [{ type: 'input_file', file_url: 'https://example.com/a.pdf' }] }] }))
      .rejects.toMatchObject({ status: 400, param: 'input[0].content[0].file_url' })
    await expect(alice.responses.create({ model: 'chat-a', input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: 'https://example.com/x.png' }] } as never] }))
      .rejects.toMatchObject({ status: 400, param: 'input[0].content[0].type' })
    // A conversation's items are checked the same way.
    const conversation = await carol.conversations.create({})
    await expect(carol.conversations.items.create(conversation.id, { items: [{ type: 'message', role: 'user', content: [{ type: 'input_image', file_id: image.id, detail: 'auto' }] }] }))
      .rejects.toMatchObject({ status: 404, param: 'items[0].content[0].file_id' })
  })
})
