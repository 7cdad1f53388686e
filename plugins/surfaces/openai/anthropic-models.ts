/**
 * `GET /v1/models` is one path for two wires: OpenAI's SDKs and Anthropic's both call it. A request
 * with `anthropic-version` (Anthropic's SDKs always send it; OpenAI's never do) gets Anthropic's
 * shapes, so `client.models.list()` / `retrieve()` read every field they expect; everything else
 * gets OpenAI's. The routes carry no release date or limits, so those are the epoch and null.
 */
import type { ModelInfo } from '@anthropic-ai/sdk/resources/models'

/** "May be set to an epoch value if the release date is unknown" (Anthropic's reference). */
const UNKNOWN_RELEASE = new Date(0).toISOString()

export const wantsAnthropicShape = (headers: Readonly<Record<string, string | string[] | undefined>>): boolean => headers['anthropic-version'] !== undefined

export function anthropicModel(id: string): ModelInfo {
  return {
    id, type: 'model', display_name: id, created_at: UNKNOWN_RELEASE,
    capabilities: null, deprecated_at: null, lifecycle: 'active', line: null, max_input_tokens: null, max_tokens: null, retires_at: null,
  }
}

/** The whole list as one page: `has_more` false, so the SDK's auto-pagination stops after it. */
export function anthropicModelList(ids: readonly string[]): { data: ModelInfo[]; has_more: boolean; first_id: string | null; last_id: string | null } {
  return { data: ids.map(anthropicModel), has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null }
}
