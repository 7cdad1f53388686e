/**
 * service.pricing: the Pricing capability, model prices from the shipped catalog
 * (config/models.json) with gateway.yaml's `pricing:` on top. The kernel asks it for the cost of
 * every model call; budgets ask it for a model's output cap. Implied in every gateway; no routes.
 */
import { Pricing, definePlugin, type Service } from '../../../plugin-api/index.ts'
import { PriceTable, type PricingConfig } from './prices.ts'

export default definePlugin<PricingConfig, Service>({
  id: 'service.pricing',
  kind: 'service',
  description: 'Model prices (USD per 1M tokens): the shipped catalog, with gateway.yaml `pricing:` on top.',
  configSchema: {
    type: 'object',
    description: 'Model prices in USD per 1M tokens, by upstream model name (a dated version matches its base name); `batch`: batch lines\' rate by provider.',
    properties: {
      batch: {
        type: 'object',
        description: 'The fraction of its price a batch line (/v1/batches, /v1/messages/batches) is recorded at, by the catalog provider of its model (`{ openai: 0.5, anthropic: 0.5 }`); default 1. The gateway sends batch lines to the provider\'s interactive API, which bills them in full: set this to charge users a batch rate.',
        additionalProperties: { type: 'number', minimum: 0, maximum: 1 },
      },
    },
    additionalProperties: {
      type: 'object',
      additionalProperties: false,
      required: ['input', 'output'],
      properties: {
        input: { type: 'number', minimum: 0 },
        output: { type: 'number', minimum: 0 },
        cached_input: { type: 'number', minimum: 0 },
        cache_write_input: { type: 'number', minimum: 0 },
        cache_write_1h_input: { type: 'number', minimum: 0 },
        max_output_tokens: { type: 'integer', minimum: 1 },
        context_window: { type: 'integer', minimum: 1 },
        batch: { type: 'number', minimum: 0, maximum: 1, description: 'A batch line\'s price as a fraction of this one, every token kind; default its provider\'s `pricing.batch` rate, else 1.' },
        batch_input: { type: 'number', minimum: 0, description: 'A batch line\'s input price where it is not `batch` × input; cached and cache-write prices scale as input does.' },
        batch_output: { type: 'number', minimum: 0, description: 'A batch line\'s output price where it is not `batch` × output.' },
      },
    },
  },
  provides: [Pricing],
  enabledByDefault: { at: ['pricing'] },
  setup(ctx, config) {
    // An unpriced model costs 0: its spend is missing from analytics and budgets never count it, so say so (once per model).
    ctx.provide(Pricing, new PriceTable(config, (model) => ctx.logger.warn(
      { model },
      `model '${model}' has no price in config/models.json or gateway.yaml \`pricing:\`: its calls are recorded at cost 0 and budgets do not count them; add \`pricing: { ${model}: { input: <USD per 1M>, output: <USD per 1M> } }\``,
    )))
    return {}
  },
})
