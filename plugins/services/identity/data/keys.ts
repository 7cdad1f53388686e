/**
 * API keys as the store keeps them: a random secret shown once, its sha256 (what is stored and
 * looked up), and a short visible prefix. sha256 without a salt is enough here because the keys
 * are 192 random bits, not passwords; it keeps a lookup to one index probe.
 */
import { createHash, randomBytes } from 'node:crypto'

/** Characters of the key kept as its visible prefix (after `<kind>-`). */
const VISIBLE_CHARS = 8

export interface NewApiKey {
  /** The secret, to show the caller once. */
  readonly key: string
  readonly hash: string
  readonly prefix: string
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

export function apiKeyPrefix(key: string): string {
  const dash = key.indexOf('-')
  return key.slice(0, (dash >= 0 ? dash + 1 : 0) + VISIBLE_CHARS)
}

/** A new key like `gw-<32 base64url chars>`. */
export function newApiKey(kind = 'gw'): NewApiKey {
  const key = `${kind}-${randomBytes(24).toString('base64url')}`
  return { key, hash: hashApiKey(key), prefix: apiKeyPrefix(key) }
}
