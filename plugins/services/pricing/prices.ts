/**
 * Prices per model, from the shipped catalog (config/models.json) with overrides from
 * gateway.yaml `pricing:`, and the cost of a request's usage in USD.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Pricing } from '../../../plugin-api/index.ts'

/** USD per 1M tokens. */
export interface ModelPrice {
  readonly input: number
  readonly output: number
  /** Cached prompt tokens (prompt_tokens_details.cached_tokens); defaults to `input`. */
  readonly cached_input?: number
  /** Prompt tokens written to the provider's cache (prompt_tokens_details.cache_write_tokens; Anthropic bills 1.25x input for its 5-minute cache); defaults to `input`. */
  readonly cache_write_input?: number
  /** Of those, the ones written to a 1-hour cache (prompt_tokens_details.cache_write_1h_tokens; Anthropic bills 2x input); defaults to `cache_write_input`. */
  readonly cache_write_1h_input?: number
  /** Output-token limit: what a request without max_tokens may cost at most (budget reservations), for providers that require max_tokens. */
  readonly max_output_tokens?: number
  /** Input and output tokens the model holds at once (what a conversation's history is fitted into). */
  readonly context_window?: number
  /** A batch line's price as a fraction of this one, for every token kind (0.5: half); default its provider's rate in `pricing: { batch: }`, else 1. */
  readonly batch?: number
  /** A batch line's input and output prices where they are not `batch` × these; cached and cache-write tokens scale as input does. */
  readonly batch_input?: number
  readonly batch_output?: number
}

/** gateway.yaml `pricing:`: prices by model name, and `batch`: the batch rate by catalog provider (`{ openai: 0.5 }`). */
export type PricingConfig = Readonly<Record<string, ModelPrice>> & { readonly batch?: Readonly<Record<string, number>> }

export interface CatalogEntry extends ModelPrice {
  readonly provider: string
}

interface Catalog {
  readonly as_of: string
  readonly sources: Record<string, string>
  readonly models: Record<string, CatalogEntry>
}

export const MODEL_CATALOG: Catalog = JSON.parse(readFileSync(fileURLToPath(new URL('../../../config/models.json', import.meta.url)), 'utf8')) as Catalog

export interface TokenCounts {
  readonly prompt: number
  readonly completion: number
  /** Of the prompt tokens, how many were read from the provider's prompt cache. */
  readonly cached?: number
  /** Of the prompt tokens, how many were written to it. */
  readonly cacheWrite?: number
  /** Of those written, how many to a 1-hour cache (priced apart where the model has `cache_write_1h_input`). */
  readonly cacheWrite1h?: number
}

/** The most unpriced model names told about (a glob route passes clients' names on). */
const MAX_UNPRICED_TOLD = 1000

/**
 * No batch discount unless gateway.yaml sets one: the batch worker sends each line to the provider's interactive API
 * (not its Batch API), which bills it at the interactive price, so that is what a line costs the gateway. A discount set
 * in `pricing: { batch: }` is what the gateway charges its users for batch lines (a chargeback rate), not the provider's bill.
 */
const DEFAULT_BATCH_RATES: Readonly<Record<string, number>> = {}

export class PriceTable implements Pricing {
  readonly #prices = new Map<string, ModelPrice>()
  /** A price → its batch price, made once (the catalog's entries live as long as the table). */
  readonly #batchPrices = new Map<ModelPrice, ModelPrice>()
  readonly #batchRates: Readonly<Record<string, number>>
  readonly #providers = new Map<ModelPrice, string>()
  /** Model name → price (or null), after dated-version and provider-prefix matching. */
  readonly #resolved = new Map<string, ModelPrice | null>()
  readonly #onUnpriced: ((model: string) => void) | undefined
  /** Models `onUnpriced` was told about: once each. */
  readonly #told = new Set<string>()

  /** `onUnpriced` hears once of each model whose tokens were priced at 0 for want of a price. */
  constructor(config: PricingConfig = {}, onUnpriced?: (model: string) => void) {
    const { batch, ...overrides } = config
    for (const [name, entry] of Object.entries(MODEL_CATALOG.models)) this.#set(name, entry, entry.provider)
    // An override of a catalog model keeps its provider, whose batch rate it takes.
    for (const [name, entry] of Object.entries(overrides)) this.#set(name, entry, MODEL_CATALOG.models[name]?.provider)
    this.#batchRates = { ...DEFAULT_BATCH_RATES, ...batch }
    this.#onUnpriced = onUnpriced
  }

  #set(name: string, price: ModelPrice, provider: string | undefined): void {
    this.#prices.set(name, price)
    if (provider) this.#providers.set(price, provider)
  }

  /**
   * The price of `model`: an exact entry, else the longest catalog name it starts with
   * (`gpt-4o-2024-08-06` → `gpt-4o`), after dropping a `provider/` prefix (as aggregators name models).
   */
  price(model: string | undefined): ModelPrice | undefined {
    if (!model) return undefined
    let found = this.#resolved.get(model)
    if (found === undefined) {
      found = this.#lookup(model) ?? this.#lookup(model.slice(model.lastIndexOf('/') + 1)) ?? null
      if (this.#resolved.size > 10_000) this.#resolved.clear()
      this.#resolved.set(model, found)
    }
    return found ?? undefined
  }

  /** Cost in USD, at the batch price for a batch line; 0 for a model without a price (and the caller may log that). */
  cost(model: string | undefined, tokens: TokenCounts, batch?: boolean): number {
    let price = this.price(model)
    if (!price) {
      if (model && tokens.prompt + tokens.completion > 0) this.#tell(model)
      return 0
    }
    if (batch) price = this.batchPrice(price)
    const cached = Math.min(tokens.cached ?? 0, tokens.prompt)
    const written = Math.min(tokens.cacheWrite ?? 0, tokens.prompt - cached)
    const written1h = Math.min(tokens.cacheWrite1h ?? 0, written)
    const uncached = tokens.prompt - cached - written
    const writePrice = price.cache_write_input ?? price.input
    return (uncached * price.input + cached * (price.cached_input ?? price.input) + (written - written1h) * writePrice + written1h * (price.cache_write_1h_input ?? writePrice) + tokens.completion * price.output) / 1_000_000
  }

  /** What a batch line pays at `price`: its batch_input/batch_output, else `batch` (or its provider's rate) × every token price. */
  batchPrice(price: ModelPrice): ModelPrice {
    let found = this.#batchPrices.get(price)
    if (!found) {
      const provider = this.#providers.get(price)
      const rate = price.batch ?? (provider === undefined ? undefined : this.#batchRates[provider]) ?? 1
      const inputRate = price.batch_input === undefined ? rate : price.input > 0 ? price.batch_input / price.input : 0
      const scale = (usd: number | undefined, by: number): number | undefined => usd === undefined ? undefined : usd * by
      found = {
        ...price, input: price.batch_input ?? price.input * rate, output: price.batch_output ?? price.output * rate,
        cached_input: scale(price.cached_input, inputRate), cache_write_input: scale(price.cache_write_input, inputRate), cache_write_1h_input: scale(price.cache_write_1h_input, inputRate),
      }
      this.#batchPrices.set(price, found)
    }
    return found
  }

  priced(model: string | undefined): boolean {
    return this.price(model) !== undefined
  }

  maxOutputTokens(model: string | undefined): number | undefined {
    return this.price(model)?.max_output_tokens
  }

  contextWindow(model: string | undefined): number | undefined {
    return this.price(model)?.context_window
  }

  #tell(model: string): void {
    if (!this.#onUnpriced || this.#told.has(model) || this.#told.size >= MAX_UNPRICED_TOLD) return
    this.#told.add(model)
    this.#onUnpriced(model)
  }

  #lookup(model: string): ModelPrice | undefined {
    const exact = this.#prices.get(model)
    if (exact) return exact
    let best: string | undefined
    for (const name of this.#prices.keys()) {
      if (model.startsWith(name) && /^[-@:.]/.test(model.slice(name.length)) && (!best || name.length > best.length)) best = name
    }
    return best ? this.#prices.get(best) : undefined
  }
}
