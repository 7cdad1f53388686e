/**
 * Of a request's headers, those work started by it is later routed with (routes' `when: { headers }`),
 * as the same request sent directly would be: not its credentials (kept with a batch, or in memory
 * for a background response's run, they would outlive a revoked key) nor what describes that
 * request's own body. Batches keep them with the batch; /v1/responses turns route with them.
 */
export function routingHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NOT_ROUTING.test(name) || CREDENTIAL.test(name)) continue
    kept[name] = value
  }
  return kept
}

const NOT_ROUTING = /^(host|connection|keep-alive|transfer-encoding|te|upgrade|expect|content-.*|accept-encoding)$/
const CREDENTIAL = /authorization|cookie|api-key|token|secret|password/
