/**
 * A failed answer in plain words: what happened and what to do, from the gateway's status and
 * code (`upstream_rate_limited`, `context_length_exceeded`, …), with its own message kept as the
 * detail for whoever reports it. A chat reader should not have to decode `upstream_error (502)`.
 */
import { ApiError } from '@/api/client'

export interface Failure {
  /** What went wrong and what to do, in a sentence or two. */
  readonly title: string
  /** The gateway's own words (and code), for a report. */
  readonly detail?: string
}

function wordsFor(status: number, code: string): string | undefined {
  if (code === 'unknown_url' && status === 404) return 'This gateway does not offer that (its Conversations API, `surfaces.responses`, is not enabled): ask an admin.'
  if (status === 429 || code.includes('rate_limit')) return 'The model got too many requests. Wait a moment and retry.'
  if (code.includes('budget') || code.includes('quota')) return 'The budget for this model is used up. Ask an admin, or pick another model.'
  if (code === 'context_length_exceeded' || code === 'message_too_long') return 'The conversation is too long for this model. Start a new chat, or pick a model with a larger context.'
  if (code === 'upstream_timeout' || status === 504) return "The model's provider did not answer in time. Retry, or pick another model."
  if (code.startsWith('upstream') || status === 502 || status === 503) return "The model's provider failed to answer. Retry, or pick another model."
  if (status === 401) return 'Your session has ended. Sign in again.'
  if (status === 403) return 'You may not use this model. Pick another one, or ask an admin.'
  if (status >= 500) return 'The gateway failed to answer. Retry in a moment.'
  return undefined
}

export function describeFailure(err: unknown): Failure {
  if (err instanceof ApiError) {
    const detail = `${err.message}${err.code && err.code !== 'error' ? ` (${err.code}${err.status ? `, ${err.status}` : ''})` : ''}`
    const title = wordsFor(err.status, err.code)
    return title ? { title, detail } : { title: err.message }
  }
  // fetch's own failure: no answer at all.
  if (err instanceof TypeError) return { title: 'The gateway could not be reached. Check your connection and retry.', detail: err.message }
  return { title: err instanceof Error ? err.message : String(err) }
}
