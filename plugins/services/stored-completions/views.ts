/** Stored completions and their messages in OpenAI's shapes (ChatCompletionList, ChatCompletionMessageList). */
import type { ChatMessage } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import type { StoredCompletion } from './repository.ts'

/** The completion as the client got it, with its metadata (as OpenAI's stored completions show it). */
export const completionView = (c: StoredCompletion): JsonObject => ({ ...(c.completion as unknown as JsonObject), metadata: c.metadata as JsonObject })

/** OpenAI's list object for a page. */
export const listOf = (data: readonly JsonObject[], hasMore: boolean): JsonObject => ({
  object: 'list', data: data as JsonObject[], first_id: (data[0]?.id as string | undefined) ?? '', last_id: (data.at(-1)?.id as string | undefined) ?? '', has_more: hasMore,
})

/** A request message's id: its completion's and its place in the request (OpenAI's `<completion id>-<n>`). */
export const messageId = (completionId: string, index: number): string => `${completionId}-${index}`

type Part = { readonly type: string; readonly text?: string }

/** A request message as a ChatCompletionStoreMessage: a content parts array is `content_parts` (its text, joined, the `content`). */
export function messageView(completionId: string, message: ChatMessage, index: number): JsonObject {
  const { content, ...rest } = message as unknown as { content?: unknown } & JsonObject
  const parts = Array.isArray(content) ? (content as Part[]) : undefined
  const text = parts ? parts.filter((p) => p.type === 'text').map((p) => p.text ?? '').join('') : content
  return {
    id: messageId(completionId, index),
    ...rest,
    content: typeof text === 'string' && (parts === undefined || text !== '') ? text : null,
    content_parts: parts ? (parts.filter((p) => p.type === 'text' || p.type === 'image_url') as unknown as JsonObject[]) : null,
  }
}
