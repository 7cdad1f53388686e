import type { UploadedFile } from '../../plugin-api/index.ts'

/**
 * Wire names: the formats a surface receives and a provider speaks natively (`Provider.native`,
 * `ModelEndpoint.wire`, `GatewayCalls.native`). A surface and a provider that share a wire meet
 * on its name, so each name is written here once and both import it.
 */

/** Anthropic's Messages API (`POST /v1/messages`): surface.anthropic passes it through to providers that speak it. */
export const ANTHROPIC_MESSAGES = 'anthropic-messages'

/** Anthropic's token count (`POST /v1/messages/count_tokens`): the request as the client wrote it, `{ input_tokens }` back. */
export const ANTHROPIC_COUNT_TOKENS = 'anthropic-count-tokens'

/** OpenAI's moderations (`POST /v1/moderations`): the request as the client wrote it, OpenAI's ModerationResponse back. */
export const OPENAI_MODERATIONS = 'openai-moderations'

/** OpenAI's legacy text completions (`POST /v1/completions`, e.g. fill-in-the-middle code completion): passed through to an upstream that serves it. */
export const OPENAI_COMPLETIONS = 'openai-completions'

/** OpenAI's image generation (`POST /v1/images/generations`): the request as the client wrote it, OpenAI's ImagesResponse back (its `usage`, GPT image models', is what it costs). */
export const OPENAI_IMAGES = 'openai-images'

/** OpenAI's image edits (`POST /v1/images/edits`, multipart: `image` files, `prompt`, an optional `mask`): a MultipartBody, an ImagesResponse back. */
export const OPENAI_IMAGE_EDITS = 'openai-image-edits'

/** OpenAI's image variations (`POST /v1/images/variations`, multipart: one square PNG `image`; dall-e-2 only): a MultipartBody, an ImagesResponse back (no usage). */
export const OPENAI_IMAGE_VARIATIONS = 'openai-image-variations'

/** OpenAI's speech to text (`POST /v1/audio/transcriptions`, multipart: the audio `file`, `model`): a MultipartBody; the transcript back as JSON, text or subtitles as `response_format` asks. */
export const OPENAI_TRANSCRIPTIONS = 'openai-transcriptions'

/** OpenAI's speech to English text (`POST /v1/audio/translations`): as transcriptions. */
export const OPENAI_TRANSLATIONS = 'openai-translations'

/** OpenAI's text to speech (`POST /v1/audio/speech`): the request as the client wrote it, the audio back as bytes of its type; the answer carries no usage. */
export const OPENAI_SPEECH = 'openai-speech'

/** The body of a multipart wire call: the form's text fields (`model` among them, which the kernel sets per target) and its files, each under its form field's name. */
export interface MultipartBody {
  readonly [field: string]: unknown
  readonly files: readonly UploadedFile[]
}
