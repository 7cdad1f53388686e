/**
 * POST /v1/images/generations, /v1/images/edits and /v1/images/variations: OpenAI's image
 * generation, edits and variations, routed by their model like any request (dall-e-2 when the
 * client names none, as OpenAI's API) and sent to a provider that has the endpoint (OpenAI; the
 * mock offline) as the client wrote them. Unlike moderations they are metered: a usage event with
 * the tokens a GPT image model reports (priced by the catalog), under the caller's rate limits and
 * budgets, which hold the most each request may cost before it is sent (imagesEstimate).
 */
import { badRequest, estimateTextTokens, type RouteSpec, type TokenEstimate } from '../../../plugin-api/index.ts'
import { imageOutputTokens } from '../../contracts/images.ts'
import { OPENAI_IMAGE_EDITS, OPENAI_IMAGE_VARIATIONS, OPENAI_IMAGES } from '../../contracts/wires.ts'
import { meteredUpload, relayed } from './wire.ts'

/** OpenAI's default image model, as its API takes a request that names none. */
const DEFAULT_IMAGE_MODEL = 'dall-e-2'

/**
 * The most an image request may use, which token limits take and budgets reserve before the call
 * (the usage it reports replaces it): its prompt's estimate, and per image the output tokens OpenAI
 * documents for GPT image models at its size and quality, × n. `auto`, the default, counts as the
 * dearest (high quality, largest size), as a chat without max_tokens reserves its model's output
 * cap: images in flight together can then never take a budget past its limit, and naming `quality`
 * and `size` reserves less. An edit's input images are not estimated (the settlement counts them).
 * Priced at each target's model, so DALL·E, which the catalog has no price for, reserves nothing.
 */
export function imagesEstimate(body: Readonly<Record<string, unknown>>): TokenEstimate {
  const n = Number.parseInt(String(body.n ?? 1), 10)
  const prompt = estimateTextTokens(typeof body.prompt === 'string' ? body.prompt : '')
  return { prompt, completion: imageOutputTokens(body.size, body.quality) * (n > 0 ? n : 1) }
}

export const imageGenerations: RouteSpec<Record<string, unknown>> = {
  method: 'POST',
  path: '/v1/images/generations',
  summary: 'Generate images from a prompt, through a route whose provider generates images (OpenAI; the mock offline); metered as usage, under limits and budgets.',
  permission: 'chat',
  body: {
    type: 'object',
    required: ['prompt'],
    properties: {
      prompt: { type: 'string', minLength: 1 },
      model: { type: 'string', minLength: 1 },
      n: { type: 'integer', minimum: 1, maximum: 10 },
      stream: { type: 'boolean' },
    },
  },
  async handle(req) {
    if (req.body.stream === true) throw badRequest('Streamed image generation (partial images) is not served yet: send the request without `stream`.', 'stream', 'stream_unsupported')
    const model = (req.body.model as string | undefined) ?? DEFAULT_IMAGE_MODEL
    return relayed(await req.gateway.native(OPENAI_IMAGES, model, { ...req.body, model }, { headers: req.headers, metered: true, estimate: imagesEstimate(req.body) }))
  },
}

export const imageEdits: RouteSpec<Record<string, string>> = {
  method: 'POST',
  path: '/v1/images/edits',
  summary: 'Edit or extend images from a prompt (multipart: `image` files, `prompt`, an optional `mask`), through a route whose provider edits images; metered as usage, under limits and budgets.',
  permission: 'chat',
  body: 'multipart',
  async handle(req) {
    if (!req.files.some((f) => f.field === 'image' || f.field === 'image[]')) throw badRequest('Send the image to edit as the multipart file `image`.', 'image', 'missing_required_parameter')
    if (!req.body.prompt) throw badRequest('`prompt` is required: say what to change.', 'prompt', 'missing_required_parameter')
    if (req.body.stream === 'true') throw badRequest('Streamed image edits (partial images) are not served yet: send the request without `stream`.', 'stream', 'stream_unsupported')
    return relayed(await meteredUpload(req, OPENAI_IMAGE_EDITS, req.body.model || DEFAULT_IMAGE_MODEL, imagesEstimate(req.body)))
  },
}

export const imageVariations: RouteSpec<Record<string, string>> = {
  method: 'POST',
  path: '/v1/images/variations',
  summary: 'Variations of an image (multipart: a square PNG `image`; `model` dall-e-2, the default), through a route whose provider makes them (OpenAI; the mock offline); metered as usage, under limits and budgets.',
  permission: 'chat',
  body: 'multipart',
  async handle(req) {
    if (!req.files.some((f) => f.field === 'image')) throw badRequest('Send the image to vary as the multipart file `image` (a square PNG).', 'image', 'missing_required_parameter')
    return relayed(await meteredUpload(req, OPENAI_IMAGE_VARIATIONS, req.body.model || DEFAULT_IMAGE_MODEL, imagesEstimate(req.body)))
  },
}
