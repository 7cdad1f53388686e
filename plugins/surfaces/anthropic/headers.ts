/**
 * The request headers that are part of Anthropic's wire: `anthropic-version` says which version
 * of the API the body is written to, `anthropic-beta` which beta features it uses (Claude Code
 * sends several). A target that takes the request as it came gets them too (`ProviderCall.wireHeaders`);
 * a translated request has no use for them.
 */
const WIRE_HEADERS = ['anthropic-version', 'anthropic-beta'] as const

export function wireHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): Record<string, string> | undefined {
  let out: Record<string, string> | undefined
  for (const name of WIRE_HEADERS) {
    const value = headers[name]
    const text = Array.isArray(value) ? value.join(',') : value
    if (text) (out ??= {})[name] = text
  }
  return out
}

/** The API version the request's body is written to (`anthropic-version`), if it names one. */
export function anthropicVersion(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const value = headers['anthropic-version']
  return Array.isArray(value) ? value[0] : value
}
