/** The state of one API request as it moves through the pipeline's stages. */
import type Koa from 'koa'
import type { Principal } from '../plugins/types.ts'
import type { Snapshot } from '../runtime/snapshot.ts'
import type { CompiledRoute } from '../runtime/routes.ts'

export interface Exchange {
  readonly requestId: string
  /** The snapshot this request pinned on arrival; used to the end. */
  readonly snapshot: Snapshot
  readonly ctx: Koa.Context
  /** Aborted when the client goes away: passed through to the upstream call. */
  readonly signal: AbortSignal
  readonly startedAt: number
  principal: Principal | undefined
  route: CompiledRoute | undefined
  /** The model name the client asked for (passed upstream when a target names no model). */
  requestedModel: string | undefined
  /** Whether the client asked for a stream. */
  streaming: boolean
  /** Upstream attempts made so far. */
  attempts: number
  /** The target that answered (provider instance name and upstream model). */
  provider: string | undefined
  upstreamModel: string | undefined
  /** Parameters dropped because the target cannot honour them (sent as x-gateway-warning). */
  readonly warnings: string[]
}

export function newExchange(ctx: Koa.Context): Exchange {
  const controller = new AbortController()
  // 'close' before the response finished means the client went away: stop the upstream work.
  ctx.res.once('close', () => {
    if (!ctx.res.writableFinished) controller.abort(new Error('client closed the connection'))
  })
  return {
    requestId: ctx.state.requestId as string,
    snapshot: ctx.state.snapshot as Snapshot,
    ctx,
    signal: controller.signal,
    startedAt: performance.now(),
    principal: undefined,
    route: undefined,
    requestedModel: undefined,
    streaming: false,
    attempts: 0,
    provider: undefined,
    upstreamModel: undefined,
    warnings: [],
  }
}
