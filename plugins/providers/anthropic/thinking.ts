/**
 * Thinking on a translated request to Claude: OpenAI's `reasoning_effort` (or an Anthropic client's
 * budget that crossed the unified API) as Anthropic's `thinking`, the way LiteLLM maps it.
 *
 *   - Claude 4.6 and later (Opus 4.7 and the Claude 5 models take nothing else): `thinking: { type: 'adaptive' }`
 *     and the effort as `output_config.effort` (`xhigh` as `max` on 4.6, which has no `xhigh`).
 *   - Claude 3.7 to 4.5: `thinking: { type: 'enabled', budget_tokens }`, the budget the effort stands for
 *     (contracts/thinking.ts: low 1,024, medium 2,048, high 4,096); `max_tokens` must exceed it, so a bound
 *     the client did not set is raised to make room, and one it set lowers the budget (to half of it, at
 *     least 1,024) or, too small for any, leaves thinking out.
 *   - Older models cannot think: reported dropped.
 *
 * While thinking, Anthropic takes no temperature but 1, no top_p under 0.95, and no tool_choice that forces
 * a tool; it wants the last assistant turn's tool calls preceded by that turn's thinking blocks. Each
 * conflict is settled for the client's explicit ask and reported in `x-gateway-warning`.
 */
import type { ContentBlockParam, MessageCreateParamsBase, MessageParam } from '@anthropic-ai/sdk/resources/messages'
import type { ChatRequest, ProviderCall } from '../../../plugin-api/index.ts'
import { EFFORT_BUDGET, MIN_THINKING_BUDGET, thinkingAskOf, type ThinkingBlock } from '../../contracts/thinking.ts'
/** The fields of a Messages request (request.ts's AnthropicRequest) that thinking reads and sets. */
type ThinkingBody = Pick<MessageCreateParamsBase, 'model' | 'max_tokens' | 'messages' | 'tool_choice' | 'thinking' | 'output_config'> & { temperature?: number; top_p?: number }

type Effort = NonNullable<NonNullable<ThinkingBody['output_config']>['effort']>

/** OpenAI reasoning effort → Anthropic's output effort (`minimal` has none of its own). */
const EFFORT: Readonly<Record<string, Effort>> = { minimal: 'low', low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh' }

/** How a Claude model thinks on request, by its name (the catalog does not say). */
export type ThinkingMode = 'adaptive' | 'budget' | 'none'

export function thinkingMode(model: string): ThinkingMode {
  const claude3 = /claude-3-(\d)/.exec(model)
  if (claude3) return claude3[1] === '7' ? 'budget' : 'none'
  // claude-opus-4-1-20250805, claude-sonnet-4-20250514, claude-haiku-4-5: a minor version is one or two digits, a date eight.
  const version = /claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d{1,2})(?!\d))?/.exec(model)
  if (version && Number(version[1]) === 4 && Number(version[2] ?? 0) < 6) return 'budget'
  // 4.6 and later, Mythos, Fable, and a name that says nothing: adaptive, which every current model takes.
  return 'adaptive'
}

/**
 * The effort `model` takes for what was asked: Claude 4.6 has no `xhigh` (Opus 4.7 and later have it), so
 * an `xhigh` ask is sent as its highest, `max` (reported), not refused by Anthropic.
 */
function effortFor(model: string, ask: Ask, call: ProviderCall): Effort {
  if (ask.effort !== 'xhigh' || !/claude-(?:opus|sonnet|haiku)-4-6(?!\d)/.test(model)) return ask.effort
  call.unsupported(ask.param, `${model} has no 'xhigh' effort: sent its highest, 'max'`)
  return 'max'
}

/** The client's thinking ask: which field it came in, and its budget or effort. */
interface Ask {
  readonly param: 'thinking' | 'reasoning_effort'
  readonly budget: number
  readonly effort: Effort
}

function askOf(req: ChatRequest, call: ProviderCall): Ask | undefined {
  const hinted = thinkingAskOf(req)
  // An Anthropic client's budget (adaptive: its effort's), with its output_config.effort (as reasoning_effort) where it set one.
  if (hinted) return { param: 'thinking', budget: hinted.budget ?? EFFORT_BUDGET[hinted.effort], effort: EFFORT[req.reasoning_effort ?? ''] ?? hinted.effort }
  const effort = req.reasoning_effort
  if (effort === undefined || effort === null || effort === 'none') return undefined
  if (!EFFORT[effort]) {
    call.unsupported('reasoning_effort', `Anthropic has no effort '${effort}'`)
    return undefined
  }
  return { param: 'reasoning_effort', budget: EFFORT_BUDGET[effort], effort: EFFORT[effort] }
}

export interface ThinkingLimits {
  /** Whether the client set `max_tokens` (else `body.max_tokens` is the gateway's default, which may be raised). */
  readonly clientBound: boolean
  /** The most the model writes, when known. */
  readonly outputCap?: number
}

/** Set `body`'s thinking (and what it constrains) for what `req` asks; report what could not be kept. */
export function addThinking(req: ChatRequest, body: ThinkingBody, call: ProviderCall, limits: ThinkingLimits): void {
  const ask = askOf(req, call)
  if (!ask) return
  const mode = thinkingMode(body.model)
  if (mode === 'none') return call.unsupported(ask.param, `${body.model} cannot think`)
  const forced = body.tool_choice?.type === 'any' || body.tool_choice?.type === 'tool'
  if (forced) return call.unsupported(ask.param, 'Anthropic cannot think while tool_choice forces a tool call')
  if (lastToolTurnUnthought(body.messages)) {
    return call.unsupported(ask.param, 'the last assistant turn called tools without its thinking_blocks, which Anthropic wants back while thinking')
  }
  if (mode === 'adaptive') {
    body.thinking = { type: 'adaptive' }
    body.output_config = { ...body.output_config, effort: effortFor(body.model, ask, call) }
  } else {
    const budget = fitBudget(ask, body, call, limits)
    if (budget === undefined) return
    body.thinking = { type: 'enabled', budget_tokens: budget }
  }
  if (body.temperature !== undefined && body.temperature !== 1) {
    delete body.temperature
    call.unsupported('temperature', 'Anthropic takes no temperature but 1 while thinking')
  }
  if (body.top_p !== undefined && body.top_p < 0.95) {
    delete body.top_p
    call.unsupported('top_p', 'Anthropic takes top_p of 0.95 to 1 while thinking')
  }
}

/** The budget to send, `body.max_tokens` raised past it where the client set no bound; undefined (reported) when none fits. */
function fitBudget(ask: Ask, body: ThinkingBody, call: ProviderCall, limits: ThinkingLimits): number | undefined {
  let budget = Math.max(ask.budget, MIN_THINKING_BUDGET)
  if (budget < body.max_tokens) return budget
  if (!limits.clientBound) {
    // Room for the thinking and for the answer the default allowed, within what the model writes.
    body.max_tokens = Math.min(budget + body.max_tokens, limits.outputCap ?? Infinity)
    if (budget < body.max_tokens) return budget
  }
  budget = Math.max(MIN_THINKING_BUDGET, Math.floor(body.max_tokens / 2))
  if (budget >= body.max_tokens) {
    call.unsupported(ask.param, `max_tokens ${body.max_tokens} leaves no room for Anthropic's least thinking budget (${MIN_THINKING_BUDGET})`)
    return undefined
  }
  call.unsupported(ask.param, `a thinking budget of ${ask.budget} does not fit max_tokens ${body.max_tokens}: sent ${budget}`)
  return budget
}

/** Whether the conversation ends in a tool round whose assistant turn has no thinking block first. */
function lastToolTurnUnthought(messages: readonly MessageParam[]): boolean {
  let last: MessageParam | undefined
  for (let i = messages.length - 1; i >= 0 && !last; i--) if (messages[i].role === 'assistant') last = messages[i]
  if (!last || typeof last.content === 'string') return false
  const first = last.content[0]?.type
  return last.content.some((b) => b.type === 'tool_use') && first !== 'thinking' && first !== 'redacted_thinking'
}

/** An assistant message's `thinking_blocks` (LiteLLM's field, as the answer gave them) as Anthropic blocks; others (another provider's signature among them) skipped. */
export function thinkingBlockParams(blocks: unknown): ContentBlockParam[] {
  if (!Array.isArray(blocks)) return []
  return (blocks as ThinkingBlock[]).flatMap((b): ContentBlockParam[] => {
    if (b?.type === 'thinking' && b.origin === undefined && typeof b.thinking === 'string' && typeof b.signature === 'string') return [{ type: 'thinking', thinking: b.thinking, signature: b.signature }]
    if (b?.type === 'redacted_thinking' && typeof b.data === 'string') return [{ type: 'redacted_thinking', data: b.data }]
    return []
  })
}
