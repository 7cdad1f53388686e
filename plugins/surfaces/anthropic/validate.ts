/**
 * What Anthropic's API refuses in a Messages request (or a token count), refused here with its 400
 * `invalid_request_error` before any provider call, on every route: a translated route would
 * otherwise answer what Anthropic never would (a `system` turn sent on mid-conversation, a
 * temperature of 1.5), and a passed-through one would spend a call to learn it. The field at fault
 * leads the message, as in Anthropic's own errors (`messages.0.role: ...`).
 *
 * Only rules that hold for every model and cost nothing to check are here. What Anthropic alone can
 * judge (a field or content block the gateway does not know, a model's limits, prefill on models
 * without it) is left to it on a passed-through route, whose 400 comes back in this shape; a
 * translated route refuses unknown fields and blocks itself (translate.ts). The rules follow the
 * request's `anthropic-version` (none: the rules of 2023-06-01, the version clients pinned longest):
 *
 * - `max_tokens` an integer, at least 0 (0 pre-warms the prompt cache);
 * - `messages` a non-empty list of `user` and `assistant` turns, each with a string or a list of
 *   typed blocks (the system prompt is the top-level `system`; consecutive turns of one role count
 *   as one turn, and no rule says which role comes first);
 * - each `tool_result` answers a `tool_use` of the assistant turn just before, and a `tool_use`
 *   followed by a user turn is answered in it, by `tool_result` blocks that open that turn (text or
 *   any other block only after them);
 * - up to 2023-06-01: `temperature` and `top_p` between 0 and 1, `top_k` a non-negative integer;
 * - from 2026-10-21: no `temperature`, `top_p` or `top_k` at all, no `document` block directly in an
 *   assistant turn, no non-empty `citations` on a user's text block (directly or in a `search_result`).
 */
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages'
import { badRequest, type GatewayError } from '../../../plugin-api/index.ts'
import { ANTHROPIC_SAMPLING_VERSIONS } from '../../contracts/anthropic.ts'

/** The parts of a Messages request these rules read; a count_tokens request has no `max_tokens`. */
export interface CheckedRequest {
  readonly max_tokens?: unknown
  readonly messages?: unknown
  readonly temperature?: unknown
  readonly top_p?: unknown
  readonly top_k?: unknown
}

/** Throws Anthropic's 400 for the first rule `body` breaks. `countOnly`: a token count, which has no `max_tokens`. */
export function checkMessagesRequest(body: unknown, version: string | undefined, countOnly = false): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('The request body must be a JSON object.', null, 'invalid_body')
  const request = body as CheckedRequest
  if (!countOnly) checkMaxTokens(request.max_tokens)
  const legacy = version === undefined || ANTHROPIC_SAMPLING_VERSIONS.has(version)
  checkSampling(request, legacy)
  const messages = checkTurns(request.messages)
  if (!legacy) messages.forEach(checkStrictContent)
  checkToolPairing(messages)
}

const invalid = (field: string, message: string, code = 'invalid_request'): GatewayError => badRequest(`${field}: ${message}`, field, code)

function checkMaxTokens(value: unknown): void {
  if (value === undefined || value === null) throw invalid('max_tokens', 'Field required: the most tokens to generate, an integer (0 only pre-warms the prompt cache).', 'invalid_max_tokens')
  if (!Number.isInteger(value) || (value as number) < 0) throw invalid('max_tokens', `Input should be an integer of at least 0, not ${JSON.stringify(value)}.`, 'invalid_max_tokens')
}

const SAMPLING = ['temperature', 'top_p', 'top_k'] as const

function checkSampling(request: CheckedRequest, legacy: boolean): void {
  for (const field of SAMPLING) {
    const value = request[field]
    if (value === undefined) continue
    if (!legacy) throw invalid(field, 'Extra inputs are not permitted (anthropic-version 2026-10-21 removed temperature, top_p and top_k; they are accepted with 2023-06-01).', 'unsupported_parameter')
    if (value === null) continue
    const ok = field === 'top_k' ? Number.isInteger(value) && (value as number) >= 0 : typeof value === 'number' && value >= 0 && value <= 1
    if (!ok) throw invalid(field, `Input should be ${field === 'top_k' ? 'an integer of at least 0' : 'a number from 0 to 1'}, not ${JSON.stringify(value)}.`, 'invalid_value')
  }
}

/** The turns, each checked for its role and the shape of its content. */
function checkTurns(messages: unknown): MessageParam[] {
  if (!Array.isArray(messages)) throw invalid('messages', 'Field required: a list of user and assistant turns.', 'invalid_messages')
  if (messages.length === 0) throw invalid('messages', 'At least one message is required.', 'invalid_messages')
  messages.forEach((message: unknown, i) => {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) throw invalid(`messages.${i}`, 'Input should be an object with a role and content.', 'invalid_messages')
    const { role, content } = message as { role?: unknown; content?: unknown }
    if (role !== 'user' && role !== 'assistant') {
      const hint = role === 'system' ? ' A system prompt goes in the top-level `system` parameter.' : ''
      throw invalid(`messages.${i}.role`, `Input should be 'user' or 'assistant', not ${JSON.stringify(role)}.${hint}`, 'invalid_role')
    }
    if (typeof content === 'string') return
    if (!Array.isArray(content)) throw invalid(`messages.${i}.content`, 'Input should be a string or a list of content blocks.', 'invalid_content')
    content.forEach((block: unknown, j) => {
      if (typeof block !== 'object' || block === null || typeof (block as { type?: unknown }).type !== 'string') throw invalid(`messages.${i}.content.${j}`, 'Input should be a content block: an object with a `type`.', 'invalid_content')
    })
  })
  return messages as MessageParam[]
}

/** 2026-10-21's rules for content: where documents and citations may be. */
function checkStrictContent(message: MessageParam, i: number): void {
  if (typeof message.content === 'string') return
  message.content.forEach((block, j) => {
    const at = `messages.${i}.content.${j}`
    if (message.role === 'assistant' && block.type === 'document') throw invalid(at, 'A document block cannot be placed directly in an assistant message (anthropic-version 2026-10-21).', 'invalid_content')
    if (message.role !== 'user') return
    if (block.type === 'text' && block.citations?.length) throw invalid(`${at}.citations`, 'A text block in a user message cannot carry citations (anthropic-version 2026-10-21).', 'invalid_content')
    if (block.type === 'search_result') {
      block.content?.forEach((inner, k) => {
        if (inner.citations?.length) throw invalid(`${at}.content.${k}.citations`, 'A text block in a user message cannot carry citations (anthropic-version 2026-10-21).', 'invalid_content')
      })
    }
  })
}

/**
 * Tool results answer the tool uses of the assistant turn just before them, all of them when a user
 * turn follows, and come first in that turn. Consecutive messages of one role are one turn, as
 * Anthropic reads them. The messages are Anthropic's own (its 400s as Claude Code users see them).
 */
function checkToolPairing(messages: readonly MessageParam[]): void {
  let asked: { readonly ids: Set<string>; readonly at: number } | undefined
  for (let i = 0; i < messages.length;) {
    const role = messages[i].role
    const start = i
    const answered = new Set<string>()
    const ids = new Set<string>()
    // Whether a block other than a tool_result has come in this turn, and one came after it.
    let other = false
    let resultAfterOther = false
    for (; i < messages.length && messages[i].role === role; i++) {
      const content = messages[i].content
      if (typeof content === 'string') {
        other = true
        continue
      }
      content.forEach((block, j) => {
        if (role === 'assistant' && block.type === 'tool_use') ids.add(block.id)
        if (role !== 'user') return
        if (block.type !== 'tool_result') {
          other = true
          return
        }
        if (!asked?.ids.has(block.tool_use_id)) {
          throw invalid(`messages.${i}.content.${j}`, `unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`, 'invalid_tool_result')
        }
        resultAfterOther ||= other
        answered.add(block.tool_use_id)
      })
    }
    if (role === 'assistant') {
      asked = { ids, at: start }
      continue
    }
    const unanswered = [...(asked?.ids ?? [])].filter((id) => !answered.has(id))
    if (unanswered.length) {
      throw invalid(`messages.${asked!.at}`, `\`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`, 'invalid_tool_use')
    }
    if (resultAfterOther) {
      throw invalid(`messages.${start}`, `Did not find ${asked!.ids.size} \`tool_result\` block(s) at the beginning of this message. Messages following \`tool_use\` blocks must begin with a matching number of \`tool_result\` blocks.`, 'invalid_tool_result')
    }
    asked = undefined
  }
}
