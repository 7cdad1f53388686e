/**
 * Anthropic's wire, as more than one plugin speaks it: surface.anthropic (/v1/messages), surface.openai
 * (/v1/models to a client that sends `anthropic-version`) and provider.anthropic. One error body and
 * one list of API versions, read by all three.
 */
import type { ErrorResponse, ErrorType } from '@anthropic-ai/sdk/resources/shared'
import type { GatewayError } from '../../plugin-api/index.ts'

/**
 * The `anthropic-version`s that still take `temperature`, `top_p` and `top_k` (2026-10-21 removed them,
 * with stricter message content). A request to the gateway that names no version is read as one of these.
 */
export const ANTHROPIC_SAMPLING_VERSIONS: ReadonlySet<string> = new Set(['2023-01-01', '2023-06-01'])

/** Anthropic's error types, as its API documents them: the SDK's type lags (no `request_too_large`, Anthropic's 413). */
type AnthropicErrorType = ErrorType | 'request_too_large'

const ERROR_TYPE_BY_STATUS: Readonly<Record<number, AnthropicErrorType>> = {
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  504: 'timeout_error',
}

/**
 * Anthropic's error body, which its SDKs parse into typed errors by the HTTP status. The envelope has
 * no `param`: the field at fault goes in front of the message, as Anthropic's own errors name it
 * (`messages.0.role: ...`), unless the message names it already. An upstream out of capacity is
 * `overloaded_error` whoever it is: Anthropic's 529, and the 503 OpenAI-wire upstreams shed load with.
 */
export function anthropicErrorBody(error: GatewayError, requestId: string | null): ErrorResponse {
  const type: AnthropicErrorType = error.code === 'upstream_overloaded' || error.upstreamStatus === 503
    ? 'overloaded_error'
    : ERROR_TYPE_BY_STATUS[error.status] ?? (error.status >= 500 ? 'api_error' : 'invalid_request_error')
  const message = error.param && !error.message.includes(error.param) ? `${error.param}: ${error.message}` : error.message
  return { type: 'error', error: { type, message } as ErrorResponse['error'], request_id: requestId }
}
