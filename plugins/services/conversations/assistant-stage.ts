/**
 * stage.assistants: a chat request whose `model` is `assistant/<name>` is the assistant's: its
 * route answers, its instructions come first, its tools and default parameters apply (what the
 * client sets itself wins). The assistant must be the caller's department's or a global one.
 * Runs in the `request` phase, before routing; without the conversations service it does nothing.
 */
import { definePlugin, notFound, type ChatRequest, type Stage, type StageExchange } from '../../../core/plugins/api.ts'
import { Conversations, type AssistantRecord } from '../../contracts/conversations.ts'

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
    return {
      priority: 2000,
      async request(x: StageExchange) {
        const request = x.request as ChatRequest
        if (typeof request.model !== 'string' || !request.model.startsWith(ASSISTANT_PREFIX)) return
        const name = request.model.slice(ASSISTANT_PREFIX.length)
        const assistant = await conversations.assistants.byName(name, x.principal?.department ?? null)
        if (!assistant) throw notFound(`The model '${request.model}' does not exist or you do not have access to it.`, 'model_not_found', 'model')
        x.replace(applyAssistant(request, assistant))
      },
    }
  },
})
