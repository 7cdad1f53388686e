/**
 * Tool names through the unified API. Anthropic takes a tool name of up to 128 characters; OpenAI's
 * function names (the unified API's, and every OpenAI-compatible server's) have at most 64, and
 * Claude Code's MCP tools (`mcp__<plugin>_<server>__<tool>`) often pass that. A longer name goes out
 * as its first characters and a digest of the whole (one name, one short name, with no state: the
 * tool calls of a history still match its tools), and the answer's tool calls get the client's
 * names back from the request's tools.
 */
import { createHash } from 'node:crypto'

/** The longest function name OpenAI's API takes. */
const MAX_NAME = 64
/** Of a shortened name: this many characters of the digest (base64url: within OpenAI's [a-zA-Z0-9_-]), after a `_`. */
const DIGEST_CHARS = 11

/** `name` as the unified request carries it: unchanged up to 64 characters, else shortened. */
export function unifiedToolName(name: string): string {
  if (typeof name !== 'string' || name.length <= MAX_NAME) return name
  const digest = createHash('sha256').update(name).digest('base64url').slice(0, DIGEST_CHARS)
  return `${name.slice(0, MAX_NAME - DIGEST_CHARS - 1)}_${digest}`
}

const NONE: ReadonlyMap<string, string> = new Map()

/** The client's name of each tool whose name the unified request shortened: short → original (usually none). */
export function clientToolNames(body: { readonly tools?: unknown }): ReadonlyMap<string, string> {
  if (!Array.isArray(body?.tools)) return NONE
  let names: Map<string, string> | undefined
  for (const tool of body.tools as { name?: unknown }[]) {
    const name = tool?.name
    if (typeof name === 'string' && name.length > MAX_NAME) (names ??= new Map()).set(unifiedToolName(name), name)
  }
  return names ?? NONE
}
