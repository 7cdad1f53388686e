/**
 * A completion assembled from a streamed answer's chunks (kept only if every choice finished): the
 * cache keeps it (stage.cache), and so do stored chat completions (`store: true`).
 */
import { stopSequenceField, stopSequenceOf, type ChatChunk, type ChatResponse } from '../../plugin-api/index.ts'

interface ChoiceParts {
  content: string
  refusal: string
  calls: Map<number, { id: string; name: string; arguments: string }>
  finish: ChatResponse['choices'][number]['finish_reason'] | null
  stopSequence: string | null
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
      if (!parts) this.#choices.set(choice.index, (parts = { content: '', refusal: '', calls: new Map(), finish: null, stopSequence: null }))
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
      parts.stopSequence = stopSequenceOf(choice) ?? parts.stopSequence
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
        ...stopSequenceField(parts.stopSequence),
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
