/**
 * service.tokenizer: the Tokenizer capability, a real BPE tokenizer counting off the event loop
 * (counter.ts). The kernel asks it for the tokens of an answer whose provider reported none; other
 * plugins (dataset statistics) may ask it too. Implied in every gateway; it mounts no routes. The
 * worker thread is one per gateway, kept across reloads.
 */
import { Tokenizer, definePlugin, type Service } from '../../../plugin-api/index.ts'
import { WorkerTokenizer } from './counter.ts'

export default definePlugin<Record<string, never>, Service>({
  id: 'service.tokenizer',
  kind: 'service',
  description: 'Token counts with a real BPE tokenizer (js-tiktoken, o200k_base), bounded and in a worker thread.',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  enabledByDefault: true,
  provides: [Tokenizer],
  setup(ctx) {
    ctx.provide(Tokenizer, ctx.keep('tokenizer', () => new WorkerTokenizer()))
    return {}
  },
})
