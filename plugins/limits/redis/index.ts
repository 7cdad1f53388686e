/**
 * limiter.redis: rate-limit buckets and budget reservations in Redis, shared by every gateway
 * process and replica. An admission is one EVALSHA of a Lua script (limits.lua) that reads and
 * updates all of a request's buckets and budgets atomically on Redis's clock, so processes sharing
 * Redis together admit exactly the limit and spend exactly the budget; a settlement is another.
 *
 * Every call is bounded by `timeout_ms` here, around the command: node-redis's own command timeout
 * stops once the command is written to the socket, so a Redis that accepts and then hangs would
 * otherwise hold each check until the kernel's guard. Commands are not queued while disconnected:
 * when Redis is down a check fails at once. Either way the kernel applies each policy's
 * on_backend_failure and leaves the backend alone for limits.backend_cooldown_ms before probing it.
 * The client reconnects on its own (backing off up to 2 s); outages and recoveries are logged once.
 */
import { readFileSync } from 'node:fs'
import type { CommandParser } from 'redis'
import type { Logger } from 'pino'
import { definePlugin, withDeadline } from '../../../plugin-api/index.ts'
import { type BudgetReservation, type BudgetSettled, type BudgetStanding, type LimitBucket, type LimitDecision, type Limiter } from '../../contracts/limiter.ts'
import { configSchema, type RedisLimiterConfig } from './schema.ts'

// node-redis (some 700 modules) is imported in setup, so only a gateway that uses this limiter loads it.
type Redis = typeof import('redis')

const limitsScript = (redis: Redis) => redis.defineScript({
  SCRIPT: readFileSync(new URL('./limits.lua', import.meta.url), 'utf8'),
  parseCommand(parser: CommandParser, keys: string[], args: string[]) {
    parser.pushKeysLength(keys)
    parser.push(...args)
  },
  transformReply: (reply: unknown) => reply as (number | string)[],
})

const MAX_RECONNECT_DELAY_MS = 2000

function connect(redis: Redis, config: RedisLimiterConfig, logger: Logger) {
  const client = redis.createClient({
    url: config.url,
    socket: {
      connectTimeout: config.connect_timeout_ms,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS),
    },
    disableOfflineQueue: true,
    commandOptions: { timeout: config.timeout_ms },
    scripts: { limits: limitsScript(redis) },
  })
  let down = false
  // An 'error' listener is required (node-redis emits one per failed reconnect); log each outage once.
  client.on('error', (err: Error) => {
    if (down) return
    down = true
    logger.error({ err: err.message }, 'Redis is unreachable: rate-limit checks fail until it is back (reconnecting)')
  })
  client.on('ready', () => {
    if (down) logger.info('Redis is reachable again')
    down = false
  })
  return client
}

type RedisLimiterClient = ReturnType<typeof connect>

/** The script's keys and arguments: the buckets, then (admission or settlement) the budgets. */
function argsOf(mode: 'take' | 'adjust', buckets: readonly LimitBucket[], prefix: string): { keys: string[]; args: string[] } {
  const keys: string[] = new Array(buckets.length)
  const args: string[] = [mode, String(buckets.length)]
  buckets.forEach((b, i) => {
    keys[i] = prefix + b.key
    args.push(String(b.windowMs), String(b.limit), String(b.cost))
  })
  return { keys, args }
}

function budgetKeys(keys: string[], reservation: BudgetReservation, prefix: string): void {
  for (const b of reservation.budgets) keys.push(`${prefix}${b.key}`, `${prefix}${b.key}:held`)
}

export class RedisLimiter implements Limiter {
  readonly #client: RedisLimiterClient
  readonly #prefix: string
  readonly #timeoutMs: number

  constructor(client: RedisLimiterClient, prefix: string, timeoutMs: number) {
    this.#client = client
    this.#prefix = prefix
    this.#timeoutMs = timeoutMs
  }

  /** A call to Redis, or a rejection once timeout_ms has passed (a late reply is then ignored). */
  #bounded<T>(call: Promise<T>): Promise<T> {
    return withDeadline(call, this.#timeoutMs, `Redis did not answer within ${this.#timeoutMs} ms (timeout_ms)`)
  }

  async take(buckets: readonly LimitBucket[]): Promise<LimitDecision[]> {
    const { keys, args } = argsOf('take', buckets, this.#prefix)
    return decisionsOf(buckets, await this.#bounded(this.#client.limits(keys, args)))
  }

  async adjust(buckets: readonly LimitBucket[]): Promise<void> {
    const { keys, args } = argsOf('adjust', buckets, this.#prefix)
    await this.#bounded(this.#client.limits(keys, args))
  }

  async admit(buckets: readonly LimitBucket[], reservation: BudgetReservation): Promise<{ limits: LimitDecision[]; budgets: BudgetStanding[] }> {
    const { keys, args } = argsOf('take', buckets, this.#prefix)
    budgetKeys(keys, reservation, this.#prefix)
    args.push(reservation.id, String(reservation.usd), String(Math.ceil(reservation.holdMs)))
    for (const b of reservation.budgets) args.push(String(b.usd), String(b.until), b.seedUsd === undefined ? '' : String(b.seedUsd))
    const reply = await this.#bounded(this.#client.limits(keys, args))
    const at = 4 * buckets.length
    return {
      limits: decisionsOf(buckets, reply),
      budgets: reservation.budgets.map((_, j) => {
        const allowed = Number(reply[at + 2 * j])
        return { allowed: allowed === -1 ? 'unseeded' : allowed === 1, committedUsd: Number(reply[at + 2 * j + 1]) }
      }),
    }
  }

  async settle(buckets: readonly LimitBucket[], reservation: BudgetReservation, spentUsd: number): Promise<BudgetSettled[]> {
    const { keys, args } = argsOf('adjust', buckets, this.#prefix)
    budgetKeys(keys, reservation, this.#prefix)
    args.push(reservation.id, String(spentUsd))
    for (const b of reservation.budgets) args.push(String(b.usd), b.alertAt.join(','))
    const reply = await this.#bounded(this.#client.limits(keys, args))
    const settled: BudgetSettled[] = []
    let at = 0
    for (let j = 0; j < reservation.budgets.length; j++) {
      const spent = Number(reply[at])
      const n = Number(reply[at + 1])
      settled.push({ spentUsd: spent, alerts: reply.slice(at + 2, at + 2 + n).map(Number) })
      at += 2 + n
    }
    return settled
  }

  async ready(): Promise<void> {
    if (!this.#client.isReady) throw new Error('not connected to Redis')
    await this.#bounded(this.#client.ping())
  }

  dispose(): void {
    this.#client.destroy()
  }
}

function decisionsOf(buckets: readonly LimitBucket[], reply: readonly (number | string)[]): LimitDecision[] {
  return buckets.map((b, i) => ({
    allowed: Number(reply[4 * i]) === 1,
    limit: b.limit,
    remaining: Number(reply[4 * i + 1]),
    resetMs: Number(reply[4 * i + 2]),
    retryAfterMs: Number(reply[4 * i + 3]),
  }))
}

export default definePlugin<RedisLimiterConfig, Limiter>({
  id: 'limiter.redis',
  kind: 'limiter',
  description: 'Rate-limit buckets (GCRA) and budget reservations in Redis, one Lua script per admission: shared by every gateway process.',
  configSchema,
  async setup(ctx, config) {
    const client = connect(await import('redis'), config, ctx.logger)
    // Start even if Redis is down (policies then fail open or closed); it is /ready's business to say so.
    const inTime = await withDeadline(client.connect(), config.connect_timeout_ms).then(() => true, () => false)
    if (!inTime) ctx.logger.warn('Redis did not answer at start: rate-limit checks fail (open or closed, per policy) until it does')
    return new RedisLimiter(client, config.key_prefix, config.timeout_ms)
  },
})
