/** What every request carries through its steps, a model call or a plain route. */
import type { Principal } from '../../plugin-api/types.ts'
import type { Snapshot } from '../runtime/snapshot.ts'
import type { Span } from '../tracing.ts'

export interface RequestScope {
  readonly snapshot: Snapshot
  readonly requestId: string
  /** The request's span; each step is a child of it. */
  readonly span: Span
  /** The step running now (its span), for what happens inside it: a stage's span, an upstream call's. */
  activeSpan?: Span
  /** Lower-case request headers ({} for calls a service makes). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly method: string
  readonly path: string
  /** Set by `authenticate` (preset for calls a service makes as its caller). */
  principal: Principal | undefined
}
