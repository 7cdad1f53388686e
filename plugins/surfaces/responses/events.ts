/**
 * A streamed turn as the Responses API's event stream: response.created and .in_progress, then per
 * output item output_item.added, (content_part.added, reasoning_text.delta... [each followed by
 * its reasoning_summary_text.delta when the client asked for a summary, after a
 * reasoning_summary_part.added], reasoning_text.done, content_part.done [reasoning_summary_text.done,
 * reasoning_summary_part.done] | content_part.added, output_text.delta... with
 * output_text.annotation.added after the delta that closes a citation, output_text.done,
 * content_part.done | function_call_arguments.delta..., .done | file_search_call.in_progress,
 * .searching, .completed), output_item.done, and finally
 * response.completed (or .incomplete / .failed: a stream the model broke off ends with the failed
 * response). Every event carries its sequence_number, from 0 without a gap.
 */
import { toGatewayError, type GatewayError, type SseFrame } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import type { TurnStream } from '../../contracts/conversations.ts'
import { itemShown, responseShown, type Include } from './include.ts'

// A cancelled background response ends as failed does (no event of its own), its status saying why.
const FINAL: Record<string, string> = { completed: 'response.completed', incomplete: 'response.incomplete', failed: 'response.failed', cancelled: 'response.failed' }

/** `include`: what the caller asked to see (a file search's results), in items and Response objects alike. */
export async function* responseEvents(turn: TurnStream, include: Include): AsyncGenerator<SseFrame> {
  let sequence = 0
  const frame: Frame = (type, fields) => ({ event: type, data: JSON.stringify({ type, ...fields, sequence_number: sequence++ }) })
  const draft = responseShown(turn.draft(), include)
  yield frame('response.created', { response: draft })
  // A background response is created queued: it says so, then that it runs.
  if (draft.status === 'queued') yield frame('response.queued', { response: draft })
  yield frame('response.in_progress', { response: { ...draft, status: 'in_progress' } })
  try {
    yield* turnFrames(turn, frame, include, (draft.reasoning as JsonObject | null | undefined)?.summary != null)
  } catch (err) {
    // A stream the model broke off is a failed response, kept as such: say so with the Response
    // object (the SDK's stream helper takes it as the final one), numbered on like every event.
    const failed = await turn.response().catch(() => undefined)
    if (failed?.status === 'failed') yield frame('response.failed', { response: responseShown(failed, include) })
    else yield frame('error', errorFields(toGatewayError(err)))
    return
  }
  const response = responseShown(await turn.response(), include)
  yield frame(FINAL[String(response.status)] ?? 'response.completed', { response })
}

type Frame = (type: string, fields: JsonObject) => SseFrame

/** The output items' events, as the turn reports them; a reasoning item's summary events only when `summarise` (the client asked for `reasoning.summary`). */
async function* turnFrames(turn: TurnStream, frame: Frame, include: Include, summarise: boolean): AsyncGenerator<SseFrame> {
  const part = (text: string) => ({ type: 'output_text', text, annotations: [], logprobs: [] })
  const logprobs = include.has('message.output_text.logprobs')
  // Reasoning items whose content part (and summary part) has begun, with their first text, as OpenAI begins them.
  const thinking = new Set<string>()
  const summary = (text: string) => ({ type: 'summary_text', text })
  const reasoning = (text: string) => ({ type: 'reasoning_text', text })
  for await (const event of turn.events!) {
    switch (event.type) {
      case 'item.added':
        yield frame('response.output_item.added', { output_index: event.index, item: itemShown(event.item, include) })
        if (event.item.type === 'message') yield frame('response.content_part.added', { item_id: event.item.id, output_index: event.index, content_index: 0, part: part('') })
        if (event.item.type === 'file_search_call') yield frame('response.file_search_call.in_progress', { item_id: event.item.id, output_index: event.index })
        break
      case 'text.delta':
        yield frame('response.output_text.delta', { item_id: event.itemId, output_index: event.index, content_index: 0, delta: event.delta, logprobs: (logprobs && event.logprobs) || [] })
        break
      case 'reasoning.delta': {
        const at = { item_id: event.itemId, output_index: event.index }
        if (!thinking.has(event.itemId)) {
          thinking.add(event.itemId)
          yield frame('response.content_part.added', { ...at, content_index: 0, part: reasoning('') })
          if (summarise) yield frame('response.reasoning_summary_part.added', { ...at, summary_index: 0, part: summary('') })
        }
        yield frame('response.reasoning_text.delta', { ...at, content_index: 0, delta: event.delta })
        if (summarise) yield frame('response.reasoning_summary_text.delta', { ...at, summary_index: 0, delta: event.delta })
        break
      }
      case 'annotation.added':
        yield frame('response.output_text.annotation.added', { item_id: event.itemId, output_index: event.index, content_index: 0, annotation_index: event.annotationIndex, annotation: event.annotation })
        break
      case 'arguments.delta':
        yield frame('response.function_call_arguments.delta', { item_id: event.itemId, output_index: event.index, delta: event.delta })
        break
      case 'item.done': {
        const item = itemShown(event.item, include)
        if (item.type === 'message') {
          const done = (item.content as JsonObject[])[0]
          const text = (done?.text as string | undefined) ?? ''
          yield frame('response.output_text.done', { item_id: item.id, output_index: event.index, content_index: 0, text, logprobs: done?.logprobs ?? [] })
          yield frame('response.content_part.done', { item_id: item.id, output_index: event.index, content_index: 0, part: done ?? part(text) })
        } else if (item.type === 'reasoning' && thinking.has(item.id as string)) {
          const at = { item_id: item.id, output_index: event.index }
          const text = ((item.content as JsonObject[] | undefined)?.[0]?.text as string | undefined) ?? ''
          yield frame('response.reasoning_text.done', { ...at, content_index: 0, text })
          yield frame('response.content_part.done', { ...at, content_index: 0, part: reasoning(text) })
          if (summarise) {
            yield frame('response.reasoning_summary_text.done', { ...at, summary_index: 0, text })
            yield frame('response.reasoning_summary_part.done', { ...at, summary_index: 0, part: summary(text) })
          }
        } else if (item.type === 'function_call') {
          yield frame('response.function_call_arguments.done', { item_id: item.id, output_index: event.index, name: item.name, arguments: item.arguments })
        } else if (item.type === 'file_search_call') {
          // The search ran before the model was called: its events come one after the other.
          yield frame('response.file_search_call.searching', { item_id: item.id, output_index: event.index })
          yield frame('response.file_search_call.completed', { item_id: item.id, output_index: event.index })
        }
        yield frame('response.output_item.done', { output_index: event.index, item })
        break
      }
    }
  }
}

const errorFields = (error: GatewayError): JsonObject => ({ code: error.code ?? error.type, message: error.message, param: error.param ?? null })

/** An error the stream could not number (the events above catch their own), as the Responses stream writes it. */
export const errorEvent = (error: GatewayError): SseFrame => ({
  event: 'error',
  data: JSON.stringify({ type: 'error', ...errorFields(error), sequence_number: 0 }),
})
