/** The published plugin API: `import { definePlugin, ... } from 'ai-gateway/plugin'`. */
export * from './types.ts'
export {
  GatewayError, badRequest, circuitOpen, clientClosed, conflict, forbidden, isRetryableStatus, notFound, redirectMessage, requestNotSent, retryAfterMs, toGatewayError, unauthorized, upstreamError,
  type ErrorType, type GatewayErrorOptions,
} from './errors.ts'
export * from './unified.ts'
export { pathSegment, pathSegments } from './kit/model-names.ts'
export { MAX_JSON_DEPTH, jsonDepthExceeds } from './kit/json-depth.ts'
export { embeddingInputs, estimateTextTokens, estimateTexts, promptTexts } from './kit/tokens.ts'
export { canonicalJson } from './kit/canonical.ts'
export { NamePatterns, globCovers, isGlob } from './kit/glob.ts'
export { withDeadline, within } from './kit/deadline.ts'
export { closest, didYouMean } from './kit/closest.ts'
export { redactSecrets } from './kit/secrets.ts'
export { randomUuid, timeOrderedUuid } from './kit/ids.ts'
export { LazyAbort, abortReason, isAborted, onAbort, type AbortSource } from './kit/abort.ts'
export { readMultipart } from './kit/multipart.ts'
export { namesUser } from './kit/user-names.ts'
export { ThrottledLog } from './kit/throttled-log.ts'
export type { Logger } from 'pino'
