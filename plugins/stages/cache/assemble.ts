/**
 * Streams and completions, both ways: a stored completion replayed as the chunks a client that
 * streams expects, and a completion assembled from a streamed answer's chunks (kept only if every
 * choice finished).
 */
import type { ChatChunk, ChatResponse, ChatStream, ChatToolCall } from '../../../plugin-api/index.ts'

/** A stored completion as a stream: per choice its role, its text, its tool calls, its finish; then usage. */
export async function* replay(answer: ChatResponse, id: string, created: number): ChatStream {
  const base = { id, object: 'chat.completion.chunk' as const, created, model: answer.model, ...(answer.system_fingerprint ? { system_fingerprint: answer.system_fingerprint } : {}) }
  const chunk = (index: number, delta: ChatChunk['choices'][number]['delta'], finish: ChatChunk['choices'][number]['finish_reason'] = null): ChatChunk =>
    ({ ...base, choices: [{ index, delta, finish_reason: finish, logprobs: null }] })
  for (const choice of answer.choices) {
    const { message } = choice
    yield chunk(choice.index, { role: 'assistant', content: '' })
    if (message.content) yield chunk(choice.index, { content: message.content })
    if (message.refusal) yield chunk(choice.index, { refusal: message.refusal })
    const calls = (message.tool_calls ?? []).filter((c): c is Extract<ChatToolCall, { type: 'function' }> => c.type === 'function')
    if (calls.length) {
      yield chunk(choice.index, { tool_calls: calls.map((c, index) => ({ index, id: c.id, type: 'function' as const, function: { name: c.function.name, arguments: c.function.arguments } })) })
    }
    yield chunk(choice.index, {}, choice.finish_reason)
  }
  if (answer.usage) yield { ...base, choices: [], usage: answer.usage }
}

interface ChoiceParts {
  content: string
  refusal: string
  calls: Map<number, { id: string; name: string; arguments: string }>
  finish: ChatResponse['choices'][number]['finish_reason'] | null
}

/** A completion assembled from a stream's chunks; `completion()` is undefined unless every choice finished. */
export class StreamedAnswer {
  #head: ChatChunk | undefined
  #usage: ChatResponse['usage']
  readonly #choices = new Map<number, ChoiceParts>()

  add(chunk: ChatChunk): void {
    this.#head ??= chunk
    if (chunk.usage) this.#usage = chunk.usage
    for (const choice of chunk.choices) {
      let parts = this.#choices.get(choice.index)
      if (!parts) this.#choices.set(choice.index, (parts = { content: '', refusal: '', calls: new Map(), finish: null }))
      const { delta } = choice
      if (delta.content) parts.content += delta.content
      if (delta.refusal) parts.refusal += delta.refusal
      for (const call of delta.tool_calls ?? []) {
        const known = parts.calls.get(call.index)
        if (!known) parts.calls.set(call.index, { id: call.id ?? '', name: call.function?.name ?? '', arguments: call.function?.arguments ?? '' })
        else {
          if (call.id) known.id = call.id
          if (call.function?.name) known.name += call.function.name
          if (call.function?.arguments) known.arguments += call.function.arguments
        }
      }
      if (choice.finish_reason) parts.finish = choice.finish_reason
    }
  }

  completion(): ChatResponse | undefined {
    const head = this.#head
    if (!head || this.#choices.size === 0) return undefined
    const choices: ChatResponse['choices'] = []
    for (const [index, parts] of [...this.#choices].sort((a, b) => a[0] - b[0])) {
      if (!parts.finish) return undefined
      const calls = [...parts.calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } }))
      choices.push({
        index,
        message: { role: 'assistant', content: parts.content || (calls.length ? null : ''), refusal: parts.refusal || null, ...(calls.length ? { tool_calls: calls } : {}) },
        finish_reason: parts.finish,
        logprobs: null,
      })
    }
    return {
      id: head.id,
      object: 'chat.completion',
      created: head.created,
      model: head.model,
      choices,
      ...(this.#usage ? { usage: this.#usage } : {}),
      ...(head.system_fingerprint ? { system_fingerprint: head.system_fingerprint } : {}),
    }
  }
}
