/**
 * Thinking ("reasoning") across wires. A request asks for it in one of two ways:
 *
 *   - Anthropic's `thinking: { type: 'enabled', budget_tokens }` (surface.anthropic, translated): the unified
 *     (OpenAI) API has no thinking budget, so the budget rides on the unified request as a hint (a symbol
 *     key: never serialised, so never sent) for each provider to settle for its model: an OpenAI-wire
 *     reasoning model gets `reasoning_effort`, Anthropic `thinking`, Gemini 2.5 the budget itself.
 *   - OpenAI's `reasoning_effort` (the Responses API's `reasoning.effort`): Anthropic and Gemini 2.5 take a
 *     budget instead, the one LiteLLM gives each effort (EFFORT_BUDGET).
 *
 * A provider that cannot think reports it dropped (`x-gateway-warning`). The model's thinking comes
 * back as LiteLLM returns it: `reasoning_content` (the text) on the message or a stream's delta, and,
 * from Anthropic, `thinking_blocks` (the signed blocks a client sends back on its next turn).
 */
import type { ChatRequest, ProviderCall } from '../../plugin-api/index.ts'

export type ThinkingEffort = 'low' | 'medium' | 'high'

/** What an Anthropic client's thinking asks, on the hint's key: a budget (`enabled`), or none (`adaptive`: the model decides), and its effort. */
export interface ThinkingAsk {
  readonly budget?: number
  readonly effort: ThinkingEffort
}

export const THINKING: unique symbol = Symbol('thinking')

type Hinted = { [THINKING]?: ThinkingAsk }

/**
 * A thinking budget as an effort: under 4,096 tokens `low`, under 16,384 `medium`, else `high`
 * (Anthropic's minimum budget is 1,024; Claude Code's largest, 31,999, is `high`).
 */
export function effortOfBudget(budgetTokens: number): ThinkingEffort {
  return budgetTokens < 4096 ? 'low' : budgetTokens < 16_384 ? 'medium' : 'high'
}

/** Anthropic's least thinking budget. */
export const MIN_THINKING_BUDGET = 1024

/**
 * `reasoning_effort` as a thinking budget, LiteLLM's defaults (DEFAULT_REASONING_EFFORT_*_THINKING_BUDGET):
 * low 1,024, medium 2,048, high 4,096, xhigh 8,192; `minimal` is Anthropic's least, 1,024. `none` has none.
 */
export const EFFORT_BUDGET: Readonly<Record<string, number>> = { minimal: MIN_THINKING_BUDGET, low: 1024, medium: 2048, high: 4096, xhigh: 8192 }

/** `request` carrying a thinking budget for the target's provider to settle. */
export function withThinking(request: ChatRequest, budgetTokens: number): ChatRequest {
  return Object.assign(request, { [THINKING]: { budget: budgetTokens, effort: effortOfBudget(budgetTokens) } satisfies ThinkingAsk })
}

/** `request` carrying adaptive thinking (no budget: the model decides how much) at `effort`. */
export function withAdaptiveThinking(request: ChatRequest, effort: ThinkingEffort): ChatRequest {
  return Object.assign(request, { [THINKING]: { effort } satisfies ThinkingAsk })
}

/** The thinking an Anthropic client asked for on `request`, if it did. */
export function thinkingAskOf(request: ChatRequest): ThinkingAsk | undefined {
  return (request as Hinted)[THINKING]
}

/** The thinking budget `request` carries, if an Anthropic client asked for thinking with one. */
export function thinkingBudgetOf(request: ChatRequest): number | undefined {
  return thinkingAskOf(request)?.budget
}

/** The thinking effort `request` carries, if an Anthropic client asked for thinking. */
export function thinkingOf(request: ChatRequest): ThinkingEffort | undefined {
  return thinkingAskOf(request)?.effort
}

/**
 * Whether an OpenAI-wire model takes `reasoning_effort`, by its name (the catalog does not say):
 * OpenAI's o-series, gpt-5 and codex models and its open-weight gpt-oss, with or without an
 * aggregator's `openai/` prefix.
 */
export function takesReasoningEffort(model: string): boolean {
  return /^(?:openai\/)?(?:o\d|gpt-5|codex|gpt-oss)/.test(model)
}

/** A provider that cannot think on request: report a requested thinking budget as dropped. */
export function thinkingDropped(request: ChatRequest, call: ProviderCall): void {
  if (thinkingOf(request)) call.unsupported('thinking', 'it has no equivalent for this model')
}

/**
 * For an OpenAI-wire upstream: a thinking budget as `reasoning_effort` when the model takes it and
 * the client set none (Anthropic's `output_config.effort` wins), else reported dropped. A copy only
 * when it adds the effort.
 */
export function thinkingAsReasoningEffort(request: ChatRequest, call: ProviderCall): ChatRequest {
  const effort = thinkingOf(request)
  if (!effort || request.reasoning_effort != null) return request
  if (!takesReasoningEffort(request.model)) {
    call.unsupported('thinking', `${request.model} takes no reasoning_effort`)
    return request
  }
  return { ...request, reasoning_effort: effort }
}

// ---------------------------------------------------------------------------------------------
// the answer's thinking

/**
 * A block of Anthropic's thinking as LiteLLM hands it to an OpenAI client, and takes it back on an assistant message.
 * `origin` names another provider whose signature a block carries (`gemini`: the thought signature of an
 * answer's text); absent, the block is Claude's. Each provider replays only its own: Claude refuses a
 * signature it did not make, so a route falling back from Gemini to Claude must not send one.
 */
export type ThinkingBlock = { type: 'thinking'; thinking: string; signature: string; origin?: 'gemini' } | { type: 'redacted_thinking'; data: string }

/** Whether `block` is Claude's (no other provider's signature). */
export const isClaudeBlock = (block: ThinkingBlock): boolean => block.type !== 'thinking' || block.origin === undefined

/** The thinking an answer's message (or a stream's delta, or a client's assistant message) carries besides OpenAI's fields. */
export interface Reasoning {
  reasoning_content?: string
  thinking_blocks?: ThinkingBlock[]
}

/** The thinking text of a message, a delta or an assistant message param, if any. */
export function reasoningOf(message: object | undefined): string | undefined {
  const text = (message as Reasoning | undefined)?.reasoning_content
  return typeof text === 'string' && text ? text : undefined
}

/**
 * `body` without the thinking its messages carry (`reasoning_content`, `thinking_blocks`: a client sending
 * back an earlier answer of Claude or Gemini), for an OpenAI-wire upstream: OpenAI refuses a message
 * property it does not know, DeepSeek answers 400 to `reasoning_content` in input, and none of them reads
 * another model's thinking. LiteLLM leaves them out the same way. With `keepText`, for an upstream that
 * wants its reasoning back (Kimi K2 thinking in a tool loop), only `thinking_blocks` go. A copy only
 * when a message carries one.
 */
export function withoutReplayedThinking<T extends object>(body: T, keepText = false): T {
  const messages = (body as { messages?: unknown }).messages
  if (!Array.isArray(messages)) return body
  let copy: unknown[] | undefined
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as Reasoning | null
    if (typeof message !== 'object' || message === null || !((!keepText && 'reasoning_content' in message) || 'thinking_blocks' in message)) continue
    const { reasoning_content: text, thinking_blocks: _blocks, ...rest } = message
    copy ??= messages.slice()
    copy[i] = keepText && text !== undefined ? { ...rest, reasoning_content: text } : rest
  }
  return copy ? { ...body, messages: copy } : body
}

// ---------------------------------------------------------------------------------------------
// signed thinking carried by a client (the Responses API's `reasoning.encrypted_content`)

/** Marks the gateway's own sealing: content from elsewhere (OpenAI's encrypted reasoning) is not read as blocks. */
const SEALED = 'gwtb1.'

/**
 * Signed thinking blocks as one opaque string a client keeps and sends back (`encrypted_content`):
 * not encrypted (the text is the summary it was shown anyway) but signed by the provider, which
 * refuses a block that was altered.
 */
export function sealThinking(blocks: readonly ThinkingBlock[]): string {
  return SEALED + Buffer.from(JSON.stringify(blocks)).toString('base64url')
}

/** The blocks `sealed` carries; undefined when it is not the gateway's (another service's reasoning: nothing to replay). */
export function openThinking(sealed: unknown): ThinkingBlock[] | undefined {
  if (typeof sealed !== 'string' || !sealed.startsWith(SEALED)) return undefined
  try {
    const blocks: unknown = JSON.parse(Buffer.from(sealed.slice(SEALED.length), 'base64url').toString('utf8'))
    return Array.isArray(blocks) ? (blocks as ThinkingBlock[]) : undefined
  } catch {
    return undefined
  }
}
