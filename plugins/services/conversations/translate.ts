/**
 * Items (the Responses API's shape, as threads keep them) to chat-completions messages and back:
 * what a turn sends through the pipeline, and what it keeps of the answer.
 */
import type { ChatContentPart, ChatMessage, ChatResponse, ChatToolCall } from '../../../plugin-api/index.ts'
import { partText, reasoningText, type ContentPart, type ItemContent, type TokenLogprob } from '../../contracts/conversations.ts'
import { openThinking, reasoningOf, sealThinking, type Reasoning, type ThinkingBlock } from '../../contracts/thinking.ts'
import { FILE_TEXT, withFileText } from '../../contracts/file-text.ts'
import type { ReadPart } from './file-parts.ts'

/** A chat choice's `logprobs.content`. */
type ChatLogprobs = NonNullable<NonNullable<ChatResponse['choices'][number]['logprobs']>['content']>

/**
 * Chat messages for items in order: a function call joins the assistant message before it, its
 * output is a `tool` message. An output whose call is not among the items (the history read began
 * after it, or it was deleted) is left out: a chat API refuses a tool message without its call.
 * A file search the gateway ran is left out too: its passages were that turn's instructions only.
 * A reasoning item goes with the assistant message after it, as LiteLLM's clients send thinking back
 * (`reasoning_content`, and the signed `thinking_blocks` its sealed content carries): the provider
 * that made them replays them (Claude), the others strip them (contracts/thinking.ts).
 */
export function chatMessages(items: readonly ItemContent[]): ChatMessage[] {
  const out: ChatMessage[] = []
  const calls = new Set<string>()
  let thought: Reasoning | undefined
  /** An assistant message with the thinking before it, if any. */
  const assistant = (message: ChatMessage): ChatMessage => {
    const withThought = thought ? Object.assign(message, thought) : message
    thought = undefined
    return withThought
  }
  for (const item of items) {
    if (item.type === 'reasoning') {
      thought = joinThought(thought, thoughtOf(item))
    } else if (item.type === 'message') {
      const text = item.content.map(partText).join('\n')
      if (item.role === 'assistant') {
        out.push(assistant({ role: 'assistant', content: text }))
        continue
      }
      // Thinking that no assistant message followed (sent before the client's own message) goes nowhere.
      thought = undefined
      if (item.role === 'user') out.push({ role: 'user', content: item.content.every((p) => p.type === 'input_text' || p.type === 'output_text') ? text : item.content.map(chatPart) })
      else out.push({ role: 'system', content: text })
    } else if (item.type === 'function_call') {
      calls.add(item.call_id)
      const call: ChatToolCall = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } }
      const last = out.at(-1)
      // Claude thinks between tool calls of one turn (interleaved): that thinking joins the turn's own.
      if (last?.role === 'assistant') Object.assign(last, joinThought(last as Reasoning, thought) ?? {}, { tool_calls: [...(last.tool_calls ?? []), call] })
      else out.push(assistant({ role: 'assistant', content: null, tool_calls: [call] }))
      thought = undefined
    } else if (item.type === 'function_call_output' && calls.has(item.call_id)) {
      out.push({ role: 'tool', tool_call_id: item.call_id, content: item.output })
    }
  }
  return out
}

/** Thinking `a` then `b`: the texts joined, the signed blocks in order; undefined when neither has any. */
function joinThought(a: Reasoning | undefined, b: Reasoning | undefined): Reasoning | undefined {
  const text = [reasoningOf(a), reasoningOf(b)].filter(Boolean).join('\n')
  const blocks = [...(a?.thinking_blocks ?? []), ...(b?.thinking_blocks ?? [])]
  if (!text && !blocks.length) return undefined
  return { ...(text ? { reasoning_content: text } : {}), ...(blocks.length ? { thinking_blocks: blocks } : {}) }
}

/** A reasoning item as the chat fields of thinking: its text (its content, else its summary), its sealed blocks opened (none if another service sealed them). */
function thoughtOf(item: Extract<ItemContent, { type: 'reasoning' }>): Reasoning {
  const blocks = openThinking(item.encrypted_content)
  return { reasoning_content: reasoningText(item), ...(blocks ? { thinking_blocks: blocks } : {}) }
}

/** A user message's part as a chat content part; an uploaded file's part must have been read first (`readFileParts`). */
function chatPart(part: ContentPart): ChatContentPart {
  if (part.type === 'input_image') {
    if (!part.image_url) throw new Error(`the image of file ${part.file_id} was not read`)
    return { type: 'image_url', image_url: { url: part.image_url, detail: part.detail } }
  }
  if (part.type === 'input_file') {
    if (!part.file_data) throw new Error(`the file ${part.file_id} was not read`)
    const file: ChatContentPart = { type: 'file', file: { file_data: part.file_data, ...(part.filename ? { filename: part.filename } : {}) } }
    const text = (part as ReadPart)[FILE_TEXT]
    return text ? withFileText(file, text) : file
  }
  return { type: 'text', text: part.text }
}

/** The items a chat answer is: its thinking as a reasoning item (summarised when `summarise`), its text as an assistant message, then each tool call. */
export function answerItems(response: ChatResponse, summarise: boolean): ItemContent[] {
  const message = response.choices[0]?.message
  const items: ItemContent[] = []
  const thinking = reasoningItem(reasoningOf(message), (message as Reasoning | undefined)?.thinking_blocks, summarise)
  if (thinking) items.push(thinking)
  const logprobs = tokenLogprobs(response.choices[0]?.logprobs?.content)
  if (message?.content) items.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: message.content, annotations: [], ...(logprobs ? { logprobs } : {}) }] })
  for (const call of message?.tool_calls ?? []) {
    if (call.type === 'function') items.push({ type: 'function_call', call_id: call.id, name: call.function.name, arguments: call.function.arguments })
  }
  return items
}


/** A chat answer's token log probabilities in the Responses API's shape (bytes always a list); undefined when there are none. */
export function tokenLogprobs(content: ChatLogprobs | null | undefined): TokenLogprob[] | undefined {
  if (!content?.length) return undefined
  return content.map((t) => ({
    token: t.token, logprob: t.logprob, bytes: t.bytes ?? [],
    top_logprobs: (t.top_logprobs ?? []).map((a) => ({ token: a.token, logprob: a.logprob, bytes: a.bytes ?? [] })),
  }))
}

/**
 * The model's thinking as a reasoning item; undefined when it did not think. Its text is the item's
 * `content` (`reasoning_text`, as OpenAI carries raw chain of thought: what DeepSeek, gpt-oss, Qwen or
 * Claude send is the thinking itself, not a summary of it); with `summarise` (the client asked for
 * `reasoning.summary`) the same text is its summary too, no model here writing a separate one. Its
 * signed blocks are sealed (a redacted block has no text: the item's content is then empty).
 */
export function reasoningItem(text: string | undefined, blocks: readonly ThinkingBlock[] | undefined, summarise: boolean): ItemContent | undefined {
  if (!text && !blocks?.length) return undefined
  return {
    type: 'reasoning', summary: text && summarise ? [{ type: 'summary_text', text }] : [],
    ...(text ? { content: [{ type: 'reasoning_text', text }] } : {}),
    ...(blocks?.length ? { encrypted_content: sealThinking(blocks) } : {}),
  }
}
