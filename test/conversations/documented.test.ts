/**
 * /api/v1/openapi.json documents what the threads and assistants routes answer: every route has a
 * response schema, and real answers (the envelope's `data`) validate against it, so a field added
 * to or renamed in a view without its schema fails here.
 */
import { describe, expect, it } from 'vitest'
import { documentedSuite } from '../helpers/documented.ts'
import { as, startConversations, type Who } from './helpers.ts'

describe('the documented answers of the threads and assistants routes', () => {
  const suite = documentedSuite({
    start: () => startConversations({ noSurface: true }),
    headers: as('alice'),
    prefixes: ['/api/v1/chat/', '/api/v1/assistants'],
    routes: 4,
  })

  /** Call a route as `who` and check its answer against the document's schema for its path, method and status. */
  const documented = (who: Who, method: string, path: string, body?: unknown): Promise<any> => suite.answers.call(method, path, as(who), body)

  it('answers as documented', async () => {
    const weather = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }
    const assistant = await documented('lead', 'POST', '/api/v1/assistants', {
      name: 'documented', route: 'chat-a', instructions: 'Be brief.', tools: [weather], context_policy: { strategy: 'summarize', max_context_tokens: 4000 },
    })
    await documented('alice', 'GET', '/api/v1/assistants')
    await documented('alice', 'GET', `/api/v1/assistants/${assistant.id}`)
    await documented('lead', 'PATCH', `/api/v1/assistants/${assistant.id}`, { description: 'Documented' })

    const thread = await documented('alice', 'POST', '/api/v1/chat/threads', { assistant_id: assistant.id, metadata: { topic: 'docs' } })
    await documented('alice', 'POST', `/api/v1/chat/threads/${thread.id}/messages`, { content: 'hello' })
    // A tool call and its result, the other shapes of a message.
    const call = await documented('alice', 'POST', `/api/v1/chat/threads/${thread.id}/messages`, { content: 'the weather in Paris?' })
    expect(call.reply[0]).toMatchObject({ type: 'tool_call', tool_call: { name: 'get_weather' } })
    const result = await documented('alice', 'POST', `/api/v1/chat/threads/${thread.id}/messages`, { tool_results: [{ call_id: call.reply[0].tool_call.id, output: 'sunny' }] })
    expect(result.messages[0]).toMatchObject({ type: 'tool_result', tool_call_id: call.reply[0].tool_call.id })
    await documented('alice', 'GET', '/api/v1/chat/threads')
    await documented('alice', 'GET', `/api/v1/chat/threads/${thread.id}`)
    await documented('alice', 'GET', `/api/v1/chat/threads/${thread.id}/messages?limit=2`)
    await documented('alice', 'PATCH', `/api/v1/chat/threads/${thread.id}`, { title: 'Renamed' })
    await documented('alice', 'DELETE', `/api/v1/chat/threads/${thread.id}`)
    await documented('lead', 'DELETE', `/api/v1/assistants/${assistant.id}`)
    expect(suite.answers.checked.size).toBe(12)
  })
})
