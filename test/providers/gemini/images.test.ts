import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import OpenAI from 'openai'
import { startTestGateway, type RunningGateway } from '../../helpers/gateway.ts'
import { sendJson } from '../../helpers/upstream.ts'
import { gatewayConfig, generatePath, generateResponse, startGeminiUpstream } from './gemini-upstream.ts'

const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='

describe('gemini: image and media input', () => {
  let upstream: Awaited<ReturnType<typeof startGeminiUpstream>>
  let gw: RunningGateway
  let client: OpenAI
  beforeAll(async () => {
    upstream = await startGeminiUpstream({ [generatePath()]: (_req, res) => sendJson(res, 200, generateResponse([{ text: 'A red dot.' }])) })
    gw = await startTestGateway(gatewayConfig(upstream.url))
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 })
  })
  afterAll(async () => {
    await gw.close()
    await upstream.close()
  })
  beforeEach(() => { upstream.requests.length = 0 })
  const userParts = () => upstream.requests.at(-1)!.body.contents[0].parts

  it('sends a base64 data URL as inlineData, with its MIME type', async () => {
    const res = await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } }] }],
    })
    expect(userParts()).toEqual([{ text: 'What is this?' }, { inlineData: { mimeType: 'image/png', data: PNG_BASE64 } }])
    expect(res.choices[0].message.content).toBe('A red dot.')
  })

  it('sends an https URL as fileData (Gemini fetches it), its type read from the extension and detail as media resolution', async () => {
    await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/photos/cat.JPG?sig=abc', detail: 'low' } }] }],
    })
    expect(userParts()).toEqual([{ fileData: { fileUri: 'https://example.com/photos/cat.JPG?sig=abc', mimeType: 'image/jpeg' }, mediaResolution: { level: 'MEDIA_RESOLUTION_LOW' } }])
  })

  it('drops an image URL whose type cannot be known, with a warning, rather than guessing', async () => {
    const { response } = await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'https://example.com/render?id=7' } }] }],
    }).withResponse()
    expect(userParts()).toEqual([{ text: 'Look' }])
    expect(response.headers.get('x-gateway-warning')).toContain("'messages[0].content[1].image_url.url'")
  })

  it('rejects that image on a strict route with a 400 naming the part', async () => {
    const err = await client.chat.completions.create({
      model: 'chat-strict',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/render?id=7' } }] }],
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ code: 'unsupported_parameter', param: 'messages[0].content[0].image_url.url' })
  })

  it('rejects an image URL that is neither a data URL nor http(s)', async () => {
    const err = await client.chat.completions.create({
      model: 'chat', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://example.com/a.png' } }] }],
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OpenAI.BadRequestError)
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ code: 'invalid_image_url', param: 'messages[0].content[0].image_url.url' })
    expect(upstream.requests).toHaveLength(0)
  })

  it('sends input audio and a PDF file as inlineData', async () => {
    await client.chat.completions.create({
      model: 'chat',
      messages: [{
        role: 'user',
        content: [
          { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
        ],
      }],
    })
    expect(userParts()).toEqual([
      { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
    ])
  })
})
