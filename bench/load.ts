/**
 * One load run (autocannon) with its latencies kept exactly. autocannon's own percentiles come from
 * a histogram of whole milliseconds: at the bare proxy's p99 of 4-5 ms, one step of it moves the
 * gateway's "p99 vs bare" by a fifth or a quarter. Each 2xx response's time (autocannon measures it
 * with hrtime, as a fraction of a millisecond) is kept here instead, and the percentiles are read
 * from the sorted times.
 */
import autocannon from 'autocannon'

export interface LoadRun {
  readonly result: autocannon.Result
  /** Exact percentiles of the 2xx responses' times, in ms (0 when there were none). */
  readonly p50: number
  readonly p99: number
}

export async function load(options: autocannon.Options): Promise<LoadRun> {
  let times = new Float64Array(1 << 16)
  let count = 0
  let run: autocannon.Instance | undefined
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    run = autocannon(options, (err: unknown, result: autocannon.Result) => (err ? reject(err) : resolve(result)))
  })
  run!.on('response', (_client, status, _bytes, ms) => {
    if (status < 200 || status >= 300) return
    if (count === times.length) {
      const grown = new Float64Array(times.length * 2)
      grown.set(times)
      times = grown
    }
    times[count++] = ms
  })
  const result = await done
  const sorted = times.subarray(0, count).sort()
  return { result, p50: quantileOf(sorted, 0.5), p99: quantileOf(sorted, 0.99) }
}

export interface RateRun {
  /** Timed requests answered 2xx, and the rate all were sent at (req/s). */
  readonly answered: number
  readonly sentPerSecond: number
  /** Requests not answered 2xx, the untimed warm-up's included. */
  readonly failed: number
  /** Each timed 2xx response's time in ms, sorted, from when the request was issued (a wait for a free connection counts). */
  readonly times: Float64Array
}

export interface RateOptions {
  readonly url: string
  readonly rate: number
  readonly seconds: number
  readonly connections: number
  readonly method: 'POST' | 'GET'
  readonly headers: Record<string, string>
  readonly body?: string
  /**
   * Seconds sent first at the same rate, on the same connections, and not timed: the timed window
   * then starts with the connections (the client's, and the server's to its upstream) open, as an
   * application's steady traffic keeps them. What a burst after a pause costs is
   * bench/after-idle.ts's to measure.
   */
  readonly warmupSeconds?: number
}

/**
 * An open-loop run: requests are due at a fixed rate whatever the server's answers, as an
 * application's traffic is. autocannon's closed loop (50 connections, each sending its next
 * request when the last one is answered) measures latency at saturation, where it is only the
 * inverse of throughput: a server half as fast has twice the p50 and p99 at once. At a rate every
 * target can carry, the latency is what the server adds to a request. Requests due are issued each
 * millisecond (node's timer resolution) and timed from then, so the tick's own delay is in no row;
 * a request that waits for a free connection is timed from before that wait.
 */
export async function loadAtRate(options: RateOptions): Promise<RateRun> {
  const { Pool } = await import('undici')
  const target = new URL(options.url)
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1 })
  const warm = Math.round(options.rate * (options.warmupSeconds ?? 0))
  const total = warm + Math.round(options.rate * options.seconds)
  const times = new Float64Array(total - warm)
  let answered = 0
  let failed = 0
  let sent = 0
  const pending: Promise<void>[] = []
  const started = performance.now()
  const send = (timed: boolean): Promise<void> => {
    const sentAt = performance.now()
    return pool.request({ path: target.pathname, method: options.method, headers: options.headers, body: options.body })
      .then(async ({ statusCode, body }) => {
        await body.dump()
        if (statusCode < 200 || statusCode >= 300) failed++
        else if (timed) times[answered++] = performance.now() - sentAt
      }, () => { failed++ })
  }
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) * options.rate) / 1000))
      for (; sent < due; sent++) pending.push(send(sent >= warm))
      if (sent === total) { clearInterval(tick); resolve() }
    }, 1)
  })
  const sentPerSecond = total / ((performance.now() - started) / 1000)
  await Promise.all(pending)
  await pool.close()
  return { answered, sentPerSecond, failed, times: times.slice(0, answered).sort() }
}

/** The q-quantile (0..1) of sorted values; 0 when there are none. */
export function quantileOf(sorted: ArrayLike<number>, q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}
