/**
 * What a request may cost at most, reserved from its budgets at admission: its prompt estimate
 * plus the most it may answer (max_tokens × n; else the model's max_output_tokens from the
 * catalog or `pricing:`; else `limits.budget_default_max_tokens`; a metered native call, as an
 * image, what its caller estimated: NativeOptions.estimate), priced at the dearest target its
 * route may reach (a fallback may end on it). The actual cost replaces it when the response ends.
 */
import type { StageExchange } from '../../../plugin-api/index.ts'

export interface CostEstimate {
  readonly usd: number
  /** Whether the client bounded the answer (max_tokens): if not, a refusal suggests it. */
  readonly bounded: boolean
}

export function estimateCost(x: StageExchange, defaultMaxTokens: number): CostEstimate {
  const { prompt, completion } = x.estimate
  // Embeddings answer no tokens; a chat request without max_tokens may answer up to the model's cap.
  const bounded = x.operation !== 'chat' || completion > 0
  let usd = 0
  for (const target of x.route!.targets) {
    const model = target.model ?? x.requestedModel
    const answer = bounded ? completion : x.maxOutputTokens(model) ?? defaultMaxTokens
    const cost = x.cost(model, { prompt, completion: answer })
    if (cost > usd) usd = cost
  }
  return { usd, bounded }
}
