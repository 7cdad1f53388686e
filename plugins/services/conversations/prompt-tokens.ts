/**
 * The Responses API's input token count (POST /v1/responses/input_tokens): the prompt a turn
 * would send, counted without sending it. The history is read as a turn reads it (the thread's or
 * the response chain's newest items, up to max_history_items); the instructions are the
 * assistant's and the request's; a document named by an upload adds its text (`documents`: what a
 * target that reads no PDF is sent, and what the turn counts when it fits the history); an image,
 * or a document sent inline, adds nothing; a server
 * tool's passages (file_search) are found when the turn runs, so they are not counted either.
 */
import { estimateTexts, promptTexts, type ChatRequest, type Tokenizer } from '../../../plugin-api/index.ts'
import type { ItemContent, PromptInput } from '../../contracts/conversations.ts'
import type { ResponseStore } from './data/responses.ts'
import { chatMessages } from './translate.ts'

/** A message's text parts only (an image or a document has no text to count). */
const textOnly = (item: ItemContent): ItemContent =>
  item.type === 'message' ? { ...item, content: item.content.filter((p) => p.type === 'input_text' || p.type === 'output_text') } : item

export function promptTokens(
  store: Pick<ResponseStore, 'threadHistory' | 'chainHistory'>, maxHistoryItems: number, tokenizer: Tokenizer | undefined, documents?: (item: ItemContent) => Promise<number>,
) {
  return async (prompt: PromptInput): Promise<number> => {
    const newestFirst = prompt.threadId ? await store.threadHistory(prompt.threadId, maxHistoryItems)
      : prompt.previousResponseId ? await store.chainHistory(prompt.previousResponseId, maxHistoryItems) : []
    const instructions = [prompt.assistant?.instructions, prompt.instructions].filter((s): s is string => !!s).join('\n\n')
    const tools = [...(prompt.assistant?.tools ?? []), ...(prompt.tools ?? [])]
    const request = {
      model: prompt.model ?? prompt.assistant?.route ?? '',
      messages: [
        ...(instructions ? [{ role: 'system' as const, content: instructions }] : []),
        ...chatMessages([...newestFirst].reverse().map((i) => i.content).concat(prompt.input).map(textOnly)),
      ],
      ...(tools.length ? { tools } : {}),
    } as ChatRequest
    const text = tokenizer ? await tokenizer.countChat(request) : estimateTexts(promptTexts(request))
    if (!documents) return text
    const items = [...newestFirst.map((i) => i.content), ...prompt.input]
    return text + (await Promise.all(items.map(documents))).reduce((a, b) => a + b, 0)
  }
}
