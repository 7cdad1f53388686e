/** Keeping the gateway's own secrets (provider keys) out of what a client sees. */
import { GatewayError } from '../errors.ts'

const REDACTED = '[redacted]'
/** Shorter values are not treated as secrets: redacting them would garble ordinary words. */
const MIN_SECRET = 6
/** A masked key: word characters, a run of mask characters, word characters. */
const MASKED = /([A-Za-z0-9_-]*)(?:\*{3,}|•{3,}|\.{3}|…)([A-Za-z0-9_-]*)/g
/** Config keys whose string values are secrets. */
const SECRET_KEY = /key|token|secret|password|authorization|credential/i

/** `text` without any of `secrets`, whole or masked. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  const usable = secrets.filter((s) => s.length >= MIN_SECRET)
  if (usable.length === 0) return text
  let out = text
  for (const secret of usable) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
  return out.replace(MASKED, (whole, head: string, tail: string) => {
    const masks = usable.some((s) => (head.length >= 3 && s.startsWith(head)) || (tail.length >= 4 && s.endsWith(tail)))
    return masks ? REDACTED : whole
  })
}

/** `error`, its message redacted of `secrets` (the same error when there was nothing to redact). */
export function redactError(error: GatewayError, secrets: readonly string[]): GatewayError {
  const message = redactSecrets(error.message, secrets)
  if (message === error.message) return error
  return new GatewayError(message, {
    status: error.status, code: error.code, type: error.type, param: error.param, headers: error.headers,
    details: error.details, retryable: error.retryable, upstreamStatus: error.upstreamStatus, cause: error.cause,
  })
}

const secretsByBlock = new WeakMap<object, readonly string[]>()

/** The secrets in a plugin's config block: values under keys that name one (api_key, token, authorization...), and a Bearer value's credential. */
export function secretsOf(block: unknown): readonly string[] {
  if (typeof block !== 'object' || block === null) return []
  let secrets = secretsByBlock.get(block)
  if (!secrets) {
    const found: string[] = []
    collect(block, false, found)
    secrets = found
    secretsByBlock.set(block, secrets)
  }
  return secrets
}

function collect(value: unknown, secret: boolean, found: string[]): void {
  if (typeof value === 'string') {
    if (!secret) return
    found.push(value)
    // "Bearer sk-..." : the upstream may echo the credential without its scheme.
    const parts = value.split(/\s+/)
    if (parts.length > 1) found.push(...parts.filter((p) => p.length >= MIN_SECRET))
    return
  }
  if (Array.isArray(value)) {
    for (const item of value) collect(item, secret, found)
    return
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) collect(item, secret || SECRET_KEY.test(key), found)
  }
}
