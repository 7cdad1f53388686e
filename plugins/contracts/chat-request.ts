/**
 * The checks a chat request passes before it is routed: the types and ranges of its common fields,
 * as OpenAI's API reference gives them (CreateChatCompletionRequest in OpenAI's OpenAPI document).
 * A wrong-typed field is refused with a 400 that names it (`param`), as OpenAI does, instead of
 * reaching a provider that may read it another way (`stream: "yes"` made an upstream stream while
 * the gateway waited for a JSON answer). Fields not listed here, and any extra field a provider
 * understands, pass through unchecked, as before.
 *
 * Written by hand rather than extracted from OpenAI's schema: that one describes every message and
 * content-part shape OpenAI accepts, which would refuse what other providers (and their
 * OpenAI-compatible servers) take; here only what every provider shares is checked.
 */
import { badRequest } from '../../plugin-api/index.ts'
import { checkMetadata } from './metadata.ts'
import { integer, nullable, number, requestCheck, type RequestSchema } from './request-check.ts'

/** A function as a tool (`tools[].function`, `functions[]`): what every provider's translation reads. */
const FUNCTION = { type: 'object', required: ['name'], properties: { name: { type: 'string' }, description: { type: 'string' }, parameters: { type: 'object' }, strict: nullable('boolean') } }

export const CHAT_REQUEST_SCHEMA = {
  type: 'object',
  properties: {
    model: { type: 'string' },
    messages: {
      type: 'array',
      items: {
        type: 'object',
        required: ['role'],
        properties: {
          role: { enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
          content: {
            type: ['string', 'array', 'null'],
            // The fields of the parts every provider's translation reads (Anthropic's, Gemini's and
            // Mistral's read image_url.url), when present; that a part has its type's field is
            // checked after (withoutItsField). A part of another type passes as it is.
            items: {
              type: 'object',
              required: ['type'],
              properties: {
                type: { type: 'string' },
                text: { type: 'string' },
                image_url: { type: 'object', required: ['url'], properties: { url: { type: 'string' }, detail: { type: 'string' } } },
                input_audio: { type: 'object', required: ['data', 'format'], properties: { data: { type: 'string' }, format: { type: 'string' } } },
                file: { type: 'object' },
              },
            },
          },
          name: { type: 'string' },
          tool_calls: { type: 'array', items: { type: 'object' } },
          tool_call_id: { type: 'string' },
        },
      },
    },
    stream: nullable('boolean'),
    stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' }, include_obfuscation: { type: 'boolean' } } },
    n: integer(1, 128),
    temperature: number(0, 2),
    top_p: number(0, 1),
    // The reference types these as integers; below 1 no answer can be given.
    max_tokens: integer(1),
    max_completion_tokens: integer(1),
    presence_penalty: number(-2, 2),
    frequency_penalty: number(-2, 2),
    logprobs: nullable('boolean'),
    top_logprobs: integer(0, 20),
    seed: integer(),
    // OpenAI takes at most 4 stop sequences; other providers take more, so the count is theirs to check.
    stop: { type: ['string', 'array', 'null'], items: { type: 'string' } },
    logit_bias: { type: ['object', 'null'], additionalProperties: { type: 'number', minimum: -100, maximum: 100 } },
    // A function tool needs its function (withoutItsField); OpenAI's custom tools, and other providers' own tool types, pass as they are.
    tools: { type: 'array', items: { type: 'object', required: ['type'], properties: { type: { type: 'string' }, function: FUNCTION } } },
    functions: { type: 'array', items: FUNCTION },
    tool_choice: { type: ['string', 'object'] },
    parallel_tool_calls: nullable('boolean'),
    response_format: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
    user: { type: 'string' },
    // OpenAI's limits (16 pairs, keys up to 64 characters, values strings up to 512) are checkMetadata's, below.
    metadata: nullable('object'),
    store: nullable('boolean'),
    service_tier: nullable('string'),
    reasoning_effort: nullable('string'),
    modalities: { type: ['array', 'null'], items: { type: 'string' } },
    prompt_cache_key: nullable('string'),
    safety_identifier: nullable('string'),
  },
} as const

/** `npm run build` writes the compiled check (ajv standalone code) beside this module under this name (scripts/build.mjs). */
export const CHAT_REQUEST_VALIDATOR = 'chat-request.validator.cjs'

export const CHAT_REQUEST: RequestSchema = { schema: CHAT_REQUEST_SCHEMA, validator: CHAT_REQUEST_VALIDATOR }
const checkSchema = requestCheck(CHAT_REQUEST)

/** Throw a 400 naming the first field of `body` (a parsed JSON object) whose type or value is wrong. */
export function checkChatRequest(body: object): void {
  checkSchema(body)
  // Only a request that sends metadata pays for this.
  if ((body as { metadata?: unknown }).metadata) checkMetadata((body as { metadata?: unknown }).metadata)
  const missing = withoutItsField(body as Checked)
  if (missing) throw badRequest(`Missing required parameter: '${missing}'.`, missing, 'missing_required_parameter')
}

type Part = { readonly type: string; readonly text?: unknown; readonly image_url?: unknown; readonly input_audio?: unknown; readonly file?: unknown }
type Checked = { readonly messages?: ReadonlyArray<{ readonly content?: unknown }>; readonly tools?: ReadonlyArray<{ readonly type: string; readonly function?: unknown }> }

/**
 * The first content part or tool without the field its type names (`{ type: 'image_url' }` with no
 * `image_url`, `{ type: 'function' }` with no `function`), as its param, on a body the schema
 * passed. Here rather than in the schema: an `if` on a part's type there cost about as much per
 * part as the rest of the check (ajv allocates an error for each `if` that does not hold), and
 * this runs on every chat request.
 */
function withoutItsField(body: Checked): string | undefined {
  const { messages, tools } = body
  if (messages) {
    for (let m = 0; m < messages.length; m++) {
      const content = messages[m].content
      if (!Array.isArray(content)) continue
      for (let p = 0; p < content.length; p++) {
        const part = content[p] as Part
        // Each type compared in turn, not part[part.type]: a lookup by a computed key was most of this function's cost.
        const missing = part.type === 'text' ? part.text === undefined
          : part.type === 'image_url' ? part.image_url === undefined
          : part.type === 'input_audio' ? part.input_audio === undefined
          : part.type === 'file' && part.file === undefined
        if (missing) return `messages[${m}].content[${p}].${part.type}`
      }
    }
  }
  if (tools) {
    for (let t = 0; t < tools.length; t++) if (tools[t].type === 'function' && tools[t].function === undefined) return `tools[${t}].function`
  }
  return undefined
}
