/**
 * The published plugin API: `import { definePlugin, ... } from 'ai-gateway/plugin'`. Everything a
 * plugin may use of the kernel is here: the contract (each kind's interface, the context, the
 * capability tokens), the errors (recognised by shape: status, code, param, retryable), the
 * unified request and response types, and a few utilities every plugin would otherwise write again.
 * Built-in plugins import this module and nothing else of core/.
 */
export * from './types.ts'
export {
  GatewayError, badRequest, conflict, forbidden, isRetryableStatus, notFound, requestNotSent, toGatewayError, unauthorized, upstreamError,
  type ErrorType, type GatewayErrorOptions,
} from '../errors.ts'
export * from '../api/types.ts'
export { pathSegment, pathSegments } from '../api/model-names.ts'
export { MAX_JSON_DEPTH, jsonDepthExceeds } from '../api/json-depth.ts'
export type { ModelPrice } from '../usage/pricing.ts'
export { estimateTextTokens, estimateTexts, promptTexts } from '../usage/tokens.ts'
export { canonicalJson } from '../runtime/canonical.ts'
export { NamePatterns } from '../runtime/glob.ts'
export { withDeadline } from '../deadline.ts'
export { redactSecrets } from '../secrets.ts'
export { isUuid, jsonParam, pageOf, rethrowAsGatewayError, toNumber, toNumberOrNull, type Page } from '../data/sql.ts'
export type { Logger } from 'pino'
