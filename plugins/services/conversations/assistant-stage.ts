/**
 * stage.assistants: a chat request whose `model` is `assistant/<name>` is the assistant's: its
 * route answers, its instructions come first, its tools and default parameters apply (what the
 * client sets itself wins). The assistant must be the caller's department's or a global one.
 * An assistant with attached collections is grounded: passages for the last user message,
 * searched as the caller, go into its instructions numbered [n], and the answer lists them as
 * `sources` (a stream: on the chunk that carries the finish_reason). Runs in the `request` phase, before routing; without the conversations service it
 * does nothing.
 */
import { definePlugin, isChatStream, notFound, type ChatMessage, type ChatRequest, type ChatChunk, type ChatResponse, type ChatResult, type ChatStream, type Stage, type StageExchange } from '../../../plugin-api/index.ts'
import { Conversations, type AssistantRecord, type Passage } from '../../contracts/conversations.ts'
import { passageInstructions, sourcesOf } from './grounding.ts'

export const ASSISTANT_PREFIX = 'assistant/'

/** The request as the assistant makes it. */
export function applyAssistant(request: ChatRequest, assistant: AssistantRecord): ChatRequest {
  const own = new Set((request.tools ?? []).map((t) => (t.type === 'function' ? t.function.name : '')))
  const tools = [...assistant.tools.filter((t) => t.type !== 'function' || !own.has(t.function.name)), ...(request.tools ?? [])]
  const { params } = assistant
  return {
    ...request,
    model: assistant.route,
    messages: assistant.instructions ? [{ role: 'system', content: assistant.instructions }, ...request.messages] : request.messages,
    ...(tools.length ? { tools } : {}),
    ...(request.temperature === undefined && params.temperature !== undefined ? { temperature: params.temperature } : {}),
    ...(request.top_p === undefined && params.top_p !== undefined ? { top_p: params.top_p } : {}),
    ...(request.max_tokens === undefined && request.max_completion_tokens === undefined && params.max_tokens !== undefined ? { max_tokens: params.max_tokens } : {}),
  } as ChatRequest
}

export default definePlugin<Record<string, never>, Stage>({
  id: 'stage.assistants',
  kind: 'stage',
  enabledByDefault: true,
  description: '`model: assistant/<name>`: the assistant\'s route, instructions, tools and defaults.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  uses: [Conversations],
  setup(ctx) {
    const conversations = ctx.tryGet(Conversations)
    if (!conversations) return {}
    const grounded = new WeakMap<StageExchange, readonly Passage[]>()
    return {
      priority: 2000,
      async request(x: StageExchange) {
        const request = x.request as ChatRequest
        if (typeof request.model !== 'string' || !request.model.startsWith(ASSISTANT_PREFIX)) return
        const name = request.model.slice(ASSISTANT_PREFIX.length)
        const assistant = await conversations.assistants.byName(name, x.principal?.department ?? null)
        if (!assistant) throw notFound(`The model '${request.model}' does not exist or you do not have access to it.`, 'model_not_found', 'model')
        const applied = applyAssistant(request, assistant)
        const passages = await retrieve(x, assistant, applied)
        if (!passages.length) return x.replace(applied)
        grounded.set(x, passages)
        x.requireTranslation()
        x.replace({ ...applied, messages: [{ role: 'system', content: passageInstructions(passages) }, ...applied.messages] })
      },
      response(x: StageExchange, result) {
        const passages = grounded.get(x)
        if (!passages) return
        if (isChatStream(result as ChatResult)) return withSources(result as ChatStream, passages)
        if (!('choices' in result)) return
        const answer = result as ChatResponse
        return { ...answer, sources: sourcesOf(answer.choices[0]?.message.content ?? '', passages) } as ChatResponse
      },
    }

    async function retrieve(x: StageExchange, assistant: AssistantRecord, request: ChatRequest): Promise<readonly Passage[]> {
      const grounding = conversations!.grounding()
      const query = lastUserContent(request.messages)
      if (!assistant.ragCollections.length || !grounding || !x.caller || !query.trim()) return []
      const { passages } = await grounding.retrieve(assistant.ragCollections, query, { caller: x.caller, gateway: x.gateway, signal: x.signal })
      return passages ?? []
    }
  },
})

/** The stream as it comes, its finishing chunk with the sources its text cites (the same shape as an answer's). */
async function* withSources(stream: ChatStream, passages: readonly Passage[]): ChatStream {
  let text = ''
  for await (const chunk of stream) {
    const choice = chunk.choices[0]
    text += choice?.delta?.content ?? ''
    yield choice?.finish_reason ? { ...chunk, sources: sourcesOf(text, passages) } as ChatChunk : chunk
  }
}

function lastUserContent(messages: readonly ChatMessage[]): string {
  const last = [...messages].reverse().find((m) => m.role === 'user')
  if (!last || last.content === null || last.content === undefined) return ''
  if (typeof last.content === 'string') return last.content
  return last.content.map((p) => ('text' in p && typeof p.text === 'string' ? p.text : '')).join('\n')
}
