/**
 * One gateway config reaching each non-OpenAI provider (and Azure OpenAI) at one origin, and each
 * one's whole answer by the path it calls: for tests that hold every provider to the same rule.
 */
import { message, MODEL, text } from './anthropic/anthropic-upstream.ts'
import { generateResponse } from './gemini/gemini-upstream.ts'
import { completion } from './mistral/mistral-upstream.ts'

export const ANSWER = 'Hello from upstream.'

const AZURE_COMPLETION = {
  id: 'chatcmpl-1', object: 'chat.completion', created: 1700000000, model: 'gpt-4o',
  choices: [{ index: 0, message: { role: 'assistant', content: ANSWER, refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
}

/** Routes `claude`, `gemini`, `mistral` and `azure`, each to that provider at `origin`. */
export function everyProviderConfig(origin: string): string {
  return `
version: 1
providers:
  claude: { plugin: anthropic, api_key: sk-ant-test, base_url: "${origin}" }
  gemini: { plugin: gemini, api_key: g-test, base_url: "${origin}" }
  mistral: { plugin: mistral, api_key: m-test, base_url: "${origin}" }
  azure: { plugin: openai-compatible, api_key: az-test, base_url: "${origin}", api_version: "2024-10-21" }
routes:
  - { model: claude, targets: [ { provider: claude, model: ${MODEL} } ] }
  - { model: gemini, targets: [ { provider: gemini, model: gemini-2.5-flash } ] }
  - { model: mistral, targets: [ { provider: mistral, model: mistral-small-latest } ] }
  - { model: azure, targets: [ { provider: azure, model: gpt-4o } ] }
`
}

/** The whole answer (saying ANSWER) of the provider that calls `path`; Gemini's stream path gets its JSON array. */
export function wholeAnswerFor(path: string): unknown {
  return path.startsWith('/v1/messages') ? message([text(ANSWER)])
    : path.includes(':generateContent') ? generateResponse([{ text: ANSWER }])
    : path.includes(':streamGenerateContent') ? [generateResponse([{ text: ANSWER }])]
    : path.startsWith('/openai/') ? AZURE_COMPLETION
    : completion({ content: ANSWER })
}
