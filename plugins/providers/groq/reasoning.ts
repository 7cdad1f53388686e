/**
 * Reasoning on Groq, per model (groq-sdk's CompletionCreateParams): qwen3-32b takes `reasoning_effort`
 * `none` or `default` only, and without `reasoning_format: parsed` writes its thinking into the answer
 * inside <think> tags; gpt-oss takes low, medium or high (it cannot stop thinking) and returns its
 * reasoning apart by default. Asked-for thinking comes back as `message.reasoning`, which the kit
 * hands on as `reasoning_content`, as from every provider.
 */
import type { ChatRequest, ProviderCall } from '../../../plugin-api/index.ts'
import { thinkingAsReasoningEffort, thinkingOf } from '../../contracts/thinking.ts'

/** Groq's qwen3 models with the on/off effort only (not qwen3.8-27b, which also takes low/medium/high). */
const ON_OFF_REASONING = /qwen3-32b/
const GPT_OSS = /gpt-oss/

type GroqReasoning = ChatRequest & { reasoning_format?: unknown; include_reasoning?: unknown }

/**
 * The request's thinking in the model's terms: on qwen3-32b an effort (or an Anthropic client's
 * thinking) as `default` and `reasoning_format: parsed` unless the client chose how reasoning comes back;
 * on gpt-oss `none` reported (it always thinks) and `default` left to the model. Other models as every
 * OpenAI-wire model (contracts/thinking.ts). A copy only when it changes something.
 */
export function groqThinking(req: ChatRequest, call: ProviderCall): ChatRequest {
  // Groq's own `default` arrives as a string the OpenAI types do not name.
  const effort = req.reasoning_effort as string | null | undefined
  // Most requests ask for no thinking: nothing to look at.
  const asked = effort ?? thinkingOf(req)
  if (asked == null) return req
  if (ON_OFF_REASONING.test(req.model)) {
    if (asked === 'none') return req
    if (asked !== 'default' && effort != null) call.unsupported('reasoning_effort', `${req.model} thinks at one depth: sent 'default'`)
    const body: GroqReasoning = { ...req, reasoning_effort: 'default' as ChatRequest['reasoning_effort'] }
    if (!('reasoning_format' in req) && !('include_reasoning' in req)) body.reasoning_format = 'parsed'
    return body
  }
  if (GPT_OSS.test(req.model) && (effort === 'none' || effort === 'default')) {
    if (effort === 'none') call.unsupported('reasoning_effort', `${req.model} cannot stop thinking`)
    const { reasoning_effort: _modelDefault, ...body } = req
    return body as ChatRequest
  }
  return thinkingAsReasoningEffort(req, call)
}
