/**
 * What Groq's chat API cannot honour, as data. Sources: Groq's "OpenAI Compatibility" page
 * (logprobs, logit_bias, top_logprobs, messages[].name and n > 1 are rejected with a 400) and the
 * groq-sdk's CompletionCreateParams (penalties, store and metadata "not yet supported"; its own
 * reasoning_effort and service_tier values; no stream_options).
 */
import type { ParamRules } from '../kit/openai-wire.ts'

const isNonEmptyObject = (v: unknown): boolean => typeof v === 'object' && v !== null && Object.keys(v).length > 0
const NOT_YET = 'accepted by Groq but not yet supported by any of its models'

/** Groq's reasoning_effort values; OpenAI's `minimal` and `xhigh` have no Groq counterpart. */
const GROQ_REASONING_EFFORTS: ReadonlySet<unknown> = new Set(['none', 'default', 'low', 'medium', 'high'])

/** OpenAI's service tiers that have a Groq counterpart, and its name there. */
export const GROQ_SERVICE_TIERS: Readonly<Record<string, string>> = { auto: 'auto', default: 'on_demand', flex: 'flex' }

export const GROQ_UNSUPPORTED: ParamRules = {
  logprobs: { unsupported: (v) => v === true, message: 'Groq rejects logprobs', rejectsField: true },
  top_logprobs: { unsupported: () => true, message: 'Groq rejects top_logprobs', rejectsField: true },
  logit_bias: { unsupported: isNonEmptyObject, message: 'Groq rejects logit_bias', rejectsField: true },
  n: { unsupported: (v) => v !== 1, message: 'Groq generates one choice (n must be 1)' },
  presence_penalty: { unsupported: (v) => v !== 0, message: NOT_YET },
  frequency_penalty: { unsupported: (v) => v !== 0, message: NOT_YET },
  store: { unsupported: (v) => v === true, message: 'Groq does not store completions', rejectsField: true },
  metadata: { unsupported: isNonEmptyObject, message: 'Groq does not take completion metadata', rejectsField: true },
  reasoning_effort: { unsupported: (v) => !GROQ_REASONING_EFFORTS.has(v), message: 'Groq takes none, default, low, medium or high' },
  service_tier: { unsupported: (v) => typeof v !== 'string' || !(v in GROQ_SERVICE_TIERS), message: 'Groq has no such service tier' },
  modalities: { unsupported: (v) => Array.isArray(v) && v.some((m) => m !== 'text'), message: 'Groq chat answers in text only', rejectsField: true },
  audio: { unsupported: () => true, message: 'Groq chat has no audio output' },
  prediction: { unsupported: () => true, message: 'Groq has no predicted outputs' },
  web_search_options: { unsupported: () => true, message: 'Groq has no web_search_options (use its compound models)' },
  verbosity: { unsupported: () => true, message: 'Groq has no verbosity setting' },
}

export const GROQ_UNSUPPORTED_IN_EMBEDDINGS: ParamRules = {
  dimensions: { unsupported: () => true, message: 'Groq embeddings have a fixed size' },
}
