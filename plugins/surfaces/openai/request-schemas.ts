/** Every request check of this surface, which `npm run build` writes beside its modules as ajv standalone code (scripts/build.mjs), so none is compiled on a first request. */
import { CHAT_REQUEST } from './chat-request.ts'
import { COMPLETION_REQUEST } from './completions.ts'
import { EMBEDDING_REQUEST } from './embeddings.ts'
import type { RequestSchema } from './request-check.ts'

export { REQUEST_CHECK_AJV_OPTIONS } from './request-check.ts'
export const REQUEST_SCHEMAS: readonly RequestSchema[] = [CHAT_REQUEST, COMPLETION_REQUEST, EMBEDDING_REQUEST]
