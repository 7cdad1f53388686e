/**
 * `max_answer_mb`: how much of an upstream's answer a kit provider reads. The hot path's pooled
 * client enforces it in undici (wire-client.ts); the SDKs' calls off it (model lists, files,
 * fine-tuning) through their fetch, bounded here.
 */
import type { IncomingMessage } from 'node:http'
import type { JsonSchema } from '../../../plugin-api/index.ts'
import { upstreamFetch } from './egress.ts'

export const MB = 1024 * 1024

/**
 * The largest answer body read from an upstream, whole or streamed. Far above any real answer
 * (2,048 embeddings of 3,072 floats as JSON are ~125 MB; a 128k-token stream ~30 MB) and below
 * V8's largest string (~512 MB), which a whole answer is decoded into.
 */
export const DEFAULT_MAX_ANSWER_MB = 256

/** `max_answer_mb` in every kit provider's block: one definition, so one meaning. */
export const MAX_ANSWER_PROPERTY: JsonSchema = {
  type: 'integer', minimum: 1, maximum: 500, default: DEFAULT_MAX_ANSWER_MB,
  description: 'The largest answer body read from the upstream, in MiB, whole or streamed (error bodies too). Past it the gateway stops reading and answers 502 upstream_answer_too_large, so a broken upstream cannot exhaust the gateway\'s memory.',
}

/**
 * The answer's body passed the provider's `max_answer_mb`: the gateway stopped reading and closed
 * the connection, so an upstream that sends without end cannot grow the gateway's memory until the
 * host kills it (with every request in flight).
 */
export class UpstreamTooLargeError extends Error {
  constructor(readonly limitBytes: number, options?: { cause: unknown }) {
    super(`the upstream's answer passed max_answer_mb (${limitBytes / MB} MB); the gateway stopped reading it`, options)
    this.name = 'UpstreamTooLargeError'
  }
}

/** The UpstreamTooLargeError behind `err`, if one is: an SDK may wrap what its fetch threw. */
export function tooLargeIn(err: unknown): UpstreamTooLargeError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof UpstreamTooLargeError) return e
  }
  return undefined
}

/** A node:http answer destroyed (with UpstreamTooLargeError) once more than `maxBytes` of its body arrive. */
export function guardAnswer(res: IncomingMessage, maxBytes: number): void {
  if (Number(res.headers['content-length']) > maxBytes) return void res.destroy(new UpstreamTooLargeError(maxBytes))
  let seen = 0
  res.on('data', (chunk: Buffer) => {
    seen += chunk.length
    if (seen > maxBytes) res.destroy(new UpstreamTooLargeError(maxBytes))
  })
}

/** `fetch` whose answers' bodies error (UpstreamTooLargeError, the connection cancelled) past `maxBytes`. */
export function boundedFetch(fetchFn: typeof fetch, maxBytes: number): typeof fetch {
  return async (input, init) => {
    const res = await fetchFn(input, init)
    if (!res.body) return res
    if (Number(res.headers.get('content-length')) > maxBytes) {
      await res.body.cancel()
      throw new UpstreamTooLargeError(maxBytes)
    }
    let seen = 0
    const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength
        if (seen > maxBytes) controller.error(new UpstreamTooLargeError(maxBytes))
        else controller.enqueue(chunk)
      },
    }))
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers })
  }
}

/** upstreamFetch (the environment's proxy, redirects not followed) bounded by a provider's `max_answer_mb`: what the SDKs' calls go through. */
export function boundedUpstreamFetch(maxAnswerMb: number | undefined): typeof fetch {
  return boundedFetch(upstreamFetch, (maxAnswerMb ?? DEFAULT_MAX_ANSWER_MB) * MB)
}
