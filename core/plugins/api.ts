/** The published plugin API: `import { definePlugin, ... } from 'ai-gateway/plugin'`. */
export * from './types.ts'
export {
  GatewayError, badRequest, conflict, forbidden, isRetryableStatus, notFound, requestNotSent, retryAfterMs, toGatewayError, unauthorized, upstreamError,
  type ErrorType, type GatewayErrorOptions,
} from '../errors.ts'
export * from '../api/types.ts'
export { pathSegment, pathSegments } from '../api/model-names.ts'
export { MAX_JSON_DEPTH, jsonDepthExceeds } from '../api/json-depth.ts'
export { estimateTextTokens, estimateTexts, promptTexts } from '../usage/tokens.ts'
export { canonicalJson } from '../runtime/canonical.ts'
export { NamePatterns } from '../runtime/glob.ts'
export { withDeadline, within } from '../deadline.ts'
export { closest } from '../closest.ts'
export { redactSecrets } from '../secrets.ts'
export type { Logger } from 'pino'
